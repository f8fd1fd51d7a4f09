//! Request and response bodies of the HTTP control API. Defined once, used by the node, the
//! CLI, the orchestrator and the tests.

use serde::{Deserialize, Serialize};

use crate::package::{SearchHit, SignedManifest};

pub use crate::network::{BootstrapOutcome, NetworkStatus};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Health {
    pub status: String,
    pub peer_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NodeStatus {
    #[serde(flatten)]
    pub network: NetworkStatus,
    /// Packages whose content this node stores.
    pub packages_stored: usize,
    /// Packages this node knows of (stored, announced to it, or seen in searches).
    pub packages_known: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BootstrapRequest {
    /// Multiaddrs, best ending in `/p2p/<peer id>`; without it the address is dialed and the
    /// peer id learned from the connection.
    pub peers: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PublishRequest {
    pub name: String,
    pub version: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub tags: Vec<String>,
    /// The package content, base64 (standard alphabet, padded).
    pub content_base64: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PublishOutcome {
    pub package: SignedManifest,
    /// Whether at least one peer stored the DHT record.
    pub dht_record_stored: bool,
    /// Whether the provider record reached at least one peer.
    pub providing: bool,
    /// Whether the announcement went out on gossip.
    pub announced: bool,
    /// What went wrong on the network side; the package is stored locally regardless.
    pub warnings: Vec<String>,
    pub duration_s: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    #[default]
    Local,
    Network,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SearchParams {
    pub q: String,
    #[serde(default)]
    pub scope: Scope,
    pub limit: Option<usize>,
    /// Deadline for a network search, in milliseconds.
    pub timeout_ms: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SearchOutcome {
    pub scope: Scope,
    pub hits: Vec<SearchHit>,
    pub peers_asked: usize,
    pub peers_answered: usize,
    pub duration_s: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LookupOutcome {
    pub package: SignedManifest,
    pub kad_requests: u32,
    pub duration_s: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VersionParam {
    pub version: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InstallRequest {
    pub name: String,
    pub version: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InstallOutcome {
    pub package: SignedManifest,
    /// The peer the content came from; `None` when it was already stored here.
    pub provider: Option<String>,
    /// Providers that failed before one succeeded, with the reason.
    pub rejected: Vec<String>,
    pub already_installed: bool,
    pub duration_s: f64,
}

/// The outcome of a benchmark phase on one node: one sample per successful operation, in
/// seconds, and one message per failed one.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PhaseResult {
    pub samples: Vec<f64>,
    pub errors: Vec<String>,
    /// Wall-clock time of the whole phase on this node.
    pub wall_s: f64,
    /// Kademlia requests per successful lookup (DHT phase only), aligned with `samples`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kad_requests: Vec<u32>,
}

fn default_concurrency() -> usize {
    8
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DhtLookupPhase {
    /// Package names to look up.
    pub keys: Vec<String>,
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SearchPhase {
    pub queries: Vec<String>,
    #[serde(default)]
    pub scope: Scope,
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    pub limit: Option<usize>,
    pub timeout_ms: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GossipPhase {
    pub count: usize,
    #[serde(default)]
    pub payload_bytes: usize,
    #[serde(default)]
    pub interval_ms: u64,
}

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

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GossipReceived {
    pub samples: Vec<GossipSample>,
}

/// Round trips to other peers, timed as TCP handshakes on their libp2p port.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RttPhase {
    /// `ip:port` of each peer's libp2p listener.
    pub targets: Vec<std::net::SocketAddr>,
    /// Handshakes per target.
    pub count: usize,
    /// Source address to send from (the node's own, when it has several).
    pub bind: Option<std::net::IpAddr>,
    #[serde(default = "default_rtt_timeout_ms")]
    pub timeout_ms: u64,
}

fn default_rtt_timeout_ms() -> u64 {
    5_000
}

/// One [`PhaseResult`] per target of an [`RttPhase`], in the same order.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RttResult {
    pub targets: Vec<PhaseResult>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
}
