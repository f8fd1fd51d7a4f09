use libp2p::{Multiaddr, PeerId};

#[derive(Debug, Clone, thiserror::Error)]
pub enum NetworkError {
    #[error("the network event loop has stopped")]
    EventLoopGone,
    #[error("{op} timed out after {after_ms} ms")]
    Timeout { op: &'static str, after_ms: u128 },
    #[error("building the swarm failed: {0}")]
    Build(String),
    #[error("cannot listen on {addr}: {detail}")]
    Listen { addr: Multiaddr, detail: String },
    #[error("could not reach any bootstrap address: {0}")]
    Unreachable(String),
    #[error("no known peers: give bootstrap addresses first")]
    NoKnownPeers,
    #[error("no record found in the DHT")]
    RecordNotFound,
    #[error("kademlia {op} failed: {detail}")]
    Kademlia { op: &'static str, detail: String },
    #[error("request to {peer} failed: {detail}")]
    Request { peer: PeerId, detail: String },
    #[error("gossip publish failed: {0}")]
    Publish(String),
}
