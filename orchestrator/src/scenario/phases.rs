//! The phases a scenario runs and their parameters, as written and as checked.

use std::time::Duration;

use serde::Deserialize;

use crate::quantity;

#[derive(Debug, Clone, PartialEq)]
pub enum Phase {
    Bootstrap,
    Idle(IdlePhase),
    Connect(ConnectPhase),
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
            Self::Idle(_) => "idle",
            Self::Connect(_) => "connect",
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

/// The formed network at rest: nothing is asked of it while its CPU use is measured.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IdlePhase {
    /// How long to let the work before the phase (a bootstrap's bucket refreshes) end.
    #[serde(deserialize_with = "duration_field")]
    pub settle: Duration,
    /// How long the network is measured at rest.
    #[serde(deserialize_with = "duration_field")]
    pub duration: Duration,
}

impl Default for IdlePhase {
    fn default() -> Self {
        Self {
            settle: Duration::from_secs(2),
            duration: Duration::from_secs(10),
        }
    }
}

/// New connections, timed from the dial to the established connection.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConnectPhase {
    /// Peers that dial.
    pub peers: usize,
    /// Other peers each of them dials, one after the other.
    pub per_peer: usize,
}

impl Default for ConnectPhase {
    fn default() -> Self {
        Self {
            peers: 10,
            per_peer: 5,
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
    /// Publishes in flight at once over all publishers. A publish is a DHT put plus provider
    /// records: more at once on a small host times its CPU queue, not the network.
    pub concurrency: usize,
}

impl Default for PublishPhase {
    fn default() -> Self {
        Self {
            packages: 50,
            publishers: 10,
            size_bytes: 4096,
            concurrency: 4,
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

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub(super) enum RawPhase {
    Bootstrap {},
    Idle(#[serde(default)] IdlePhase),
    Connect(#[serde(default)] ConnectPhase),
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

/// Longest idle settle or measurement a scenario may ask for.
const MAX_IDLE: Duration = Duration::from_secs(3600);

fn duration_field<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(d)?;
    quantity::parse_duration(&text).map_err(serde::de::Error::custom)
}

/// Checks a phase's parameters; the message names the wrong one.
pub(super) fn validate(raw: RawPhase) -> Result<Phase, String> {
    let positive = |what: &str, v: usize| {
        if v == 0 {
            Err(format!("{what} must be at least 1"))
        } else {
            Ok(())
        }
    };
    Ok(match raw {
        RawPhase::Bootstrap {} => Phase::Bootstrap,
        RawPhase::Idle(p) => {
            if p.duration < Duration::from_secs(1) {
                return Err(format!(
                    "idle.duration must be at least 1s to measure anything, got {:?}",
                    p.duration
                ));
            }
            if p.duration > MAX_IDLE || p.settle > MAX_IDLE {
                return Err(format!(
                    "idle.settle and idle.duration must be at most {}s each",
                    MAX_IDLE.as_secs()
                ));
            }
            Phase::Idle(p)
        }
        RawPhase::Connect(p) => {
            positive("connect.peers", p.peers)?;
            if p.per_peer == 0 || p.per_peer > p2p_api::limits::MAX_CONNECT_PEERS {
                return Err(format!(
                    "connect.per_peer must be between 1 and {}",
                    p2p_api::limits::MAX_CONNECT_PEERS
                ));
            }
            Phase::Connect(p)
        }
        RawPhase::Publish(p) => {
            positive("publish.packages", p.packages)?;
            positive("publish.publishers", p.publishers)?;
            positive("publish.size_bytes", p.size_bytes)?;
            positive("publish.concurrency", p.concurrency)?;
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
