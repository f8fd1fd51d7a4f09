//! Prometheus metric names (`shared/DESIGN.md`), in base units. The node registers them; the
//! orchestrator, the dashboards and the tests read them.
//!
//! Counters are named here without the `_total` suffix that the exposition adds; the
//! `*_TOTAL` constants are the names as they appear in the scraped text.

pub const DHT_LOOKUP_SECONDS: &str = "p2p_dht_lookup_seconds";
pub const SEARCH_SECONDS: &str = "p2p_search_seconds";
pub const PUBLISH_SECONDS: &str = "p2p_publish_seconds";
pub const INSTALL_SECONDS: &str = "p2p_install_seconds";
pub const BOOTSTRAP_SECONDS: &str = "p2p_bootstrap_seconds";
pub const GOSSIP_PROPAGATION_SECONDS: &str = "p2p_gossip_propagation_seconds";
pub const CONNECTED_PEERS: &str = "p2p_connected_peers";
pub const ROUTING_TABLE_PEERS: &str = "p2p_routing_table_peers";
pub const PACKAGES_STORED: &str = "p2p_packages_stored";
/// Swarm events the event loop handled (counter).
pub const SWARM_EVENTS: &str = "p2p_swarm_events";
/// Bootstraps libp2p-kad started by itself and the node ended because its routing table was
/// already full (counter).
pub const BOOTSTRAPS_CUT: &str = "p2p_bootstraps_cut";
pub const PROCESS_RESIDENT_MEMORY_BYTES: &str = "process_resident_memory_bytes";
/// Process CPU time (counter).
pub const PROCESS_CPU_SECONDS: &str = "process_cpu_seconds";
/// [`PROCESS_CPU_SECONDS`] as scraped.
pub const PROCESS_CPU_SECONDS_TOTAL: &str = "process_cpu_seconds_total";
/// Manifests, DHT records, gossip messages and requests this node refused (counter), with
/// the labels [`SOURCE_LABEL`] (`publish`, `gossip`, `dht`, `search`, `install`, `fetch`) and
/// [`REASON_LABEL`] (`invalid`, `conflict`: a name owned by another key, `limit`: a cap).
pub const REJECTED: &str = "p2p_rejected";
/// [`REJECTED`] as scraped.
pub const REJECTED_TOTAL: &str = "p2p_rejected_total";
pub const SOURCE_LABEL: &str = "source";
pub const REASON_LABEL: &str = "reason";
/// The label of [`SEARCH_SECONDS`] that tells local from network searches.
pub const SCOPE_LABEL: &str = "scope";
