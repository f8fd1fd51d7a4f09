//! The benchmark endpoints under `/bench`: each runs real operations against the network and
//! answers with one raw sample per operation, so percentiles are exact.

use std::net::{IpAddr, SocketAddr};

use serde::{Deserialize, Serialize};

use crate::market::Scope;
use crate::transport::Transport;

/// The outcome of a benchmark request on one node: one sample per successful operation, in
/// seconds, and one message per failed one.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PhaseResult {
    pub samples: Vec<f64>,
    pub errors: Vec<String>,
    /// Wall-clock time of the whole request on this node.
    pub wall_s: f64,
    /// Operations not made, each with why: not failures of the network, so neither samples
    /// nor errors (a connection this node's own limits do not allow).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<String>,
    /// Kademlia requests per successful lookup (DHT lookups only), aligned with `samples`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kad_requests: Vec<u32>,
    /// The peers dialed (`POST /bench/connect` only): indices into the request's `peers`, in
    /// the order they were dialed, one per sample or error.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dialed: Vec<usize>,
}

fn default_concurrency() -> usize {
    8
}

/// `POST /bench/dht-lookup`: timed DHT lookups of package records.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DhtLookupBench {
    /// Package names to look up.
    pub keys: Vec<String>,
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
}

/// `POST /bench/search`: timed searches.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SearchBench {
    pub queries: Vec<String>,
    #[serde(default)]
    pub scope: Scope,
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    pub limit: Option<usize>,
    pub timeout_ms: Option<u64>,
}

/// `POST /bench/gossip`: probes published on the announce topic.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GossipBench {
    pub count: usize,
    #[serde(default)]
    pub payload_bytes: usize,
    #[serde(default)]
    pub interval_ms: u64,
}

/// The answer to [`GossipBench`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GossipPublished {
    /// Ids of the probes sent, as receivers report them in [`GossipSample::id`].
    pub ids: Vec<String>,
    /// Latency of each publish call (not of propagation).
    pub result: PhaseResult,
}

/// One gossip message received by a node.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GossipSample {
    /// `<origin peer>/<probe id>` for probes, `<name>@<version>` for announcements.
    pub id: String,
    pub latency_s: f64,
    pub received_unix_nanos: u64,
}

/// `GET /bench/gossip/received`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GossipReceived {
    pub samples: Vec<GossipSample>,
}

/// `POST /bench/rtt`: round trips to other peers with no application work in between: TCP
/// handshakes on their libp2p port (a SYN there, a SYN-ACK back), or for QUIC a packet of
/// an unknown version answered by a version negotiation packet.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RttProbe {
    /// `ip:port` of each peer's libp2p listener.
    pub targets: Vec<SocketAddr>,
    /// The listeners' transport (TCP unless given).
    #[serde(default)]
    pub transport: Transport,
    /// Round trips per target.
    pub count: usize,
    /// Source address to send from (the node's own, when it has several).
    pub bind: Option<IpAddr>,
    #[serde(default = "default_rtt_timeout_ms")]
    pub timeout_ms: u64,
    /// Least time from the start of one round trip to the start of the next, in
    /// milliseconds (0: back to back). A link that keeps packet order holds a probe behind
    /// the previous probe's packets still in flight; spacing them out measures the link alone.
    #[serde(default)]
    pub interval_ms: u64,
}

fn default_rtt_timeout_ms() -> u64 {
    5_000
}

/// `POST /bench/connect`: new connections to peers, timed from the dial to the established
/// connection (for TCP: the TCP, Noise and Yamux handshakes; for QUIC: the QUIC handshake),
/// each closed again once established. The samples are one per peer; the peers are dialed
/// one after the other so that they do not queue behind each other.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConnectBench {
    /// libp2p addresses, each ending in `/p2p/<peer id>`.
    pub peers: Vec<String>,
    #[serde(default = "default_rtt_timeout_ms")]
    pub timeout_ms: u64,
    /// How many of `peers` to time, in order; the ones after are spares, dialed in place of
    /// a peer this node allows no new connection to (it keeps at most two to one peer, and
    /// both ends dialing each other at once leaves two). Absent: all of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wanted: Option<usize>,
}

/// One [`PhaseResult`] per target of an [`RttProbe`], in the same order.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RttResult {
    pub targets: Vec<PhaseResult>,
}
