//! The flags `up` and `sweep` share: the scenario and what overrides it, and how the run is
//! made. `--peers`, `--latency` and `--transport` take comma-separated lists: `sweep` runs
//! every combination, `up` takes one value each.

use std::path::PathBuf;

use clap::Args;
use ipnet::Ipv4Net;
use orchestrator::fidelity::FidelityMode;
use orchestrator::runtime::NodeOptions;
use orchestrator::scenario::{
    RawScenario, Scenario, ScenarioError, ScenarioFlags, DEFAULT_SCENARIO, DEFAULT_SCENARIO_NAME,
};
use orchestrator::up::{RuntimeChoice, UpOptions};

/// Connections a testbed node keeps open for long.
const IDLE_TIMEOUT_SECS: u64 = 120;

#[derive(Debug, Args)]
pub(super) struct RunArgs {
    /// Scenario file (YAML); the built-in default suite when omitted.
    #[arg(long)]
    scenario: Option<PathBuf>,
    /// Number of peers (overrides the scenario). `sweep` takes a list: 10,50,100.
    #[arg(long, value_delimiter = ',')]
    peers: Vec<usize>,
    /// One-way delay on every link, e.g. 20ms, so a round trip of about 40ms. Replaces the
    /// profile's latency matrix and the scenario's latency. `sweep` takes a list.
    #[arg(long, value_delimiter = ',')]
    latency: Vec<String>,
    /// The wire peers talk over: tcp (TCP + Noise + Yamux) or quic (overrides the scenario).
    /// `sweep` takes a list: tcp,quic.
    #[arg(long, value_delimiter = ',')]
    transport: Vec<String>,
    /// Link profile: lan, wan, continental, global, mobile-3g, lossy-wifi (netem/profiles/) or
    /// a profile file. Peers are placed in its regions in turn. Replaces the scenario's link
    /// section; --latency and the flags below override it.
    #[arg(long)]
    profile: Option<String>,
    /// Jitter around the one-way delay, e.g. 2ms.
    #[arg(long)]
    jitter: Option<String>,
    /// Packet loss on every link, e.g. 0.5%.
    #[arg(long)]
    loss: Option<String>,
    /// Bandwidth of every link, e.g. 10mbit.
    #[arg(long)]
    bandwidth: Option<String>,
    /// Link shaping backend. auto: kernel tc netem where the kernel has it, the userspace
    /// NFQUEUE delay line otherwise (needs root or CAP_NET_ADMIN); none: unshaped, said so in
    /// the report.
    #[arg(long, value_enum, default_value_t = ShaperArg::Auto)]
    shaper: ShaperArg,
    #[arg(long, value_enum, default_value_t = RuntimeChoice::Auto)]
    runtime: RuntimeChoice,
    /// Where run directories go.
    #[arg(long, default_value = "results")]
    pub(super) results_dir: PathBuf,
    /// Subnet of the run's Docker network (default: a free /16 in 10.213–10.250).
    #[arg(long)]
    subnet: Option<Ipv4Net>,
    /// The static p2p-node binary (default: next to this executable, built if missing).
    #[arg(long)]
    node_binary: Option<PathBuf>,
    /// CPU limit per container, in cores (overrides the scenario).
    #[arg(long)]
    cpus: Option<f64>,
    /// Memory limit per container, e.g. 256MiB (overrides the scenario).
    #[arg(long)]
    memory: Option<String>,
    /// Connection limit of every node.
    #[arg(long, default_value_t = 128)]
    max_connections: u32,
    /// Seed of the choices the phases make (which peer, which package).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// What a phase the host degraded does to the run: warn (say so in the report) or
    /// strict (the run also exits 3).
    #[arg(long, value_enum, default_value_t = FidelityMode::Warn)]
    fidelity: FidelityMode,
    /// An existing Prometheus (e.g. http://localhost:9090): checks it answers and prints the
    /// file-based service discovery config that makes it scrape every run.
    #[arg(long)]
    prometheus: Option<String>,
}

