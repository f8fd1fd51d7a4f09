//! The command line: `up`, `down`, `status`, `report`, `compare`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use ipnet::Ipv4Net;

use crate::compare::{compare, CompareOptions};
use crate::quantity;
use crate::report;
use crate::results::RunResults;
use crate::runtime::{docker, local, NodeOptions};
use crate::scenario::{LinkSettings, Scenario, DEFAULT_SCENARIO};
use crate::up::{up, RuntimeChoice, UpError, UpOptions};

/// Exit codes (DESIGN.md): 0 all targets met, 1 a target missed or a regression found,
/// 2 bad usage or scenario, 3 infrastructure failure.
pub const EXIT_USAGE: u8 = 2;
pub const EXIT_INFRA: u8 = 3;

#[derive(Debug, Parser)]
#[command(
    name = "orchestrator",
    version,
    about = "Runs the P2P marketplace testbed: a network of real p2p-node peers, benchmark phases, targets, report"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Bring a network up, run the scenario's phases, check its targets, write the report,
    /// tear everything down.
    Up(Box<UpArgs>),
    /// Remove what runs left behind (containers, networks, local processes), by label.
    Down(DownArgs),
    /// List runs that still have resources.
    Status,
    /// Build the node image (offline) and tag it p2p-testbed/node:latest, for compose/.
    Image {
        /// The static p2p-node binary (default: next to this executable, built if missing).
        #[arg(long)]
        node_binary: Option<PathBuf>,
    },
    /// Re-render summary.md, junit.xml and the plots from a run's results.json.
    Report {
        /// The run directory (or its results.json).
        run: PathBuf,
    },
    /// Compare two runs phase by phase; exit 1 on a significant regression.
    Compare(CompareArgs),
}

#[derive(Debug, Args)]
pub struct UpArgs {
    /// Scenario file (YAML); the built-in default suite when omitted.
    #[arg(long)]
    pub scenario: Option<PathBuf>,
    /// Number of peers (overrides the scenario).
    #[arg(long)]
    pub peers: Option<usize>,
    /// One-way delay on every link, e.g. 20ms, so a round trip of about 40ms. Replaces the
    /// profile's latency matrix and the scenario's latency.
    #[arg(long)]
    pub latency: Option<String>,
    /// Link profile: lan, wan, continental, global, mobile-3g, lossy-wifi (netem/profiles/) or
    /// a profile file. Peers are placed in its regions in turn. Replaces the scenario's link
    /// section; --latency and the flags below override it.
    #[arg(long)]
    pub profile: Option<String>,
    /// Jitter around the one-way delay, e.g. 2ms.
    #[arg(long)]
    pub jitter: Option<String>,
    /// Packet loss on every link, e.g. 0.5%.
    #[arg(long)]
    pub loss: Option<String>,
    /// Bandwidth of every link, e.g. 10mbit.
    #[arg(long)]
    pub bandwidth: Option<String>,
    /// Link shaping backend. auto: kernel tc netem where the kernel has it, the userspace
    /// NFQUEUE delay line otherwise (needs root or CAP_NET_ADMIN); none: unshaped, said so in
    /// the report.
    #[arg(long, value_enum, default_value_t = ShaperArg::Auto)]
    pub shaper: ShaperArg,
    #[arg(long, value_enum, default_value_t = RuntimeChoice::Auto)]
    pub runtime: RuntimeChoice,
    /// Where run directories go.
    #[arg(long, default_value = "results")]
    pub results_dir: PathBuf,
    /// Keep the network running after the phases until Ctrl-C (to watch it live).
    #[arg(long)]
    pub keep: bool,
    /// Subnet of the run's Docker network (default: a free /16 in 10.213–10.250).
    #[arg(long)]
    pub subnet: Option<Ipv4Net>,
    /// The static p2p-node binary (default: next to this executable, built if missing).
    #[arg(long)]
    pub node_binary: Option<PathBuf>,
    /// CPU limit per container, in cores (overrides the scenario).
    #[arg(long)]
    pub cpus: Option<f64>,
    /// Memory limit per container, e.g. 256MiB (overrides the scenario).
    #[arg(long)]
    pub memory: Option<String>,
    /// Connection limit of every node.
    #[arg(long, default_value_t = 128)]
    pub max_connections: u32,
    /// Seed of the choices the phases make (which peer, which package).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// An existing Prometheus (e.g. http://localhost:9090): checks it answers and prints the
    /// file-based service discovery config that makes it scrape every run.
    #[arg(long)]
    pub prometheus: Option<String>,
}

