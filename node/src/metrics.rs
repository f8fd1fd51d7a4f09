//! The node's Prometheus metrics, under the names of the contract (`p2p_api::metrics`,
//! `shared/DESIGN.md`). libp2p's own metrics (libp2p-metrics) live in the same registry under
//! `libp2p_`.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use nix::sys::resource::{getrusage, UsageWho};
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use p2p_api::metrics::{
    BOOTSTRAPS_CUT, BOOTSTRAP_SECONDS, CONNECTED_PEERS, DHT_LOOKUP_SECONDS,
    GOSSIP_PROPAGATION_SECONDS, INSTALL_SECONDS, PACKAGES_STORED, PROCESS_CPU_SECONDS,
    PROCESS_RESIDENT_MEMORY_BYTES, PUBLISH_SECONDS, REASON_LABEL, REJECTED, ROUTING_TABLE_PEERS,
    SCOPE_LABEL, SEARCH_SECONDS, SOURCE_LABEL, SWARM_EVENTS,
};
use p2p_api::Scope;

/// The label set of the search histogram: `scope="local"` or `scope="network"`.
type ScopeLabel = [(&'static str, &'static str); 1];

fn scope_label(scope: Scope) -> ScopeLabel {
    [(SCOPE_LABEL, scope.as_str())]
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// The label set of the rejection counter: where the input came from, and why it was refused.
type RejectionLabel = [(&'static str, &'static str); 2];

/// 50 µs to about 105 s in factors of two: covers a local search and a slow install.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.000_05, 2.0, 22))
}

/// The marketplace's own metrics; cheap to clone, shared by the event loop and the API.
#[derive(Debug, Clone)]
pub struct Metrics {
    pub dht_lookup: Histogram,
    search: HistogramFamily<ScopeLabel>,
    pub publish: Histogram,
    pub install: Histogram,
    pub bootstrap: Histogram,
    pub gossip_propagation: Histogram,
    pub connected_peers: Gauge,
    pub routing_table_peers: Gauge,
    pub packages_stored: Gauge,
    /// Swarm events the event loop has handled (the unit of "CPU per event cycle").
    pub swarm_events: Counter,
    /// Bootstraps libp2p started by itself and the node ended (`network/bootstraps.rs`).
    pub bootstraps_cut: Counter,
    rejected: Family<RejectionLabel, Counter>,
}

impl Metrics {
    /// Registers every metric of the node (and the process collector) in `registry`.
    pub fn register(registry: &mut Registry) -> Self {
        let m = Self {
            dht_lookup: latency_histogram(),
            search: Family::new_with_constructor(latency_histogram),
            publish: latency_histogram(),
            install: latency_histogram(),
            bootstrap: latency_histogram(),
            gossip_propagation: latency_histogram(),
            connected_peers: Gauge::default(),
            routing_table_peers: Gauge::default(),
            packages_stored: Gauge::default(),
            swarm_events: Counter::default(),
            bootstraps_cut: Counter::default(),
            rejected: Family::default(),
        };
        registry.register(
            DHT_LOOKUP_SECONDS,
            "DHT record lookup latency",
            m.dht_lookup.clone(),
        );
        // Both scopes exist from the start, so that a dashboard sees zero rather than nothing
        // and `rate()` sees the first searches.
        for scope in [Scope::Local, Scope::Network] {
            drop(m.search.get_or_create(&scope_label(scope)));
        }
        registry.register(
            SEARCH_SECONDS,
            "Package search latency by scope",
            m.search.clone(),
        );
        registry.register(
            PUBLISH_SECONDS,
            "Package publish latency",
            m.publish.clone(),
        );
        registry.register(
            INSTALL_SECONDS,
            "Package install latency",
            m.install.clone(),
        );
        registry.register(
            BOOTSTRAP_SECONDS,
            "Kademlia bootstrap duration",
            m.bootstrap.clone(),
        );
        registry.register(
            GOSSIP_PROPAGATION_SECONDS,
            "Gossip message latency from publish to receipt",
            m.gossip_propagation.clone(),
        );
        registry.register(
            CONNECTED_PEERS,
            "Peers with an open connection",
            m.connected_peers.clone(),
        );
        registry.register(
            ROUTING_TABLE_PEERS,
            "Peers in the Kademlia routing table",
            m.routing_table_peers.clone(),
        );
        registry.register(
            PACKAGES_STORED,
            "Packages whose content this node stores",
            m.packages_stored.clone(),
        );
        registry.register(
            SWARM_EVENTS,
            "Swarm events handled by the network event loop",
            m.swarm_events.clone(),
        );
        registry.register(
            BOOTSTRAPS_CUT,
            "Bootstraps libp2p-kad started by itself, ended because the routing table was full",
            m.bootstraps_cut.clone(),
        );
        registry.register(
            REJECTED,
            "Manifests, DHT records, gossip messages and requests refused, by source and reason",
            m.rejected.clone(),
        );
        registry.register_collector(Box::new(ProcessCollector));
        m
    }

