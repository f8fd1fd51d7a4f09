//! `orchestrator up`: the scenario (file, or the built-in default) with the flags over it,
//! resolved once, then one run.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use ipnet::Ipv4Net;
use orchestrator::report;
use orchestrator::runtime::NodeOptions;
use orchestrator::scenario::{
    RawScenario, Scenario, ScenarioFlags, DEFAULT_SCENARIO, DEFAULT_SCENARIO_NAME,
};
use orchestrator::up::{up, RuntimeChoice, UpOptions};
use p2p_api::error::chain;

use super::{usage, EXIT_INFRA};

/// Connections a testbed node keeps open for long.
const IDLE_TIMEOUT_SECS: u64 = 120;

#[derive(Debug, Args)]
pub(super) struct UpArgs {
    /// Scenario file (YAML); the built-in default suite when omitted.
    #[arg(long)]
    scenario: Option<PathBuf>,
    /// Number of peers (overrides the scenario).
    #[arg(long)]
    peers: Option<usize>,
    /// One-way delay on every link, e.g. 20ms, so a round trip of about 40ms. Replaces the
    /// profile's latency matrix and the scenario's latency.
    #[arg(long)]
    latency: Option<String>,
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
    results_dir: PathBuf,
    /// Keep the network running after the phases until Ctrl-C (to watch it live).
    #[arg(long)]
    keep: bool,
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

impl UpArgs {
    fn flags(&self) -> ScenarioFlags {
        ScenarioFlags {
            peers: self.peers,
            profile: self.profile.clone(),
            latency: self.latency.clone(),
            jitter: self.jitter.clone(),
            loss: self.loss.clone(),
            bandwidth: self.bandwidth.clone(),
            cpus: self.cpus,
            memory: self.memory.clone(),
        }
    }
}

pub(super) async fn run(args: UpArgs) -> ExitCode {
    let raw = match &args.scenario {
        Some(path) => RawScenario::load(path),
        None => RawScenario::parse(DEFAULT_SCENARIO_NAME, DEFAULT_SCENARIO),
    };
    let scenario = match raw.and_then(|raw| Scenario::resolve(raw.with_flags(&args.flags()))) {
        Ok(s) => s,
        Err(e) => return usage(e),
    };
    let options = UpOptions {
        node: NodeOptions {
            max_connections: args.max_connections,
            idle_timeout_secs: IDLE_TIMEOUT_SECS,
            cpus: scenario.resources.cpus,
            memory_bytes: scenario.resources.memory_bytes,
            api_token: None,
        },
        scenario,
        runtime: args.runtime,
        results_root: args.results_dir,
        keep: args.keep,
        subnet: args.subnet,
        node_binary: args.node_binary,
        seed: args.seed,
        prometheus: args.prometheus,
        shaper: args.shaper.into(),
    };
    match up(options).await {
        Ok(outcome) => {
            println!("{}", report::target_table(&outcome.results));
            for failure in &outcome.results.failures {
                eprintln!("failure: {failure}");
            }
            println!("report: {}", outcome.dir.join("summary.md").display());
            ExitCode::from(outcome.exit_code())
        }
        Err(e) => {
            eprintln!("error: {}", chain(&e));
            ExitCode::from(EXIT_INFRA)
        }
    }
}
