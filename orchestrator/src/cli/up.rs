//! `orchestrator up`: the scenario (file, or the built-in default) with the flags over it,
//! resolved once, then one run.

use std::process::ExitCode;

use clap::Args;
use orchestrator::report;
use orchestrator::up::{up, UpError};
use p2p_api::error::chain;

use super::run_args::RunArgs;
use super::{usage, EXIT_INFRA};

#[derive(Debug, Args)]
pub(super) struct UpArgs {
    #[command(flatten)]
    run: RunArgs,
    /// Keep the network running, shaped, after the phases until Ctrl-C (to watch it live or
    /// run your own traffic against it).
    #[arg(long)]
    keep: bool,
}

pub(super) async fn run(args: UpArgs) -> ExitCode {
    let point = match args.run.single() {
        Ok(p) => p,
        Err(e) => return usage(e),
    };
    let scenario = match args.run.scenario(&point) {
        Ok(s) => s,
        Err(e) => return usage(e),
    };
    match up(args.run.up_options(scenario, args.keep)).await {
        Ok(outcome) => {
            println!("{}", report::target_table(&outcome.results));
            for failure in &outcome.results.failures {
                eprintln!("failure: {failure}");
            }
            println!("report: {}", outcome.dir.join("summary.md").display());
            ExitCode::from(outcome.exit_code())
        }
        Err(e @ UpError::Capacity(_)) => usage(chain(&e)),
        Err(e) => {
            eprintln!("error: {}", chain(&e));
            ExitCode::from(EXIT_INFRA)
        }
    }
}
