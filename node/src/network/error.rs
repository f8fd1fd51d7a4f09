//! What can go wrong on the network side. Causes from libp2p are kept as sources, so a
//! message can name them all (see `p2p_api::error::chain`).

use std::sync::Arc;

use libp2p::{Multiaddr, PeerId};

/// The underlying libp2p error, shared so that one failure can answer several waiters.
pub type Cause = Arc<dyn std::error::Error + Send + Sync>;

pub(crate) fn cause(e: impl std::error::Error + Send + Sync + 'static) -> Cause {
    Arc::new(e)
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum NetworkError {
    #[error("the network event loop has stopped")]
    EventLoopGone,
    #[error("{op} timed out after {after_ms} ms")]
    Timeout { op: &'static str, after_ms: u128 },
    #[error("building the swarm: {what}")]
    Build {
        what: &'static str,
        #[source]
        source: Cause,
    },
    #[error("invalid network settings: {0}")]
    Settings(String),
    #[error("cannot listen on {addr}")]
    Listen {
        addr: Multiaddr,
        #[source]
        source: Cause,
    },
    #[error("could not reach any bootstrap address: {}", .0.join("; "))]
    Unreachable(Vec<String>),
    #[error("dialing {peer} failed")]
    Dial {
        peer: PeerId,
        #[source]
        source: Cause,
    },
    /// This node's own connection limits (`connection_limits`) refused the connection: for
    /// a new connection to a peer, that it has the most it keeps to one peer already.
    #[error("this node allows no new connection to {peer}")]
    ConnectionLimit {
        peer: PeerId,
        #[source]
        source: Cause,
    },
    #[error("no known peers: give bootstrap addresses first")]
    NoKnownPeers,
    #[error("no record found in the DHT")]
    RecordNotFound,
    #[error("kademlia {op} failed")]
    Kademlia {
        op: &'static str,
        #[source]
        source: Cause,
    },
    #[error("request to {peer} failed")]
    Request {
        peer: PeerId,
        #[source]
        source: Cause,
    },
    #[error("gossip publish failed")]
    Publish(#[source] Cause),
}
