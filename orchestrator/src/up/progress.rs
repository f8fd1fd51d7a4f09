//! What a run shows while it works: a bar with a count and a rate for steps that count (peers
//! started, peers joined, calls to the nodes done out of planned), a spinner with the time
//! elapsed for the others. A slow run shows its count moving; a stuck one does not.

use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

const TICK: Duration = Duration::from_millis(120);

/// A spinner with `message` and the time elapsed.
pub(super) fn spinner(progress: &MultiProgress, message: &str) -> ProgressBar {
    let bar = progress.add(ProgressBar::new_spinner());
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} ({elapsed})").expect("valid template"),
    );
    bar.set_message(message.to_owned());
    bar.enable_steady_tick(TICK);
    bar
}

/// A bar of `len` steps (more may be added as they are planned), with the rate.
pub(super) fn counter(progress: &MultiProgress, len: u64) -> ProgressBar {
    let bar = progress.add(ProgressBar::new(len));
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {msg:28} [{bar:30}] {pos}/{len} ({per_sec}, {elapsed})",
        )
        .expect("valid template"),
    );
    bar.enable_steady_tick(TICK);
    bar
}

/// A counter for a step whose calls are planned as it goes: starts at 0 of 0.
pub(super) fn operations(progress: &MultiProgress, message: &str) -> ProgressBar {
    let bar = counter(progress, 0);
    bar.set_message(message.to_owned());
    bar
}
