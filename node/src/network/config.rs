//! Network settings of a node.

use std::time::Duration;

use libp2p::Multiaddr;

/// The transport peers talk over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TransportKind {
    /// TCP + Noise + Yamux: what real deployments, containers and processes use.
    #[default]
    Tcp,
    /// libp2p's in-process memory transport + Noise + Yamux: for networks of hundreds of
    /// nodes in one process (benchmarks), which TCP would exhaust file descriptors for.
    Memory,
}

/// How the node's swarm is set up.
///
/// Defaults: TCP, listen on `/ip4/0.0.0.0/tcp/0`, at most 256 established connections (2 per
/// peer), idle connections closed after 60 s, Kademlia queries and requests time out after
/// 30 s and 15 s, gossipsub heartbeat every 500 ms.
#[derive(Debug, Clone)]
pub struct NetworkConfig {
    pub transport: TransportKind,
    pub listen: Vec<Multiaddr>,
    pub max_connections: u32,
    pub max_connections_per_peer: u32,
    pub idle_timeout: Duration,
    pub query_timeout: Duration,
    pub request_timeout: Duration,
    pub gossip_heartbeat: Duration,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        Self {
            transport: TransportKind::Tcp,
            listen: vec!["/ip4/0.0.0.0/tcp/0".parse().expect("valid multiaddr")],
            max_connections: 256,
            max_connections_per_peer: 2,
            idle_timeout: Duration::from_secs(60),
            query_timeout: Duration::from_secs(30),
            request_timeout: Duration::from_secs(15),
            gossip_heartbeat: Duration::from_millis(500),
        }
    }
}
