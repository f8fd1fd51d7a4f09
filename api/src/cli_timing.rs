//! The CLI's report of its own wall time.
//!
//! `p2p-node <publish|search|install|status> --timing` ends its standard error with one line,
//! `p2p-node elapsed_s: <seconds>`: the time from the start of its `main` to its exit, which
//! covers parsing, the HTTP call, the node's work and the output. The orchestrator's CLI phase
//! reads it, so that `docker exec`'s own cost of starting a process inside a container (40–60
//! ms on an idle host, more on a busy one) is not counted as the CLI's.

use std::time::Duration;

/// The CLI flag that asks for the line.
pub const FLAG: &str = "--timing";

const PREFIX: &str = "p2p-node elapsed_s: ";

/// Longer than any CLI call may take: a reported time beyond it is not believed.
const MOST: Duration = Duration::from_secs(24 * 3600);

/// The line the CLI prints for `elapsed`.
pub fn line(elapsed: Duration) -> String {
    format!("{PREFIX}{:.6}", elapsed.as_secs_f64())
}

/// The time the last such line of `output` reports, and `output` without that line. `None`
/// when there is no line, or its figure is not a number of seconds within a day.
pub fn take(output: &str) -> Option<(Duration, String)> {
    let mut lines: Vec<&str> = output.lines().collect();
    let at = lines.iter().rposition(|l| l.starts_with(PREFIX))?;
    let seconds: f64 = lines[at][PREFIX.len()..].trim().parse().ok()?;
    let elapsed = Duration::try_from_secs_f64(seconds)
        .ok()
        .filter(|d| *d <= MOST)?;
    lines.remove(at);
    Some((elapsed, lines.join("\n")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_reads_back_and_leaves_the_rest() {
        let out = format!("found 3\n{}\n", line(Duration::from_micros(123_456)));
        let (elapsed, rest) = take(&out).unwrap();
        assert_eq!(elapsed, Duration::from_micros(123_456));
        assert_eq!(rest, "found 3");
    }

    #[test]
    fn the_last_line_counts_and_only_it_is_taken_out() {
        let out = format!(
            "{}\nfound 1\n{}",
            line(Duration::from_millis(5)),
            line(Duration::from_millis(7))
        );
        let (elapsed, rest) = take(&out).unwrap();
        assert_eq!(elapsed, Duration::from_millis(7));
        assert_eq!(rest, format!("{}\nfound 1", line(Duration::from_millis(5))));
    }

    #[test]
    fn junk_is_not_a_time() {
        assert!(take("no timing here").is_none());
        for bad in ["-1", "NaN", "inf", "1e12", "abc", ""] {
            assert!(take(&format!("{PREFIX}{bad}")).is_none(), "{bad:?}");
        }
    }
}
