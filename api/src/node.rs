//! The node itself: health, status and bootstrap.

use serde::{Deserialize, Serialize};

/// `GET /health`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Health {
    pub status: String,
    pub peer_id: String,
}

/// A snapshot of the node's swarm.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NetworkStatus {
    pub peer_id: String,
    pub listen_addrs: Vec<String>,
    pub connected_peers: usize,
    pub connections: usize,
    pub routing_table_size: usize,
    pub gossip_mesh_peers: usize,
    /// Records other peers stored in this node's part of the DHT.
    #[serde(default)]
    pub dht_records: usize,
    /// Content keys this node holds provider records for.
    #[serde(default)]
    pub dht_provider_keys: usize,
}

/// `GET /status`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NodeStatus {
    #[serde(flatten)]
    pub network: NetworkStatus,
    /// Packages whose content this node stores.
    pub packages_stored: usize,
    /// Packages this node knows of (stored, announced to it, or seen in searches).
    pub packages_known: usize,
    /// Gossip receipts kept for `/bench/gossip/received`.
    #[serde(default)]
    pub gossip_receipts: usize,
}

/// `POST /bootstrap`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BootstrapRequest {
    /// Multiaddrs, best ending in `/p2p/<peer id>`; without it the address is dialed and the
    /// peer id learned from the connection.
    pub peers: Vec<String>,
}

/// A finished Kademlia bootstrap.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BootstrapOutcome {
    pub duration_s: f64,
    pub routing_table_size: usize,
}
