//! The end of a run: with `--keep`, the network stays up, shaped, until a signal; then the
//! shaping goes (rules first, then the delay line, whose figures are kept) and the runtime
//! removes what it created.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use indicatif::MultiProgress;
use tokio::sync::Notify;

use super::{progress, Collected};
use crate::runtime::Runtime;
use crate::shaping;
use crate::testbed::Testbed;

/// The hand-over of the signal that ends a kept network. `up` listens for Ctrl-C, SIGTERM and
/// SIGHUP all through a run, and a signal otherwise interrupts it; while the network is kept,
/// the signal is the expected end instead: `up` passes it on ([`Kept::release`]) and the run
/// tears down as a finished run does, its report whole. A second signal during that teardown
/// interrupts as usual.
#[derive(Debug, Default)]
pub(super) struct Kept {
    keeping: AtomicBool,
    end: Notify,
}

impl Kept {
    /// Waits, the network kept, until [`Kept::release`].
    async fn hold(&self) {
        self.keeping.store(true, Ordering::SeqCst);
        self.end.notified().await;
    }

    /// Ends the keeping when there is one (true); false when the run is not kept, and the
    /// signal interrupts it. (A release before the hold starts waiting is not lost: `Notify`
    /// keeps it.)
    pub(super) fn release(&self) -> bool {
        let kept = self.keeping.swap(false, Ordering::SeqCst);
        if kept {
            self.end.notify_one();
        }
        kept
    }
}

/// Waits for Ctrl-C, SIGTERM or SIGHUP (passed on through `kept`) with the network up and its
/// links shaped. The peers' addresses go to the console and to `peers.txt` in the run
/// directory.
pub(super) async fn keep(testbed: &Testbed, dir: &Path, api_token: Option<&str>, kept: &Kept) {
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
    kept.hold().await;
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
    // A peer restarted behind the run's back lost its state: its figures are not the run's.
    collected.failures.extend(
        runtime
            .unplanned_restarts()
            .await
            .into_iter()
            .map(|r| format!("peer restarted outside the run: {r}")),
    );
    let spin = progress::spinner(progress, "tearing down");
    let problems = runtime.teardown().await;
    spin.finish_and_clear();
    collected
        .failures
        .extend(problems.into_iter().map(|p| format!("teardown: {p}")));
}
