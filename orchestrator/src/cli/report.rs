//! `orchestrator report`: re-renders a run's summary, JUnit file and plots from its
//! results.json.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use orchestrator::report;
use orchestrator::results::RunResults;

#[derive(Debug, Args)]
pub(super) struct ReportArgs {
    /// The run directory (or its results.json).
    run: PathBuf,
}

pub(super) fn run(args: &ReportArgs) -> anyhow::Result<()> {
    let run = args.run.as_path();
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