    /// Counts one refused input: `source` is where it came from (`publish`, `gossip`, `dht`,
    /// `search`, `install`, `fetch`), `reason` why (`invalid`, `conflict`, `limit`).
    pub fn rejected(&self, source: &'static str, reason: &'static str) {
        self.rejected
            .get_or_create(&[(SOURCE_LABEL, source), (REASON_LABEL, reason)])
            .inc();
    }

    /// How many inputs from `source` were refused for `reason` so far.
    pub fn rejections(&self, source: &'static str, reason: &'static str) -> u64 {
        self.rejected
            .get_or_create(&[(SOURCE_LABEL, source), (REASON_LABEL, reason)])
            .get()
    }

    pub fn observe_search(&self, scope: Scope, elapsed: Duration) {
        self.search
            .get_or_create(&scope_label(scope))
            .observe(elapsed.as_secs_f64());
    }
}

/// The registry, frozen after start-up and shared with the `/metrics` handler.
#[derive(Clone)]
pub struct MetricsRegistry(Arc<Registry>);

impl fmt::Debug for MetricsRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MetricsRegistry")
    }
}

impl MetricsRegistry {
    pub fn new(registry: Registry) -> Self {
        Self(Arc::new(registry))
    }

    /// The OpenMetrics text exposition.
    pub fn encode(&self) -> Result<String, fmt::Error> {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.0)?;
        Ok(out)
    }

    /// The classic Prometheus text format (0.0.4), for clients that do not ask for
    /// OpenMetrics (`promtool check metrics`, curl).
    pub fn encode_prometheus_text(&self) -> Result<String, fmt::Error> {
        Ok(openmetrics_to_prometheus_text(&self.encode()?))
    }
}

/// Rewrites an OpenMetrics exposition as Prometheus text format 0.0.4: counters are named
/// with their `_total` suffix in `# HELP`/`# TYPE`, and `# UNIT` and `# EOF` go away.
pub fn openmetrics_to_prometheus_text(openmetrics: &str) -> String {
    let counters: std::collections::HashSet<&str> = openmetrics
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE ")?.strip_suffix(" counter"))
        .collect();
    let mut out = String::with_capacity(openmetrics.len());
    for line in openmetrics.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        let renamed = ["# HELP ", "# TYPE "].iter().find_map(|prefix| {
            let rest = line.strip_prefix(prefix)?;
            let (name, tail) = rest.split_once(' ')?;
            counters
                .contains(name)
                .then(|| format!("{prefix}{name}_total {tail}"))
        });
        match renamed {
            Some(l) => out.push_str(&l),
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

/// Reads the standard process metrics from `/proc/self` at every scrape.
#[derive(Debug)]
struct ProcessCollector;

impl prometheus_client::collector::Collector for ProcessCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), fmt::Error> {
        let Some(usage) = ProcessUsage::read() else {
            return Ok(());
        };
        let rss = ConstGauge::new(usage.resident_bytes as i64);
        rss.encode(encoder.encode_descriptor(
            PROCESS_RESIDENT_MEMORY_BYTES,
            "Resident memory size in bytes",
            None,
            rss.metric_type(),
        )?)?;
        let cpu = ConstCounter::new(usage.cpu_seconds);
        cpu.encode(encoder.encode_descriptor(
            PROCESS_CPU_SECONDS,
            "Total user and system CPU time spent in seconds",
            None,
            cpu.metric_type(),
        )?)?;
        Ok(())
    }
}

