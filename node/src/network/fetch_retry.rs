//! A fetch from a peer that could not be dialed: find the peer in the DHT, then ask again.
//!
//! A peer that was out of reach for a while (stopped, partitioned away, restarted on another
//! address) can be left with no working address here although the network knows where it is:
//! Kademlia keeps a peer's last address in the routing table even after it failed, may have
//! evicted the peer for another, and identify forgets an address once a dial to it failed.
//! Fetching from such a provider fails to dial ("Failed to dial the requested peer"), and an
//! install that has no other provider fails with it. So the first dial failure of a fetch
//! drops the stale entry, looks the peer's own id up (a Kademlia lookup, which dials the
//! peer at the addresses its neighbours report and ends with those that answered), and sends
//! the request once more, to the addresses found. A second failure is the fetch's answer.

use std::collections::HashMap;

use libp2p::kad::store::MemoryStore;
use libp2p::kad::{self, QueryId};
use libp2p::request_response::{self, OutboundFailure, OutboundRequestId};
use libp2p::PeerId;

use super::command::Reply;
use super::error::NetworkError;
use super::protocol::{FetchRequest, FetchResponse};

/// Why a fetch's second attempt was not made.
#[derive(Debug, thiserror::Error)]
#[error("the dial failed and a DHT lookup of the peer found no address of it that answers")]
pub(crate) struct PeerNotFound;

/// Fetches that may still be sent once more, and lookups of the peers they wait for.
#[derive(Default)]
pub(super) struct FetchRetries {
    /// First attempts in flight, with what to send again. An entry goes with the attempt's
    /// answer or failure, so there are never more than fetches in flight.
    first: HashMap<OutboundRequestId, FetchRequest>,
    /// Lookups of a peer that could not be dialed, each with the fetch waiting for it.
    finds: HashMap<QueryId, (PeerId, FetchRequest, Reply<FetchResponse>)>,
}

type FetchEvent = request_response::Event<FetchRequest, FetchResponse>;

impl FetchRetries {
    /// A first attempt was sent as `id`.
    pub(super) fn sent(&mut self, id: OutboundRequestId, request: FetchRequest) {
        self.first.insert(id, request);
    }

    /// Looks at a fetch event before it answers its request: a first attempt that failed to
    /// dial starts a lookup of the peer and is taken out of `pending` (its reply waits for
    /// the lookup), and `None` is returned. Every other event is handed back.
    pub(super) fn on_event(
        &mut self,
        event: FetchEvent,
        pending: &mut HashMap<OutboundRequestId, Reply<FetchResponse>>,
        kad: &mut kad::Behaviour<MemoryStore>,
    ) -> Option<FetchEvent> {
        let id = match &event {
            request_response::Event::Message {
                message: request_response::Message::Response { request_id, .. },
                ..
            }
            | request_response::Event::OutboundFailure { request_id, .. } => *request_id,
            _ => return Some(event),
        };
        let first = self.first.remove(&id);
        let request_response::Event::OutboundFailure {
            peer,
            error: OutboundFailure::DialFailure,
            ..
        } = &event
        else {
            return Some(event);
        };
        let peer = *peer;
        let (Some(request), Some(reply)) = (first, pending.remove(&id)) else {
            return Some(event);
        };
        tracing::debug!(%peer, "a fetch could not dial its peer; looking the peer up in the DHT");
        // The entry's last address is the one that failed: were it kept, the lookup would
        // try it, fail, and leave the peer out of what it found.
        kad.remove_peer(&peer);
        let query = kad.get_closest_peers(peer);
        self.finds.insert(query, (peer, request, reply));
        None
    }

    /// A lookup finished. If it was one of these and found the peer, the fetch is sent
    /// again to the addresses found, and its reply goes back to `pending`; if it did not,
    /// the fetch is answered with why. Returns false when `id` is not one of these lookups.
    pub(super) fn on_closest_peers(
        &mut self,
        id: QueryId,
        result: &kad::GetClosestPeersResult,
        fetch: &mut request_response::cbor::Behaviour<FetchRequest, FetchResponse>,
        pending: &mut HashMap<OutboundRequestId, Reply<FetchResponse>>,
    ) -> bool {
        let Some((peer, request, reply)) = self.finds.remove(&id) else {
            return false;
        };
        let found = match result {
            Ok(ok) => &ok.peers,
            Err(kad::GetClosestPeersError::Timeout { peers, .. }) => peers,
        };
        match found.iter().find(|p| p.peer_id == peer) {
            Some(info) => {
                tracing::debug!(%peer, addresses = info.addrs.len(), "found the peer; fetching again");
                let retry = fetch.send_request_with_addresses(&peer, request, info.addrs.clone());
                pending.insert(retry, reply);
            }
            None => {
                let _ = reply.send(Err(NetworkError::Request {
                    peer,
                    source: super::error::cause(PeerNotFound),
                }));
            }
        }
        true
    }
}
