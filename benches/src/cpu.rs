//! CPU time of this process at nanosecond resolution: the sum of `/proc/self/task/*/schedstat`
//! (time on CPU per thread). `/proc/self/stat` only counts 10 ms ticks.

use std::time::Duration;

/// CPU time all threads of this process have used so far; `None` off Linux.
pub fn process_cpu_time() -> Option<Duration> {
    let mut total: u64 = 0;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let path = task.ok()?.path().join("schedstat");
        let Ok(text) = std::fs::read_to_string(path) else {
            continue; // the thread ended while we read
        };
        total += text.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(Duration::from_nanos(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_work_shows_up() {
        let before = process_cpu_time().expect("Linux");
        let mut x = 0u64;
        for i in 0..20_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        let used = process_cpu_time().unwrap() - before;
        assert!(used > Duration::from_millis(1), "{used:?}");
    }
}
