//! The end of a run: with `--keep`, the network stays up, shaped, until a signal; then the
//! shaping goes (rules first, then the delay line, whose figures are kept) and the runtime
//! removes what it created.

use std::path::Path;

use indicatif::MultiProgress;

use super::{progress, Collected};
use crate::runtime::Runtime;
use crate::shaping;
use crate::signals::shutdown_signal;
use crate::testbed::Testbed;

/// Waits for Ctrl-C, SIGTERM or SIGHUP with the network up and its links shaped.
pub(super) async fn keep(testbed: &Testbed, dir: &Path) {
    eprintln!("network kept running (--keep): Ctrl-C tears it down");
    eprintln!(
        "Prometheus targets: {}",
        dir.join("prometheus-targets.json").display()
    );
    let _ = testbed;
    shutdown_signal().await;
}

/// Removes the run's shaping and keeps what the delay line reports.
pub(super) async fn shaping(testbed: &mut Testbed, collected: &mut Collected) {
    let Some(active) = testbed.shaping.take() else {
        return;
    };
    let report = match tokio::task::spawn_blocking(move || active.teardown()).await {
        Ok(report) => report,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    };
    collected.shaping.delay_line = report.delay_line.as_ref().map(shaping::delay_line_report);
    collected.failures.extend(
        report
            .problems
            .into_iter()
            .map(|p| format!("shaping teardown: {p}")),
    );
}

/// Removes every container, network, process and work directory of the run.
pub(super) async fn runtime(
    runtime: &mut Runtime,
    progress: &MultiProgress,
    collected: &mut Collected,
) {
    let spin = progress::spinner(progress, "tearing down");
    let problems = runtime.teardown().await;
    spin.finish_and_clear();
    collected
        .failures
        .extend(problems.into_iter().map(|p| format!("teardown: {p}")));
}
