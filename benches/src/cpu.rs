//! CPU time of this process at nanosecond resolution, from `CLOCK_PROCESS_CPUTIME_ID`: the
//! kernel brings the running threads' accounts up to date when it is read, where
//! `/proc/self/task/*/schedstat` lags by up to a scheduler tick and `/proc/self/stat` counts
//! 10 ms ticks.

use std::time::Duration;

use nix::time::{clock_gettime, ClockId};

/// CPU time all threads of this process have used so far; `None` where the clock is missing.
pub fn process_cpu_time() -> Option<Duration> {
    clock_gettime(ClockId::CLOCK_PROCESS_CPUTIME_ID)
        .ok()
        .map(Duration::from)
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    #[test]
    fn busy_work_shows_up() {
        let before = process_cpu_time().expect("Linux");
        let start = Instant::now();
        let mut x = 0u64;
        while start.elapsed() < Duration::from_millis(60) {
            for i in 0..10_000u64 {
                x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
            }
        }
        let busy = process_cpu_time().unwrap() - before;
        // Even on a loaded machine the spinning thread gets a good share of 60 ms.
        assert!(
            busy >= Duration::from_millis(10),
            "spinning 60 ms used {busy:?} of CPU"
        );
    }
}
