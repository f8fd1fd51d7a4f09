//! `orchestrator sweep --peers 10,50,100 --latency 20ms`: the scenario at every combination
//! of the listed values, one run after the other, then every phase side by side
//! (`results/sweep-<id>/`).

use std::process::ExitCode;

use clap::Args;
use orchestrator::sweep::{self, SweepPoint};
use orchestrator::up::{up, UpError};
use p2p_api::error::chain;

use super::run_args::RunArgs;
use super::{usage, EXIT_INFRA};

#[derive(Debug, Args)]
pub(super) struct SweepArgs {
    #[command(flatten)]
    run: RunArgs,
}

pub(super) async fn run(args: SweepArgs) -> ExitCode {
    let points = args.run.points();
    if points.len() < 2 {
        return usage(
            "a sweep needs at least two points: give a list to --peers, --latency or --transport, e.g. --peers 10,50,100",
        );
    }
    // Every point's scenario is checked before the first run starts.
    let mut scenarios = Vec::with_capacity(points.len());
    for point in &points {
        match args.run.scenario(point) {
            Ok(s) => scenarios.push(s),
            Err(e) => return usage(format!("{}: {e}", point.label())),
        }
    }
    let id = chrono::Utc::now().format("%Y%m%d-%H%M%S").to_string();
    let dir = args.run.results_dir.join(format!("sweep-{id}"));
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("error: creating {}: {e}", dir.display());
        return ExitCode::from(EXIT_INFRA);
    }
    let total = points.len();
    let mut done = Vec::with_capacity(total);
    for (i, (point, scenario)) in points.iter().zip(scenarios).enumerate() {
        eprintln!("sweep: point {} of {total}: {}", i + 1, point.label());
        match up(args.run.up_options(scenario, false)).await {
            Ok(outcome) => {
                let exit_code = outcome.exit_code();
                let interrupted = outcome
                    .results
                    .failures
                    .iter()
                    .any(|f| f.starts_with("interrupted"));
                done.push(SweepPoint {
                    label: point.label(),
                    run_dir: outcome.dir,
                    exit_code,
                    results: outcome.results,
                });
                // The report of what ran is written either way.
                if let Err(e) = sweep::write(&dir, "Sweep", &done) {
                    eprintln!("warning: writing the sweep report: {}", chain(&e));
                }
                if interrupted {
                    eprintln!(
                        "sweep: interrupted; report of the points run: {}",
                        dir.display()
                    );
                    return ExitCode::from(EXIT_INFRA);
                }
            }
            Err(e @ UpError::Capacity(_)) => {
                return usage(format!("{}: {}", point.label(), chain(&e)));
            }
            Err(e) => {
                eprintln!("error: {}: {}", point.label(), chain(&e));
                return ExitCode::from(EXIT_INFRA);
            }
        }
    }
    println!("sweep report: {}", dir.join("summary.md").display());
    ExitCode::SUCCESS
}
