//! `orchestrator compare BASE NEW`: the change of every phase between two runs, as a table;
//! exit 1 on a significant regression.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use orchestrator::compare::{compare, config_differences, CompareOptions};
use orchestrator::quantity;
use orchestrator::results::RunResults;
use p2p_api::error::chain;

use super::usage;

#[derive(Debug, Args)]
pub(super) struct CompareArgs {
    /// The baseline run directory or results.json.
    base: PathBuf,
    /// The new run directory or results.json.
    new: PathBuf,
    /// Worsening of a median that counts as a regression.
    #[arg(long, default_value = "5%")]
    threshold: String,
    /// Significance level of the Mann-Whitney U test.
    #[arg(long, default_value_t = 0.05)]
    alpha: f64,
}

pub(super) fn run(args: &CompareArgs) -> ExitCode {
    let threshold = match quantity::parse(&args.threshold) {
        Ok((t, _)) => t,
        Err(e) => return usage(format!("--threshold: {e}")),
    };
    let (base, new) = match (RunResults::load(&args.base), RunResults::load(&args.new)) {
        (Ok(b), Ok(n)) => (b, n),
        (Err(e), _) | (_, Err(e)) => return usage(chain(&e)),
    };
    let differences = config_differences(&base, &new);
    if differences.is_empty() {
        println!("same configuration: {}", describe(&new));
    } else {
        println!(
            "the runs differ in configuration, so a change below is not only the code's: {}",
            differences.join("; ")
        );
    }
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

/// The configuration both runs share, in one line.
fn describe(r: &RunResults) -> String {
    format!(
        "{} peers, {} ms one way ({}), {} runtime, {}, {} shaper",
        r.run.peers,
        r.run.link.latency_ms,
        r.run.link.profile,
        r.run.runtime,
        r.run.transport,
        r.run.shaper
    )
}