/// `--shaper`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ShaperArg {
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

#[derive(Debug, Args)]
pub struct DownArgs {
    /// The run to remove.
    #[arg(long, conflicts_with = "all")]
    pub run: Option<String>,
    /// Every run's leftovers.
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The baseline run directory or results.json.
    pub base: PathBuf,
    /// The new run directory or results.json.
    pub new: PathBuf,
    /// Worsening of a median that counts as a regression.
    #[arg(long, default_value = "5%")]
    pub threshold: String,
    /// Significance level of the Mann-Whitney U test.
    #[arg(long, default_value_t = 0.05)]
    pub alpha: f64,
}

pub async fn execute(cli: Cli) -> ExitCode {
    let outcome = match cli.command {
        Command::Up(args) => return run_up(*args).await,
        Command::Down(args) => down(args).await,
        Command::Status => status().await,
        Command::Image { node_binary } => image(node_binary.as_deref()).await,
        Command::Report { run } => rerender(&run),
        Command::Compare(args) => return run_compare(&args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_INFRA)
        }
    }
}

fn usage(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(EXIT_USAGE)
}

/// Applies `--profile`, `--latency`, `--jitter`, `--loss` and `--bandwidth` over the
/// scenario's link settings.
fn link_flags(args: &UpArgs, link: &mut LinkSettings) -> Result<(), String> {
    if let Some(profile) = &args.profile {
        // A profile on the command line replaces the scenario's whole link section.
        link.profile = Some(profile.clone()).filter(|p| p != "uniform");
        link.overrides = netem::LinkOverrides::default();
    }
    let o = &mut link.overrides;
    if let Some(v) = &args.latency {
        o.delay = Some(quantity::parse_duration(v).map_err(|e| format!("--latency: {e}"))?);
    }
    if let Some(v) = &args.jitter {
        o.jitter = Some(quantity::parse_duration(v).map_err(|e| format!("--jitter: {e}"))?);
    }
    if let Some(v) = &args.loss {
        o.loss = Some(quantity::parse_fraction(v).map_err(|e| format!("--loss: {e}"))?);
    }
    if let Some(v) = &args.bandwidth {
        o.bandwidth_bps =
            Some(quantity::parse_bandwidth(v).map_err(|e| format!("--bandwidth: {e}"))?);
    }
    link.resolve().map(drop)
}

async fn run_up(args: UpArgs) -> ExitCode {
    let loaded = match &args.scenario {
        Some(path) => Scenario::load(path),
        None => Scenario::parse("scenarios/default.yaml (built in)", DEFAULT_SCENARIO),
    };
    let mut scenario = match loaded {
        Ok(s) => s,
        Err(e) => return usage(e),
    };
    if let Some(peers) = args.peers {
        if peers < 2 {
            return usage(format!("--peers must be at least 2, got {peers}"));
        }
        scenario.peers = peers;
    }
    if let Err(e) = link_flags(&args, &mut scenario.link) {
        return usage(e);
    }
    if let Some(cpus) = args.cpus {
        scenario.resources.cpus = Some(cpus);
    }
    if let Some(memory) = &args.memory {
        match quantity::parse_bytes(memory) {
            Ok(m) => scenario.resources.memory_bytes = Some(m),
            Err(e) => return usage(format!("--memory: {e}")),
        }
    }
    let options = UpOptions {
        node: NodeOptions {
            max_connections: args.max_connections,
            idle_timeout_secs: 120,
            cpus: scenario.resources.cpus,
            memory_bytes: scenario.resources.memory_bytes,
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
        Err(UpError::Usage(m)) => usage(m),
        Err(UpError::Infra(e)) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_INFRA)
        }
    }
}

