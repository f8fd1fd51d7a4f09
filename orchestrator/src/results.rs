//! `results/<run-id>/results.json`: the versioned document a run leaves behind. `compare`,
//! `report` and the dashboards read this and nothing else (schema in `shared/DESIGN.md`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use p2p_api::stats::Summary;

use crate::fidelity::{FidelityMode, PhaseFidelity, Verdict};
use serde::{Deserialize, Serialize};

pub const SCHEMA_VERSION: u32 = 1;

/// A results document that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ResultsError {
    #[error("reading {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a results document")]
    NotResults {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("{path} has schema {found}, this orchestrator reads schema {SCHEMA_VERSION}")]
    Schema { path: PathBuf, found: u32 },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunResults {
    pub schema: u32,
    /// The run ended before its last phase (interrupted, or a phase failed): `phases` holds
    /// the phases it finished. Also true of the checkpoint written while a run is going.
    #[serde(default)]
    pub partial: bool,
    pub run: RunInfo,
    pub phases: Vec<PhaseReport>,
    pub resources: Vec<PeerResources>,
    pub shaping: ShapingReport,
    pub sla: Vec<SlaResult>,
    /// Things a reader must know (an unshaped run, a peer that crashed).
    pub warnings: Vec<String>,
    /// What made the run fail outside the targets (a node crash, an interrupted run).
    pub failures: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunInfo {
    pub id: String,
    pub scenario: String,
    pub started_at: String,
    pub ended_at: String,
    /// `docker` or `local`.
    pub runtime: String,
    /// The link shaper actually used (`none` when unshaped).
    pub shaper: String,
    pub peers: usize,
    /// The wire the peers talked over.
    #[serde(default)]
    pub transport: p2p_api::Transport,
    pub link: LinkInfo,
    /// Seconds from `up` to every peer healthy and bootstrapped.
    pub ready_s: Option<f64>,
    /// The steps of that time, in order; a run that failed during bring-up has the steps it
    /// finished.
    #[serde(default)]
    pub ready_stages: Vec<ReadyStage>,
    pub image: Option<String>,
    /// What a degraded phase did to the run (`warn` or `strict`).
    #[serde(default)]
    pub fidelity: FidelityMode,
}

/// One step of bringing the testbed up (`launch`, `health`, `shaping`, `verification`,
/// `prometheus`, `bootstrap`) and the seconds it took.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReadyStage {
    pub stage: String,
    pub seconds: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LinkInfo {
    pub profile: String,
    /// One-way delay on every link when set by `--latency`/`link.latency` (the round trip is
    /// twice this); 0 when the profile's matrix decides.
    pub latency_ms: f64,
    /// The profile's regions and description.
    #[serde(default)]
    pub regions: Vec<String>,
    #[serde(default)]
    pub description: String,
    /// Mean configured round trip over all pairs of peers.
    #[serde(default)]
    pub mean_rtt_ms: f64,
}

/// One measured phase: raw samples (seconds unless `unit` says otherwise) and their summary.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PhaseReport {
    pub name: String,
    #[serde(default = "seconds")]
    pub unit: String,
    #[serde(flatten)]
    pub summary: Summary,
    pub errors: usize,
    /// A few of the error messages, for the reader.
    pub error_examples: Vec<String>,
    /// Operations per second over the phase's wall time, where that means something.
    pub throughput_per_s: Option<f64>,
    /// Other figures of the phase (coverage, Kademlia requests per lookup…).
    pub extra: BTreeMap<String, f64>,
    /// Whether the host, not the network, shaped the phase's figures (docs/RESULTS.md).
    #[serde(default)]
    pub fidelity: Option<PhaseFidelity>,
    /// The latencies as multiples of the configured round trip (`unit` `s` only).
    #[serde(default)]
    pub in_rtts: Option<RoundTrips>,
    pub samples: Vec<f64>,
}

/// A phase's latencies in round trips: p50 and p95 divided by the mean configured round
/// trip of the pairs it used (for phases whose pairs are not known, such as multi-hop
/// lookups, of all pairs of the network).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RoundTrips {
    pub rtt_s: f64,
    pub p50: Option<f64>,
    pub p95: Option<f64>,
}

fn seconds() -> String {
    "s".to_owned()
}

impl RunResults {
    /// How the run ended: 0 all targets met, 1 a target missed, 3 the run itself failed
    /// (DESIGN.md), or, with `--fidelity strict`, a phase was degraded.
    pub fn exit_code(&self) -> u8 {
        let strict_and_degraded =
            self.run.fidelity == FidelityMode::Strict && !self.degraded_phases().is_empty();
        if !self.failures.is_empty() || strict_and_degraded {
            3
        } else if self.sla.iter().any(|s| !s.pass) {
            1
        } else {
            0
        }
    }

    /// The phases whose figures the host shaped (docs/FIDELITY.md), each named once.
    pub fn degraded_phases(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for p in &self.phases {
            if p.fidelity
                .as_ref()
                .is_some_and(|f| f.verdict == Verdict::Degraded)
                && !names.contains(&p.name.as_str())
            {
                names.push(&p.name);
            }
        }
        names
    }
}

impl PhaseReport {
    /// Sets `throughput_per_s` to `operations` over `wall_s` seconds (none for no time).
    pub fn set_throughput(&mut self, operations: usize, wall_s: f64) {
        self.throughput_per_s = (wall_s > 0.0).then(|| operations as f64 / wall_s);
    }

