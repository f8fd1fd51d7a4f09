//! Scenarios: which network to build, which phases to run, which targets to check.
//!
//! A scenario file is YAML, parsed into raw serde structs (unknown keys are errors) and then
//! validated once into a [`Scenario`]. Every error names the file, line and column and what
//! was expected.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use serde_saphyr::Spanned;

use netem::LinkOverrides;

use crate::quantity::{self, Dimension};

/// Peers that join at once with the bootstrap-peers topology, unless the scenario says.
pub const DEFAULT_CONCURRENT_JOINS: usize = 8;

/// The scenario used when none is given: the seed guide's suite and its targets.
pub const DEFAULT_SCENARIO: &str = include_str!("../../scenarios/default.yaml");

#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct ScenarioError {
    pub file: String,
    pub line: u64,
    pub column: u64,
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub peers: usize,
    pub link: LinkSettings,
    pub topology: Topology,
    pub resources: Resources,
    pub phases: Vec<Phase>,
    pub targets: Vec<Target>,
}

/// The links of a run: a profile from `netem/profiles/` (or a file), and values that replace
/// the profile's on every link. `latency` is one-way: 20ms gives a round trip of about 40ms.
#[derive(Debug, Clone, Default)]
pub struct LinkSettings {
    /// A built-in profile name or a profile file; `None` is a perfect link changed only by
    /// the overrides.
    pub profile: Option<String>,
    pub overrides: LinkOverrides,
}

impl LinkSettings {
    /// The profile the run uses, overrides applied.
    pub fn resolve(&self) -> Result<netem::Profile, String> {
        let base = match &self.profile {
            Some(name) => netem::Profile::load(name).map_err(|e| e.to_string())?,
            None => netem::Profile::uniform(netem::LinkSpec::default()),
        };
        base.with_overrides(&self.overrides)
            .map_err(|e| e.to_string())
    }

    /// How the report names it.
    pub fn name(&self) -> String {
        self.profile.clone().unwrap_or_else(|| "uniform".to_owned())
    }
}

