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
/// The peers' addresses go to the console and to `peers.txt` in the run directory.
pub(super) async fn keep(testbed: &Testbed, dir: &Path, api_token: Option<&str>) {
    use std::fmt::Write as _;
    let mut peers = String::from("# peer, HTTP API, libp2p address\n");
    for p in &testbed.peers {
        let _ = writeln!(peers, "{} {} {}", p.slot.name, p.slot.api_url(), p.addr);
    }
    let list = dir.join("peers.txt");
    if let Err(e) = std::fs::write(&list, &peers) {
        eprintln!("warning: writing {}: {e}", list.display());
    }
    eprintln!(
        "network kept running (--keep), its links shaped as configured: Ctrl-C tears it down"
    );
    for line in peers.lines().skip(1).take(3) {
        eprintln!("  {line}");
    }
    eprintln!(
        "  … every peer in {}; the CLI and curl reach them with --node <HTTP API>{}",
        list.display(),
        api_token.map_or_else(String::new, |t| format!(
            " and --api-token {t} (or P2P_NODE_API_TOKEN)"
        ))
    );
    eprintln!(
        "Prometheus targets: {}",
        dir.join("prometheus-targets.json").display()
    );
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