/// `--shaper`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(super) enum ShaperArg {
    Auto,
    Kernel,
    Userspace,
    None,
}

impl From<ShaperArg> for netem::ShaperChoice {
    fn from(arg: ShaperArg) -> Self {
        match arg {
            ShaperArg::Auto => Self::Auto,
            ShaperArg::Kernel => Self::Kernel,
            ShaperArg::Userspace => Self::Userspace,
            ShaperArg::None => Self::None,
        }
    }
}

/// One combination of the listed values.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Point {
    pub(super) peers: Option<usize>,
    pub(super) latency: Option<String>,
    pub(super) transport: Option<String>,
}

impl Point {
    /// `peers=50 latency=20ms transport=quic`, the values set only.
    pub(super) fn label(&self) -> String {
        let mut parts = Vec::new();
        if let Some(p) = self.peers {
            parts.push(format!("peers={p}"));
        }
        if let Some(l) = &self.latency {
            parts.push(format!("latency={l}"));
        }
        if let Some(t) = &self.transport {
            parts.push(format!("transport={t}"));
        }
        parts.join(" ")
    }
}

impl RunArgs {
    /// Every combination of the listed values, in order (peers slowest, transport fastest).
    pub(super) fn points(&self) -> Vec<Point> {
        fn options<T: Clone>(values: &[T]) -> Vec<Option<T>> {
            if values.is_empty() {
                vec![None]
            } else {
                values.iter().cloned().map(Some).collect()
            }
        }
        let mut points = Vec::new();
        for peers in options(&self.peers) {
            for latency in options(&self.latency) {
                for transport in options(&self.transport) {
                    points.push(Point {
                        peers,
                        latency: latency.clone(),
                        transport,
                    });
                }
            }
        }
        points
    }

    /// Refuses a list where one value is wanted (`up`), naming the flag.
    pub(super) fn single(&self) -> Result<Point, String> {
        for (flag, count) in [
            ("--peers", self.peers.len()),
            ("--latency", self.latency.len()),
            ("--transport", self.transport.len()),
        ] {
            if count > 1 {
                return Err(format!(
                    "{flag} takes one value with `up`; `orchestrator sweep {flag} a,b,c` runs several"
                ));
            }
        }
        Ok(self.points().remove(0))
    }

    /// The scenario of `point`: the file (or the built-in default), the flags over it,
    /// resolved once.
    pub(super) fn scenario(&self, point: &Point) -> Result<Scenario, ScenarioError> {
        let raw = match &self.scenario {
            Some(path) => RawScenario::load(path)?,
            None => RawScenario::parse(DEFAULT_SCENARIO_NAME, DEFAULT_SCENARIO)?,
        };
        let flags = ScenarioFlags {
            peers: point.peers,
            transport: point.transport.clone(),
            profile: self.profile.clone(),
            latency: point.latency.clone(),
            jitter: self.jitter.clone(),
            loss: self.loss.clone(),
            bandwidth: self.bandwidth.clone(),
            cpus: self.cpus,
            memory: self.memory.clone(),
        };
        Scenario::resolve(raw.with_flags(&flags))
    }

    /// How to run `scenario`.
    pub(super) fn up_options(&self, scenario: Scenario, keep: bool) -> UpOptions {
        UpOptions {
            node: NodeOptions {
                transport: scenario.transport,
                max_connections: self.max_connections,
                idle_timeout_secs: IDLE_TIMEOUT_SECS,
                cpus: scenario.resources.cpus,
                memory_bytes: scenario.resources.memory_bytes,
                api_token: None,
            },
            scenario,
            runtime: self.runtime,
            results_root: self.results_dir.clone(),
            keep,
            subnet: self.subnet,
            node_binary: self.node_binary.clone(),
            seed: self.seed,
            prometheus: self.prometheus.clone(),
            shaper: self.shaper.into(),
            fidelity: self.fidelity,
        }
    }
}
