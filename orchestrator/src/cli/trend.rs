//! `orchestrator trend RUN... --out DIR`: every phase's p50 and p95 over a series of runs, in
//! the order they started, with the same report as a sweep (the nightly's history).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use orchestrator::results::RunResults;
use orchestrator::sweep::{self, SweepPoint};
use p2p_api::error::chain;

use super::{usage, EXIT_INFRA};

#[derive(Debug, Args)]
pub(super) struct TrendArgs {
    /// Run directories or results.json files; a partial run is left out.
    #[arg(required = true)]
    runs: Vec<PathBuf>,
    /// Where summary.md and the plots go.
    #[arg(long)]
    out: PathBuf,
}

pub(super) fn run(args: &TrendArgs) -> ExitCode {
    let mut points = Vec::with_capacity(args.runs.len());
    for path in &args.runs {
        let results = match RunResults::load(path) {
            Ok(r) => r,
            Err(e) => return usage(chain(&e)),
        };
        if results.partial {
            eprintln!("trend: leaving out {} (partial run)", path.display());
            continue;
        }
        points.push(SweepPoint {
            // `2026-11-30T02:17:00Z` → `11-30 02:17`
            label: results
                .run
                .started_at
                .get(5..16)
                .map_or_else(|| results.run.id.clone(), |d| d.replace('T', " ")),
            run_dir: path.clone(),
            exit_code: results.exit_code(),
            results,
        });
    }
    points.sort_by(|a, b| a.results.run.started_at.cmp(&b.results.run.started_at));
    if let Err(e) = std::fs::create_dir_all(&args.out) {
        eprintln!("error: creating {}: {e}", args.out.display());
        return ExitCode::from(EXIT_INFRA);
    }
    let title = format!("Trend over {} runs", points.len());
    match sweep::write(&args.out, &title, &points) {
        Ok(()) => {
            println!("trend: {}", args.out.join("summary.md").display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {}", chain(&e));
            ExitCode::from(EXIT_INFRA)
        }
    }
}
