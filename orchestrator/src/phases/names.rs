//! The names of the reports the phases produce: what scenario targets (`<name>.<statistic>`),
//! the plots, `compare` and the dashboards refer to. Defined here once.

pub const BOOTSTRAP: &str = "bootstrap";
/// Each peer's share of a core while the network is at rest (`cluster_cores`: their sum).
pub const IDLE: &str = "idle";
pub const PUBLISH: &str = "publish";
/// Time from a dial to the established connection (transport, security and multiplexer).
pub const CONNECT: &str = "connect";
pub const DHT_LOOKUP: &str = "dht_lookup";
pub const SEARCH_LOCAL: &str = "search_local";
pub const SEARCH_NETWORK: &str = "search_network";
/// Latency of every gossip receipt.
pub const GOSSIP: &str = "gossip";
/// Per message, the time until the last peer had it.
pub const GOSSIP_NETWORK_WIDE: &str = "gossip_network_wide";
/// `concurrent_search_<level>`, one per level.
pub const CONCURRENT_SEARCH_PREFIX: &str = "concurrent_search_";
pub const INSTALL: &str = "install";
pub const CHURN_LOOKUP: &str = "churn_lookup";
pub const CHURN_REJOIN: &str = "churn_rejoin";
pub const CHURN_RECOVERY: &str = "churn_recovery";
pub const PARTITION_LOOKUP: &str = "partition_lookup";
pub const PARTITION_RECOVERY: &str = "partition_recovery";
pub const PARTITION_REACHABILITY: &str = "partition_reachability";
pub const CLI_SEARCH: &str = "cli_search";
pub const CLI_INSTALL: &str = "cli_install";
pub const CLI_PUBLISH: &str = "cli_publish";
/// Resident memory of every peer at the end of the run, in bytes.
pub const PEER_RSS: &str = "peer_rss";
/// CPU seconds of every peer at the end of the run.
pub const PEER_CPU: &str = "peer_cpu";

/// The report of concurrency level `level`.
pub fn concurrent_search(level: usize) -> String {
    format!("{CONCURRENT_SEARCH_PREFIX}{level}")
}
