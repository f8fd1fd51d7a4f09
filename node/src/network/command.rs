//! What a [`Client`](super::Client) asks of the event loop, and the replies.

use std::collections::HashSet;

use libp2p::gossipsub::MessageId;
use libp2p::request_response::ResponseChannel;
use libp2p::{Multiaddr, PeerId};
use p2p_api::{BootstrapOutcome, NetworkStatus};
use tokio::sync::oneshot;

use super::error::NetworkError;
use super::protocol::{FetchRequest, FetchResponse, SearchRequest, SearchResponse};

/// A record found in the DHT, with the number of Kademlia requests the query made.
#[derive(Debug, Clone)]
pub struct RecordLookup {
    pub value: Vec<u8>,
    pub kad_requests: u32,
}

pub(super) type Reply<T> = oneshot::Sender<Result<T, NetworkError>>;

/// What a [`Client`](super::Client) asks of the event loop.
#[derive(Debug)]
pub(super) enum Command {
    Status {
        reply: oneshot::Sender<NetworkStatus>,
    },
    ConnectedPeers {
        reply: oneshot::Sender<Vec<PeerId>>,
    },
    Bootstrap {
        peers: Vec<Multiaddr>,
        reply: Reply<BootstrapOutcome>,
    },
    /// Opens a new connection to `peer` at `addr`, answers with how long it took to
    /// establish, and closes it again.
    Connect {
        peer: PeerId,
        addr: Multiaddr,
        reply: Reply<std::time::Duration>,
    },
    PutRecord {
        key: Vec<u8>,
        value: Vec<u8>,
        reply: Reply<()>,
    },
    GetRecord {
        key: Vec<u8>,
        reply: Reply<RecordLookup>,
    },
    StartProviding {
        key: Vec<u8>,
        reply: Reply<()>,
    },
    GetProviders {
        key: Vec<u8>,
        reply: Reply<HashSet<PeerId>>,
    },
    Gossip {
        data: Vec<u8>,
        reply: Reply<()>,
    },
    Search {
        peer: PeerId,
        request: SearchRequest,
        reply: Reply<SearchResponse>,
    },
    Fetch {
        peer: PeerId,
        request: FetchRequest,
        reply: Reply<FetchResponse>,
    },
    RespondSearch {
        channel: ResponseChannel<SearchResponse>,
        response: SearchResponse,
    },
    RespondFetch {
        channel: ResponseChannel<FetchResponse>,
        response: FetchResponse,
    },
    /// Whether gossip message `id` is valid: forwarded when it is, dropped when not.
    JudgeGossip {
        id: MessageId,
        propagation_source: PeerId,
        valid: bool,
    },
}
