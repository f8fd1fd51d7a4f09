//! The command line: one file per subcommand. Each returns the exit code it ends with.

mod compare;
mod down;
mod image;
mod report;
mod run_args;
mod status;
mod sweep;
mod trend;
mod up;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Bad usage or scenario (DESIGN.md).
const EXIT_USAGE: u8 = 2;
/// The infrastructure failed: no Docker, an image that does not build, a node never healthy.
const EXIT_INFRA: u8 = 3;

#[derive(Debug, Parser)]
#[command(
    name = "orchestrator",
    version,
    about = "Runs the P2P marketplace testbed: a network of real p2p-node peers, benchmark phases, targets, report"
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Bring a network up, run the scenario's phases, check its targets, write the report,
    /// tear everything down.
    Up(Box<up::UpArgs>),
    /// Remove what runs left behind (containers, networks, local processes, iptables
    /// chains), by label and name.
    Down(down::DownArgs),
    /// List runs that still have resources.
    Status,
    /// Build the node image (offline) and tag it p2p-testbed/node:latest, for compose/.
    Image(image::ImageArgs),
    /// Re-render summary.md, junit.xml and the plots from a run's results.json.
    Report(report::ReportArgs),
    /// Compare two runs phase by phase; exit 1 on a significant regression.
    Compare(compare::CompareArgs),
    /// Run the scenario at several sizes, latencies or transports (--peers 10,50,100,
    /// --transport tcp,quic) and draw each phase against them, degraded points marked.
    Sweep(Box<sweep::SweepArgs>),
    /// Draw every phase's p50/p95 over a series of runs (the nightly's history), degraded
    /// runs marked.
    Trend(trend::TrendArgs),
    /// The watchdog `up` starts for each run: removes the run when `up` dies (internal).
    #[command(hide = true)]
    Reap {
        #[arg(long)]
        run: String,
    },
}

pub(crate) async fn execute(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Up(args) => up::run(*args).await,
        Command::Down(args) => infra(down::run(args).await),
        Command::Status => infra(status::run().await),
        Command::Image(args) => infra(image::run(args).await),
        Command::Report(args) => infra(report::run(&args)),
        Command::Compare(args) => compare::run(&args),
        Command::Sweep(args) => sweep::run(*args).await,
        Command::Trend(args) => trend::run(&args),
        Command::Reap { run } => {
            orchestrator::reaper::watch(&run).await;
            ExitCode::SUCCESS
        }
    }
}

/// Exit 2 with `message`.
fn usage(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(EXIT_USAGE)
}

/// Exit 0, or 3 with the error and its causes.
fn infra(outcome: anyhow::Result<()>) -> ExitCode {
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_INFRA)
        }
    }
}
