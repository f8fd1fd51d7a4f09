//! CPU throttling of the peers' containers, from their cgroup's `cpu.stat`: how often the
//! kernel held a container back because it had used its `--cpus` share. Read from the
//! filesystem (cgroup v1 or v2, Docker's cgroupfs or systemd driver), which costs microseconds
//! where Docker's stats API costs a second per container.

use std::path::PathBuf;
use std::time::Duration;

/// Throttling counters, summed over containers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Throttling {
    /// Enforcement periods (100 ms each by default) in which a container wanted CPU.
    pub periods: u64,
    /// Of those, periods in which it was held back.
    pub throttled_periods: u64,
    pub throttled: Duration,
}

impl Throttling {
    /// What happened between `earlier` and this reading.
    pub fn since(&self, earlier: &Self) -> Self {
        Self {
            periods: self.periods.saturating_sub(earlier.periods),
            throttled_periods: self
                .throttled_periods
                .saturating_sub(earlier.throttled_periods),
            throttled: self.throttled.saturating_sub(earlier.throttled),
        }
    }

    /// Share of periods with throttling, 0 to 1; `None` without periods.
    pub fn throttled_share(&self) -> Option<f64> {
        (self.periods > 0).then(|| self.throttled_periods as f64 / self.periods as f64)
    }
}

/// Where the `cpu.stat` of container `id` may be.
fn candidates(id: &str) -> [PathBuf; 4] {
    [
        PathBuf::from(format!("/sys/fs/cgroup/cpu/docker/{id}/cpu.stat")),
        PathBuf::from(format!("/sys/fs/cgroup/cpu,cpuacct/docker/{id}/cpu.stat")),
        PathBuf::from(format!(
            "/sys/fs/cgroup/system.slice/docker-{id}.scope/cpu.stat"
        )),
        PathBuf::from(format!("/sys/fs/cgroup/docker/{id}/cpu.stat")),
    ]
}

/// The thread list of container `id`'s cgroup (v1 `tasks`, v2 `cgroup.threads`), where it
/// exists.
pub fn task_list(id: &str) -> Option<PathBuf> {
    [
        format!("/sys/fs/cgroup/cpu/docker/{id}/tasks"),
        format!("/sys/fs/cgroup/cpu,cpuacct/docker/{id}/tasks"),
        format!("/sys/fs/cgroup/system.slice/docker-{id}.scope/cgroup.threads"),
        format!("/sys/fs/cgroup/docker/{id}/cgroup.threads"),
    ]
    .into_iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
}

/// The summed throttling of the containers `ids`; `None` when no container's counters could
/// be read (no cgroup filesystem, or another runtime).
pub fn read(ids: &[String]) -> Option<Throttling> {
    let mut total = Throttling::default();
    let mut found = false;
    for id in ids {
        let Some(text) = candidates(id)
            .iter()
            .find_map(|p| std::fs::read_to_string(p).ok())
        else {
            continue;
        };
        if let Some(t) = parse(&text) {
            found = true;
            total.periods += t.periods;
            total.throttled_periods += t.throttled_periods;
            total.throttled += t.throttled;
        }
    }
    found.then_some(total)
}

/// Parses `cpu.stat`: `throttled_time` is in nanoseconds (v1), `throttled_usec` in
/// microseconds (v2).
fn parse(text: &str) -> Option<Throttling> {
    let field = |name: &str| -> Option<u64> {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
    };
    let throttled = match (field("throttled_time"), field("throttled_usec")) {
        (Some(ns), _) => Duration::from_nanos(ns),
        (None, Some(us)) => Duration::from_micros(us),
        (None, None) => Duration::ZERO,
    };
    Some(Throttling {
        periods: field("nr_periods")?,
        throttled_periods: field("nr_throttled")?,
        throttled,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_cgroup_versions_are_read() {
        let v1 = "nr_periods 200\nnr_throttled 50\nthrottled_time 2000000000\n";
        let v2 = "usage_usec 10\nuser_usec 5\nsystem_usec 5\nnr_periods 10\nnr_throttled 1\nthrottled_usec 1500\n";
        assert_eq!(
            parse(v1),
            Some(Throttling {
                periods: 200,
                throttled_periods: 50,
                throttled: Duration::from_secs(2)
            })
        );
        let t = parse(v2).unwrap();
        assert_eq!(t.throttled, Duration::from_micros(1500));
        assert_eq!(t.throttled_share(), Some(0.1));
        assert_eq!(parse("usage_usec 3\n"), None);
        let later = Throttling {
            periods: 250,
            throttled_periods: 60,
            throttled: Duration::from_secs(3),
        };
        assert_eq!(
            later.since(&parse(v1).unwrap()).throttled_share(),
            Some(0.2)
        );
        assert_eq!(read(&["no-such-container".into()]), None);
    }
}