async fn down(args: DownArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.all || args.run.is_some(),
        "say which run with --run ID, or --all"
    );
    let run = args.run.as_deref();
    let (processes, mut problems) = local::remove_leftovers(run);
    let removed = match docker::connect().await {
        Ok(d) => Some(docker::remove_labelled(&d, run).await),
        Err(e) => {
            eprintln!("docker: not available ({e}); only local runs were cleaned");
            None
        }
    };
    if let Some(r) = &removed {
        println!(
            "removed {} container(s) and {} network(s)",
            r.containers, r.networks
        );
        problems.extend(r.problems.iter().cloned());
    }
    println!("stopped {processes} local process(es)");
    match netem::remove_leftovers(run) {
        Ok(chains) => println!("removed {} iptables chain(s)", chains.len()),
        Err(netem::ShapeError::Missing { .. }) => {}
        Err(e) => problems.push(format!("iptables: {e}")),
    }
    anyhow::ensure!(
        problems.is_empty(),
        "some resources could not be removed:\n{}",
        problems.join("\n")
    );
    Ok(())
}

async fn image(node_binary: Option<&std::path::Path>) -> anyhow::Result<()> {
    let binary = crate::runtime::locate_node_binary(node_binary)?;
    let docker = docker::connect().await?;
    let runtime = crate::runtime::DockerRuntime::new(docker, "image", None);
    let tag = runtime.build_latest(&binary).await?;
    println!("{tag} (also tagged p2p-testbed/node:latest)");
    Ok(())
}

async fn status() -> anyhow::Result<()> {
    let mut any = false;
    if let Ok(d) = docker::connect().await {
        for (run, (containers, networks)) in docker::leftovers(&d).await? {
            any = true;
            println!("docker run {run}: {containers} container(s), {networks} network(s)");
        }
    }
    if let Ok(chains) = netem::iptables::chains_present() {
        for chain in chains {
            any = true;
            println!("iptables chain {chain} (mangle table)");
        }
    }
    for run in local::leftover_runs() {
        any = true;
        println!("local run {run}: work directory and possibly processes");
    }
    if !any {
        println!("no run has resources left");
    }
    Ok(())
}

fn rerender(run: &std::path::Path) -> anyhow::Result<()> {
    let results = RunResults::load(run)?;
    let dir = if run.is_dir() {
        run.to_owned()
    } else {
        run.parent().map(|p| p.to_owned()).unwrap_or_default()
    };
    report::render(&dir, &results).with_context(|| format!("rendering into {}", dir.display()))?;
    println!("{}", report::target_table(&results));
    println!("report: {}", dir.join("summary.md").display());
    Ok(())
}

fn run_compare(args: &CompareArgs) -> ExitCode {
    let threshold = match quantity::parse(&args.threshold) {
        Ok((t, _)) => t,
        Err(e) => return usage(format!("--threshold: {e}")),
    };
    let (base, new) = match (RunResults::load(&args.base), RunResults::load(&args.new)) {
        (Ok(b), Ok(n)) => (b, n),
        (Err(e), _) | (_, Err(e)) => return usage(format!("{e:#}")),
    };
    let changes = compare(
        &base,
        &new,
        CompareOptions {
            threshold,
            alpha: args.alpha,
        },
    );
    let mut table = comfy_table::Table::new();
    table
        .load_preset(comfy_table::presets::UTF8_FULL_CONDENSED)
        .set_header(vec![
            "phase", "base p50", "new p50", "change", "p-value", "verdict",
        ]);
    for c in &changes {
        let verdict = if c.regression {
            "REGRESSION"
        } else if c.improvement {
            "improvement"
        } else {
            "no significant change"
        };
        table.add_row(vec![
            c.phase.clone(),
            quantity::format(c.base_p50, &c.unit),
            quantity::format(c.new_p50, &c.unit),
            format!("{:+.1}%", c.change * 100.0),
            format!("{:.4}", c.p_value),
            verdict.to_owned(),
        ]);
    }
    println!("{table}");
    let regressions = changes.iter().filter(|c| c.regression).count();
    println!(
        "{} phase(s) compared, {regressions} regression(s) beyond {:.1}% at p < {}",
        changes.len(),
        threshold * 100.0,
        args.alpha
    );
    if regressions > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