/// Who dials whom at start-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topology {
    /// The first `count` peers are bootstrap peers; every other peer dials all of them, at
    /// most `joins` peers joining at once.
    BootstrapPeers { count: usize, joins: usize },
    /// Every peer dials `k` random peers that started before it.
    RandomK { k: usize },
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Resources {
    /// CPU limit per container, in cores.
    pub cpus: Option<f64>,
    /// Memory limit per container.
    pub memory_bytes: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Phase {
    Bootstrap,
    Publish(PublishPhase),
    DhtLookup(DhtLookupPhase),
    Search(SearchPhase),
    Gossip(GossipPhase),
    ConcurrentSearch(ConcurrentSearchPhase),
    Install(InstallPhase),
    Churn(ChurnPhase),
    Partition(PartitionPhase),
    Cli(CliPhase),
}

impl Phase {
    pub fn label(&self) -> &'static str {
        match self {
            Self::Bootstrap => "bootstrap",
            Self::Publish(_) => "publish",
            Self::DhtLookup(_) => "dht_lookup",
            Self::Search(_) => "search",
            Self::Gossip(_) => "gossip",
            Self::ConcurrentSearch(_) => "concurrent_search",
            Self::Install(_) => "install",
            Self::Churn(_) => "churn",
            Self::Partition(_) => "partition",
            Self::Cli(_) => "cli",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PublishPhase {
    /// Packages to publish in all.
    pub packages: usize,
    /// Peers that publish them, round-robin.
    pub publishers: usize,
    pub size_bytes: usize,
}

impl Default for PublishPhase {
    fn default() -> Self {
        Self {
            packages: 50,
            publishers: 10,
            size_bytes: 4096,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DhtLookupPhase {
    /// Peers that run lookups (all when larger than the network).
    pub peers: usize,
    pub lookups_per_peer: usize,
    pub concurrency: usize,
}

impl Default for DhtLookupPhase {
    fn default() -> Self {
        Self {
            peers: 20,
            lookups_per_peer: 10,
            concurrency: 4,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchPhase {
    pub scope: p2p_api::Scope,
    #[serde(default = "default_twenty")]
    pub peers: usize,
    #[serde(default = "default_twenty")]
    pub queries_per_peer: usize,
    #[serde(default = "default_four")]
    pub concurrency: usize,
}

fn default_twenty() -> usize {
    20
}

fn default_four() -> usize {
    4
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GossipPhase {
    pub messages: usize,
    #[serde(deserialize_with = "duration_field")]
    pub interval: Duration,
    pub payload_bytes: usize,
    /// How long to wait for the last message to arrive everywhere.
    #[serde(deserialize_with = "duration_field")]
    pub settle: Duration,
}

impl Default for GossipPhase {
    fn default() -> Self {
        Self {
            messages: 20,
            interval: Duration::from_millis(100),
            payload_bytes: 256,
            settle: Duration::from_secs(3),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConcurrentSearchPhase {
    pub levels: Vec<usize>,
    /// Searches per level = level × this.
    pub rounds: usize,
}

impl Default for ConcurrentSearchPhase {
    fn default() -> Self {
        Self {
            levels: vec![1, 10, 50, 100],
            rounds: 3,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InstallPhase {
    pub installs: usize,
    pub concurrency: usize,
}

impl Default for InstallPhase {
    fn default() -> Self {
        Self {
            installs: 20,
            concurrency: 4,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChurnPhase {
    /// Fraction of peers stopped (never the bootstrap peers).
    pub fraction: f64,
    pub lookups_per_peer: usize,
}

impl Default for ChurnPhase {
    fn default() -> Self {
        Self {
            fraction: 0.2,
            lookups_per_peer: 5,
        }
    }
}

/// Cut a share of the peers off from the rest, hold it, heal it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PartitionPhase {
    /// Share of the live peers on the cut-off side.
    pub fraction: f64,
    /// How long the partition stands.
    #[serde(deserialize_with = "duration_field")]
    pub duration: Duration,
    /// DHT lookups per sampled peer, during the partition and after healing.
    pub lookups_per_peer: usize,
}

impl Default for PartitionPhase {
    fn default() -> Self {
        Self {
            fraction: 0.5,
            duration: Duration::from_secs(5),
            lookups_per_peer: 5,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CliPhase {
    /// Runs of each of `search`, `publish` and `install`.
    pub runs: usize,
}

impl Default for CliPhase {
    fn default() -> Self {
        Self { runs: 5 }
    }
}

/// A performance target: `<phase>.<statistic>` within a bound.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub metric: String,
    pub phase: String,
    pub statistic: String,
    pub bound: Bound,
    pub dimension: Dimension,
    /// The bound as written, for the report.
    pub display: String,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bound {
    AtMost(f64),
    AtLeast(f64),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.metric, self.display)
    }
}

// ---- raw form ------------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: Option<String>,
    peers: Option<Spanned<usize>>,
    #[serde(default)]
    link: RawLink,
    #[serde(default)]
    bootstrap: RawBootstrap,
    #[serde(default)]
    resources: RawResources,
    phases: Vec<Spanned<RawPhase>>,
    #[serde(default)]
    targets: Vec<Spanned<RawTarget>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLink {
    profile: Option<Spanned<String>>,
    latency: Option<Spanned<String>>,
    jitter: Option<Spanned<String>>,
    distribution: Option<Spanned<String>>,
    loss: Option<Spanned<String>>,
    bandwidth: Option<Spanned<String>>,
    queue_limit: Option<Spanned<u32>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBootstrap {
    topology: Option<Spanned<String>>,
    bootstrap_peers: Option<Spanned<usize>>,
    k: Option<Spanned<usize>>,
    concurrent_joins: Option<Spanned<usize>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawResources {
    cpus: Option<Spanned<f64>>,
    memory: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum RawPhase {
    Bootstrap {},
    Publish(#[serde(default)] PublishPhase),
    DhtLookup(#[serde(default)] DhtLookupPhase),
    Search(SearchPhase),
    Gossip(#[serde(default)] GossipPhase),
    ConcurrentSearch(#[serde(default)] ConcurrentSearchPhase),
    Install(#[serde(default)] InstallPhase),
    Churn(#[serde(default)] ChurnPhase),
    Partition(#[serde(default)] PartitionPhase),
    Cli(#[serde(default)] CliPhase),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTarget {
    metric: String,
    max: Option<String>,
    min: Option<String>,
}

fn duration_field<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(d)?;
    quantity::parse_duration(&text).map_err(serde::de::Error::custom)
}

/// Statistics a target may name besides the phase's `extra` figures.
const STATISTICS: &[&str] = &[
    "p50",
    "p95",
    "p99",
    "max",
    "mean",
    "count",
    "error_rate",
    "throughput",
];

impl Scenario {
    /// Reads and validates a scenario file.
    pub fn load(path: &Path) -> Result<Self, ScenarioError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ScenarioError {
            file: file.clone(),
            line: 0,
            column: 0,
            message: format!("cannot read: {e}"),
        })?;
        Self::parse(&file, &text)
    }

    /// Parses and validates scenario `text`; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Self, ScenarioError> {
        let at = |line: u64, column: u64, message: String| ScenarioError {
            file: file.to_owned(),
            line,
            column,
            message,
        };
        let spanned = |span: &serde_saphyr::Location, message: String| {
            at(span.line(), span.column(), message)
        };
        let raw: RawScenario = serde_saphyr::from_str(text).map_err(|e| {
            let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
            at(line, column, first_line(&e.to_string()))
        })?;

        let peers = match raw.peers {
            Some(p) if p.value < 2 => {
                return Err(spanned(
                    &p.referenced,
                    format!("peers must be at least 2, got {}", p.value),
                ))
            }
            Some(p) => p.value,
            None => 10,
        };
        let link = link_settings(raw.link).map_err(|(location, message)| match location {
            Some(loc) => spanned(&loc, message),
            None => at(0, 0, message),
        })?;
        let joins = match raw.bootstrap.concurrent_joins {
            Some(j) if j.value == 0 => {
                return Err(spanned(
                    &j.referenced,
                    "bootstrap.concurrent_joins must be at least 1".into(),
                ))
            }
            Some(j) => j.value,
            None => DEFAULT_CONCURRENT_JOINS,
        };
        let count = raw.bootstrap.bootstrap_peers.map_or(3, |c| c.value);
        let topology = match raw.bootstrap.topology {
            None => Topology::BootstrapPeers { count, joins },
            Some(t) => match t.value.as_str() {
                "bootstrap-peers" => Topology::BootstrapPeers { count, joins },
                "random-k" => Topology::RandomK {
                    k: raw.bootstrap.k.map_or(3, |k| k.value),
                },
                other => {
                    return Err(spanned(
                        &t.referenced,
                        format!(
                        "bootstrap.topology: expected bootstrap-peers or random-k, got {other:?}"
                    ),
                    ))
                }
            },
        };
        match topology {
            Topology::BootstrapPeers { count: 0, .. } | Topology::RandomK { k: 0 } => {
                return Err(at(
                    0,
                    0,
                    "bootstrap: at least one peer to dial is needed".into(),
                ))
            }
            _ => {}
        }
        let resources = Resources {
            cpus: match raw.resources.cpus {
                Some(c) if c.value.is_nan() || c.value <= 0.0 => {
                    return Err(spanned(
                        &c.referenced,
                        format!("resources.cpus must be positive, got {}", c.value),
                    ))
                }
                c => c.map(|c| c.value),
            },
            memory_bytes: match raw.resources.memory {
                Some(m) => Some(
                    quantity::parse_bytes(&m.value)
                        .map_err(|e| spanned(&m.referenced, format!("resources.memory: {e}")))?,
                ),
                None => None,
            },
        };

        let mut phases = Vec::with_capacity(raw.phases.len());
        for phase in raw.phases {
            let loc = phase.referenced;
            let checked = validate_phase(phase.value).map_err(|m| spanned(&loc, m))?;
            phases.push(checked);
        }
        if phases.is_empty() {
            return Err(at(0, 0, "phases: at least one phase is needed".into()));
        }

        let mut targets = Vec::with_capacity(raw.targets.len());
        for target in raw.targets {
            let loc = target.referenced;
            targets.push(validate_target(target.value).map_err(|m| spanned(&loc, m))?);
        }

        Ok(Self {
            name: raw.name.unwrap_or_else(|| "unnamed".to_owned()),
            peers,
            link,
            topology,
            resources,
            phases,
            targets,
        })
    }
}

fn first_line(message: &str) -> String {
    message.lines().next().unwrap_or(message).trim().to_owned()
}

fn validate_phase(raw: RawPhase) -> Result<Phase, String> {
    let positive = |what: &str, v: usize| {
        if v == 0 {
            Err(format!("{what} must be at least 1"))
        } else {
            Ok(())
        }
    };
    Ok(match raw {
        RawPhase::Bootstrap {} => Phase::Bootstrap,
        RawPhase::Publish(p) => {
            positive("publish.packages", p.packages)?;
            positive("publish.publishers", p.publishers)?;
            positive("publish.size_bytes", p.size_bytes)?;
            if p.size_bytes > p2p_api::limits::MAX_CONTENT_BYTES {
                return Err(format!(
                    "publish.size_bytes must be at most {}",
                    p2p_api::limits::MAX_CONTENT_BYTES
                ));
            }
            Phase::Publish(p)
        }
        RawPhase::DhtLookup(p) => {
            positive("dht_lookup.peers", p.peers)?;
            positive("dht_lookup.lookups_per_peer", p.lookups_per_peer)?;
            positive("dht_lookup.concurrency", p.concurrency)?;
            Phase::DhtLookup(p)
        }
        RawPhase::Search(p) => {
            positive("search.peers", p.peers)?;
            positive("search.queries_per_peer", p.queries_per_peer)?;
            positive("search.concurrency", p.concurrency)?;
            Phase::Search(p)
        }
        RawPhase::Gossip(p) => {
            positive("gossip.messages", p.messages)?;
            Phase::Gossip(p)
        }
        RawPhase::ConcurrentSearch(p) => {
            if p.levels.is_empty() || p.levels.contains(&0) {
                return Err(
                    "concurrent_search.levels must be a non-empty list of positive numbers".into(),
                );
            }
            positive("concurrent_search.rounds", p.rounds)?;
            Phase::ConcurrentSearch(p)
        }
        RawPhase::Install(p) => {
            positive("install.installs", p.installs)?;
            positive("install.concurrency", p.concurrency)?;
            Phase::Install(p)
        }
        RawPhase::Churn(p) => {
            if p.fraction.is_nan() || p.fraction <= 0.0 || p.fraction >= 1.0 {
                return Err(format!(
                    "churn.fraction must be between 0 and 1 (exclusive), got {}",
                    p.fraction
                ));
            }
            positive("churn.lookups_per_peer", p.lookups_per_peer)?;
            Phase::Churn(p)
        }
        RawPhase::Partition(p) => {
            if p.fraction.is_nan() || p.fraction <= 0.0 || p.fraction >= 1.0 {
                return Err(format!(
                    "partition.fraction must be between 0 and 1 (exclusive), got {}",
                    p.fraction
                ));
            }
            positive("partition.lookups_per_peer", p.lookups_per_peer)?;
            Phase::Partition(p)
        }
        RawPhase::Cli(p) => {
            positive("cli.runs", p.runs)?;
            Phase::Cli(p)
        }
    })
}

/// Checks the `link:` section; an error carries where the wrong value is.
fn link_settings(raw: RawLink) -> Result<LinkSettings, (Option<serde_saphyr::Location>, String)> {
    fn field<T>(
        value: Option<Spanned<String>>,
        name: &str,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Option<T>, (Option<serde_saphyr::Location>, String)> {
        value
            .map(|v| parse(&v.value).map_err(|m| (Some(v.referenced), format!("link.{name}: {m}"))))
            .transpose()
    }
    let distribution = field(raw.distribution, "distribution", |d| match d {
        "uniform" => Ok(netem::JitterDistribution::Uniform),
        "normal" => Ok(netem::JitterDistribution::Normal),
        other => Err(format!("expected uniform or normal, got {other:?}")),
    })?;
    let overrides = LinkOverrides {
        delay: field(raw.latency, "latency", quantity::parse_duration)?,
        jitter: field(raw.jitter, "jitter", quantity::parse_duration)?,
        distribution,
        loss: field(raw.loss, "loss", quantity::parse_fraction)?,
        bandwidth_bps: field(raw.bandwidth, "bandwidth", quantity::parse_bandwidth)?,
        queue_limit: raw.queue_limit.map(|q| q.value),
    };
    let location = raw.profile.as_ref().map(|p| p.referenced);
    let settings = LinkSettings {
        profile: raw.profile.map(|p| p.value).filter(|p| p != "uniform"),
        overrides,
    };
    settings
        .resolve()
        .map_err(|m| (location, format!("link: {m}")))?;
    Ok(settings)
}

fn validate_target(raw: RawTarget) -> Result<Target, String> {
    let (phase, statistic) = raw.metric.rsplit_once('.').ok_or_else(|| {
        format!(
            "target metric {:?}: expected <phase>.<statistic>, e.g. dht_lookup.p95",
            raw.metric
        )
    })?;
    if phase.is_empty() || statistic.is_empty() {
        return Err(format!(
            "target metric {:?}: expected <phase>.<statistic>",
            raw.metric
        ));
    }
    let (text, make): (String, fn(f64) -> Bound) = match (raw.max, raw.min) {
        (Some(max), None) => (max, Bound::AtMost),
        (None, Some(min)) => (min, Bound::AtLeast),
        _ => {
            return Err(format!(
                "target {}: give exactly one of max or min",
                raw.metric
            ))
        }
    };
    let (value, dimension) =
        quantity::parse(&text).map_err(|e| format!("target {}: {e}", raw.metric))?;
    let display = match make(value) {
        Bound::AtMost(_) => format!("<= {text}"),
        Bound::AtLeast(_) => format!(">= {text}"),
    };
    if !STATISTICS.contains(&statistic)
        && !statistic
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(format!(
            "target metric {:?}: unknown statistic {statistic:?}",
            raw.metric
        ));
    }
    Ok(Target {
        metric: raw.metric.clone(),
        phase: phase.to_owned(),
        statistic: statistic.to_owned(),
        bound: make(value),
        dimension,
        display,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_scenario_is_valid() {
        let s = Scenario::parse("default.yaml", DEFAULT_SCENARIO).unwrap();
        assert!(s.peers >= 2);
        assert!(s.phases.contains(&Phase::Bootstrap));
        assert!(!s.targets.is_empty());
    }

    #[test]
    fn minimal_scenario_gets_defaults() {
        let s = Scenario::parse("m.yaml", "phases:\n  - bootstrap: {}\n  - publish: {}\n").unwrap();
        assert_eq!(s.peers, 10);
        assert_eq!(s.link.overrides.delay, None);
        assert_eq!(
            s.topology,
            Topology::BootstrapPeers {
                count: 3,
                joins: DEFAULT_CONCURRENT_JOINS
            }
        );
        assert_eq!(s.phases[1], Phase::Publish(PublishPhase::default()));
    }

    #[test]
    fn full_scenario_parses() {
        let text = r#"
name: full
peers: 12
link: { latency: 20ms, profile: wan }
bootstrap: { topology: random-k, k: 2 }
resources: { cpus: 0.5, memory: 128MiB }
phases:
  - bootstrap: {}
  - gossip: { messages: 5, interval: 50ms }
  - search: { scope: network, queries_per_peer: 3 }
  - churn: { fraction: 0.25 }
targets:
  - { metric: dht_lookup.p95, max: 500ms }
  - { metric: gossip_network_wide.coverage, min: 99% }
"#;
        let s = Scenario::parse("full.yaml", text).unwrap();
        assert_eq!(s.link.overrides.delay, Some(Duration::from_millis(20)));
        assert_eq!(s.link.profile.as_deref(), Some("wan"));
        assert_eq!(s.topology, Topology::RandomK { k: 2 });
        assert_eq!(s.resources.memory_bytes, Some(128 * 1024 * 1024));
        let Phase::Gossip(g) = &s.phases[1] else {
            panic!()
        };
        assert_eq!((g.messages, g.interval), (5, Duration::from_millis(50)));
        assert_eq!(s.targets[0].bound, Bound::AtMost(0.5));
        assert_eq!(s.targets[1].bound, Bound::AtLeast(0.99));
        assert_eq!(s.targets[1].phase, "gossip_network_wide");
    }

    fn error(text: &str) -> ScenarioError {
        Scenario::parse("bad.yaml", text).unwrap_err()
    }

    #[test]
    fn errors_name_file_line_column_and_expectation() {
        let e = error("peers: 1\nphases:\n  - bootstrap: {}\n");
        assert_eq!((e.line, e.column), (1, 8), "{e}");
        assert!(
            e.to_string()
                .starts_with("bad.yaml:1:8: peers must be at least 2"),
            "{e}"
        );

        let e = error("peers: 5\nphases:\n  - bootstrap: {}\n  - churn: { fraction: 1.5 }\n");
        assert_eq!(e.line, 4, "{e}");
        assert!(
            e.message.contains("churn.fraction must be between 0 and 1"),
            "{e}"
        );

        let e = error("link:\n  latency: fast\nphases:\n  - bootstrap: {}\n");
        assert_eq!(e.line, 2, "{e}");
        assert!(e.message.contains("link.latency"), "{e}");

        let e = error("phases:\n  - bootstrap: {}\n  - teleport: {}\n");
        assert_eq!(e.line, 3, "{e}");
        assert!(e.message.contains("teleport"), "{e}");

        let e = error("peers: 5\nphases:\n  - publish: { packagez: 3 }\n");
        assert_eq!(e.line, 3, "{e}");
        assert!(e.message.contains("packagez"), "{e}");

        let e =
            error("phases:\n  - bootstrap: {}\ntargets:\n  - { metric: dht_lookup, max: 1s }\n");
        assert_eq!(e.line, 4, "{e}");
        assert!(e.message.contains("expected <phase>.<statistic>"), "{e}");

        let e = error("phases: []\n");
        assert!(e.message.contains("at least one phase"), "{e}");

        let e = error("peers: [oops\n");
        assert!(e.line >= 1, "{e}");
    }
}