    pub fn new(name: impl Into<String>, samples: Vec<f64>, errors: Vec<String>) -> Self {
        Self {
            name: name.into(),
            unit: seconds(),
            summary: Summary::of(&samples),
            errors: errors.len(),
            error_examples: errors.into_iter().take(5).collect(),
            throughput_per_s: None,
            extra: BTreeMap::new(),
            fidelity: None,
            in_rtts: None,
            samples,
        }
    }

    /// Sets [`in_rtts`](Self::in_rtts) for a latency report, from its own
    /// `configured_rtt_s` figure where it has one, else from `network_rtt_s`.
    pub fn set_round_trips(&mut self, network_rtt_s: Option<f64>) {
        if self.unit != "s" {
            return;
        }
        let rtt = self
            .extra
            .get("configured_rtt_s")
            .copied()
            .or(network_rtt_s)
            .filter(|r| *r > 0.0);
        self.in_rtts = rtt.map(|rtt_s| RoundTrips {
            rtt_s,
            p50: self.summary.p50.map(|v| v / rtt_s),
            p95: self.summary.p95.map(|v| v / rtt_s),
        });
    }

    pub fn with_unit(mut self, unit: &str) -> Self {
        self.unit = unit.to_owned();
        self
    }

    /// Errors as a fraction of all operations.
    pub fn error_rate(&self) -> f64 {
        let total = self.summary.count + self.errors;
        if total == 0 {
            0.0
        } else {
            self.errors as f64 / total as f64
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PeerResources {
    pub peer: String,
    /// Resident memory reported by the node (`process_resident_memory_bytes`).
    pub rss_bytes: Option<u64>,
    pub cpu_seconds: Option<f64>,
    /// Memory use of the container as Docker accounts it (Docker runtime only).
    pub container_memory_bytes: Option<u64>,
    pub connections: Option<usize>,
}

/// Link shaping of the run and the check that it took effect.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ShapingReport {
    /// `kernel`, `userspace` or `none`.
    pub backend: String,
    /// Why the probe chose it.
    #[serde(default)]
    pub reason: String,
    /// Whether every sampled pair's measured round trip matched the configuration
    /// (`None`: not checked, the run is unshaped).
    pub verified: Option<bool>,
    pub pairs: Vec<PairRtt>,
    /// What the userspace delay line did.
    #[serde(default)]
    pub delay_line: Option<DelayLineReport>,
}

/// Configured and measured round trip of one ordered pair of peers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PairRtt {
    pub from: String,
    pub to: String,
    #[serde(default)]
    pub from_region: String,
    #[serde(default)]
    pub to_region: String,
    /// The sum of both directions' delays.
    pub configured_rtt_ms: f64,
    /// The median the configuration predicts for the probes (jitter, its distribution,
    /// loss and bandwidth included: docs/NETEM.md); absent in documents from before it.
    #[serde(default)]
    pub expected_rtt_ms: Option<f64>,
    /// Median of the round trips the source peer timed; `None` when none completed.
    pub measured_rtt_ms: Option<f64>,
    /// How far the measured median may be from the expected one: the chance spread of a
    /// median of the probes, plus max(2 ms, 10%).
    #[serde(default)]
    pub tolerance_ms: f64,
    #[serde(default)]
    pub ok: bool,
    #[serde(default)]
    pub error: Option<String>,
}

/// Counters and accuracy of the userspace delay line over the run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DelayLineReport {
    pub queue_num: u16,
    pub packets: u64,
    pub released: u64,
    pub lost: u64,
    pub overflowed: u64,
    pub passed_through: u64,
    pub errors: u64,
    /// Whether the CPUs were held to a wake latency of 0 while it ran (docs/NETEM.md).
    #[serde(default)]
    pub low_wake_latency: bool,
    /// How late packets left after their scheduled time.
    pub lateness_p50_ms: Option<f64>,
    pub lateness_p99_ms: Option<f64>,
    pub lateness_max_ms: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SlaResult {
    pub metric: String,
    /// The target as written, e.g. `<= 500ms`.
    pub target: String,
    pub measured: Option<f64>,
    pub unit: String,
    pub p50: Option<f64>,
    pub p95: Option<f64>,
    pub p99: Option<f64>,
    pub pass: bool,
    /// Why it failed when nothing was measured.
    pub note: Option<String>,
}

impl RunResults {
    pub fn phase(&self, name: &str) -> Option<&PhaseReport> {
        self.phases.iter().find(|p| p.name == name)
    }

    /// Reads `path`, or `path/results.json` when `path` is a run directory.
    pub fn load(path: &Path) -> Result<Self, ResultsError> {
        let file = if path.is_dir() {
            path.join("results.json")
        } else {
            path.to_owned()
        };
        let bytes = std::fs::read(&file).map_err(|source| ResultsError::Read {
            path: file.clone(),
            source,
        })?;
        let results: Self =
            serde_json::from_slice(&bytes).map_err(|source| ResultsError::NotResults {
                path: file.clone(),
                source,
            })?;
        if results.schema != SCHEMA_VERSION {
            return Err(ResultsError::Schema {
                path: file,
                found: results.schema,
            });
        }
        Ok(results)
    }
}
