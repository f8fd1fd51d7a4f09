use std::time::SystemTime;

use libp2p::gossipsub::MessageId;
use libp2p::request_response::ResponseChannel;
use libp2p::PeerId;

use super::protocol::{FetchRequest, FetchResponse, SearchRequest, SearchResponse};

/// What peers ask of this node, handed from the event loop to the marketplace.
#[derive(Debug)]
pub enum Event {
    InboundSearch {
        peer: PeerId,
        request: SearchRequest,
        channel: ResponseChannel<SearchResponse>,
    },
    InboundFetch {
        peer: PeerId,
        request: FetchRequest,
        channel: ResponseChannel<FetchResponse>,
    },
    /// A gossip message on the announce topic, new to this node; `received_at` is taken in
    /// the event loop as soon as the swarm yields it. It is forwarded to other peers only
    /// once the marketplace has judged it ([`Client::judge_gossip`](super::Client::judge_gossip)).
    Gossip {
        id: MessageId,
        /// The peer that passed it on (not necessarily its author).
        propagation_source: PeerId,
        data: Vec<u8>,
        received_at: SystemTime,
    },
}
