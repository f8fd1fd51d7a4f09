//! Network settings of a node.

use std::time::Duration;

use libp2p::Multiaddr;

use super::connection_manager::{Watermarks, DEFAULT_GRACE};
use super::store_guard::StoreLimits;

/// The transports a node's swarm speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TransportKind {
    /// TCP + Noise + Yamux, and QUIC: what real deployments, containers and processes use.
    /// The listen addresses decide which of the two a node's peers reach it over
    /// (`/ip4/…/tcp/…` or `/ip4/…/udp/…/quic-v1`); it dials whichever a peer listens on.
    #[default]
    Ip,
    /// libp2p's in-process memory transport + Noise + Yamux: for networks of hundreds of
    /// nodes in one process (benchmarks), which TCP would exhaust file descriptors for.
    Memory,
}

/// How the node's swarm is set up.
///
/// Defaults: TCP, listen on `/ip4/0.0.0.0/tcp/0`, at most 256 established connections (2 per
/// peer), trimmed back to 32 peers whenever more than 64 are connected (sparing gossip mesh
/// peers and peers active in the last 20 s), idle connections closed after 60 s, Kademlia
/// queries and requests time out after 30 s and 15 s, the routing table refreshed every
/// 5 minutes, connections pinged every 60 s, gossipsub heartbeat every second (the
/// specification's default), the DHT store bounded by [`StoreLimits`]'s defaults.
#[derive(Debug, Clone)]
pub struct NetworkConfig {
    pub transport: TransportKind,
    pub listen: Vec<Multiaddr>,
    pub max_connections: u32,
    pub max_connections_per_peer: u32,
    /// Connected peers the connection manager trims between (`connection_manager.rs`).
    pub watermarks: Watermarks,
    /// How long a peer is spared by the connection manager after it connected or was active.
    pub connection_grace: Duration,
    pub idle_timeout: Duration,
    pub query_timeout: Duration,
    /// How often the node refreshes its routing table with a full Kademlia bootstrap (libp2p's
    /// default is 5 minutes); `None` turns the periodic refresh off. It runs on the node's
    /// own timer (`bootstraps.rs`).
    pub periodic_bootstrap: Option<Duration>,
    pub request_timeout: Duration,
    /// How often each connection is pinged. A dead peer shows itself sooner through a failed
    /// request or a reset connection; the ping finds the silent ones, and each one costs both
    /// ends a wake-up per connection.
    pub ping_interval: Duration,
    pub gossip_heartbeat: Duration,
    /// What other peers may store at this node (`store_guard.rs`).
    pub store: StoreLimits,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        Self {
            transport: TransportKind::Ip,
            listen: vec!["/ip4/0.0.0.0/tcp/0".parse().expect("valid multiaddr")],
            max_connections: 256,
            max_connections_per_peer: 2,
            watermarks: Watermarks::for_limit(256),
            connection_grace: DEFAULT_GRACE,
            idle_timeout: Duration::from_secs(60),
            query_timeout: Duration::from_secs(30),
            periodic_bootstrap: Some(Duration::from_secs(5 * 60)),
            request_timeout: Duration::from_secs(15),
            ping_interval: Duration::from_secs(60),
            gossip_heartbeat: Duration::from_secs(1),
            store: StoreLimits::default(),
        }
    }
}
