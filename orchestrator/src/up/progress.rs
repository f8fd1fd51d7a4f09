//! What a run shows while it works: a bar for steps that count (peers started, healthy), a
//! spinner with the time elapsed for the others.

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

/// A bar of `len` steps.
pub(super) fn counter(progress: &MultiProgress, len: u64) -> ProgressBar {
    let bar = progress.add(ProgressBar::new(len));
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg:28} [{bar:30}] {pos}/{len} ({elapsed})")
            .expect("valid template"),
    );
    bar.enable_steady_tick(TICK);
    bar
}