/// Resident memory and CPU time of this process, from `/proc/self` (Linux only).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProcessUsage {
    pub resident_bytes: u64,
    pub peak_resident_bytes: u64,
    pub cpu_seconds: f64,
}

/// `/proc` reports CPU time in USER_HZ ticks, which Linux fixes at 100 for user space.
const USER_HZ: f64 = 100.0;

impl ProcessUsage {
    /// This process's usage; `None` where `/proc/self` is not readable (not Linux). The CPU
    /// time comes from `getrusage`, in microseconds: `/proc`'s 10 ms ticks are too coarse
    /// for a peer at rest, which works a few milliseconds a second.
    pub fn read() -> Option<Self> {
        let mut usage = Self::of(None)?;
        if let Ok(r) = getrusage(UsageWho::RUSAGE_SELF) {
            let micros = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 + t.tv_usec() as f64 / 1e6;
            usage.cpu_seconds = micros(r.user_time()) + micros(r.system_time());
        }
        Some(usage)
    }

    /// The usage of process `pid` (this one when `None`), from `/proc/<pid>/status` and
    /// `/proc/<pid>/stat`.
    pub fn of(pid: Option<u32>) -> Option<Self> {
        let proc_dir = pid.map_or_else(|| "/proc/self".to_owned(), |p| format!("/proc/{p}"));
        let status = std::fs::read_to_string(format!("{proc_dir}/status")).ok()?;
        let kib = |key: &str| -> Option<u64> {
            status
                .lines()
                .find_map(|l| l.strip_prefix(key))?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        };
        let stat = std::fs::read_to_string(format!("{proc_dir}/stat")).ok()?;
        // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
        let after_comm = &stat[stat.rfind(')')? + 2..];
        let fields: Vec<&str> = after_comm.split_whitespace().collect();
        let ticks = |i: usize| fields.get(i)?.parse::<u64>().ok();
        let cpu_ticks = ticks(11)? + ticks(12)?;
        Some(Self {
            resident_bytes: kib("VmRSS:")? * 1024,
            peak_resident_bytes: kib("VmHWM:")? * 1024,
            cpu_seconds: cpu_ticks as f64 / USER_HZ,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_carries_the_contract_names() {
        let mut registry = Registry::default();
        let metrics = Metrics::register(&mut registry);
        metrics.observe_search(Scope::Local, Duration::from_micros(70));
        metrics.dht_lookup.observe(0.2);
        metrics.packages_stored.set(3);
        let text = MetricsRegistry::new(registry).encode().unwrap();
        for name in [
            "p2p_dht_lookup_seconds_bucket",
            "p2p_search_seconds_count{scope=\"local\"} 1",
            "p2p_search_seconds_count{scope=\"network\"} 0",
            "p2p_publish_seconds_count 0",
            "p2p_install_seconds_count",
            "p2p_bootstrap_seconds_count",
            "p2p_gossip_propagation_seconds_count",
            "p2p_connected_peers 0",
            "p2p_routing_table_peers 0",
            "p2p_packages_stored 3",
            "process_resident_memory_bytes ",
            "process_cpu_seconds_total ",
            "p2p_swarm_events_total 0",
            "p2p_bootstraps_cut_total 0",
        ] {
            assert!(text.contains(name), "missing {name} in:\n{text}");
        }
    }

    #[test]
    fn prometheus_text_names_counters_with_their_total_suffix() {
        let om = "# HELP p2p_swarm_events Swarm events.\n# TYPE p2p_swarm_events counter\np2p_swarm_events_total 3\n# HELP p2p_connected_peers Peers.\n# TYPE p2p_connected_peers gauge\n# UNIT p2p_connected_peers peers\np2p_connected_peers 2\n# EOF\n";
        let text = openmetrics_to_prometheus_text(om);
        assert_eq!(
            text,
            "# HELP p2p_swarm_events_total Swarm events.\n# TYPE p2p_swarm_events_total counter\np2p_swarm_events_total 3\n# HELP p2p_connected_peers Peers.\n# TYPE p2p_connected_peers gauge\np2p_connected_peers 2\n"
        );
    }

    #[test]
    fn process_usage_is_plausible() {
        let usage = ProcessUsage::read().expect("tests run on Linux");
        assert!(usage.resident_bytes > 1024 * 1024);
        assert!(usage.peak_resident_bytes >= usage.resident_bytes);
    }
}
