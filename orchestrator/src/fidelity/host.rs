//! The machine's own counters: CPU time from `/proc/stat` and CPU pressure from
//! `/proc/pressure/cpu` (Linux). Both count every process on the host, the peers, the
//! delay line, the container runtime and the orchestrator alike.

use std::time::Duration;

/// `/proc/stat` counts in USER_HZ ticks, which Linux fixes at 100 for user space.
const USER_HZ: f64 = 100.0;
/// CPU seconds (all CPUs) a window must span before its busy share means anything: ticks of
/// 10 ms make a shorter window's share noise (a 20 ms phase reads 0% or 100%).
const MIN_TOTAL_S: f64 = 0.5;

/// A reading of the host's CPU counters.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct HostCpu {
    /// CPU seconds spent working, summed over all CPUs (user, nice, system, irq, softirq,
    /// steal; not idle or iowait).
    pub busy_s: f64,
    /// CPU seconds in all, summed over all CPUs: busy + idle + iowait.
    pub total_s: f64,
    /// Online CPUs.
    pub cpus: usize,
    /// Total time some runnable task waited for a CPU (`/proc/pressure/cpu`, `some`), if the
    /// kernel reports pressure.
    pub pressure_some: Option<Duration>,
}

impl HostCpu {
    /// Reads the counters; `None` where `/proc/stat` is not readable.
    pub fn read() -> Option<Self> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let mut reading = Self::parse_stat(&stat)?;
        reading.pressure_some = std::fs::read_to_string("/proc/pressure/cpu")
            .ok()
            .and_then(|text| parse_pressure_some(&text));
        Some(reading)
    }

    fn parse_stat(stat: &str) -> Option<Self> {
        let mut lines = stat.lines();
        let total_line = lines.next()?.strip_prefix("cpu ")?;
        let ticks: Vec<u64> = total_line
            .split_whitespace()
            .map(|f| f.parse().unwrap_or(0))
            .collect();
        let tick = |i: usize| ticks.get(i).copied().unwrap_or(0) as f64;
        // user nice system idle iowait irq softirq steal (guest time is within user).
        let busy = tick(0) + tick(1) + tick(2) + tick(5) + tick(6) + tick(7);
        let total = busy + tick(3) + tick(4);
        let cpus = stat
            .lines()
            .filter(|l| l.starts_with("cpu") && l.as_bytes().get(3).is_some_and(u8::is_ascii_digit))
            .count();
        Some(Self {
            busy_s: busy / USER_HZ,
            total_s: total / USER_HZ,
            cpus,
            pressure_some: None,
        })
    }

    /// What happened between `earlier` and this reading.
    pub fn since(&self, earlier: &Self) -> HostWindow {
        let total = (self.total_s - earlier.total_s).max(0.0);
        let busy = (self.busy_s - earlier.busy_s).max(0.0);
        HostWindow {
            busy_cores_s: busy,
            utilisation: (total >= MIN_TOTAL_S).then(|| busy / total),
            pressure_some: match (self.pressure_some, earlier.pressure_some) {
                (Some(a), Some(b)) => Some(a.saturating_sub(b)),
                _ => None,
            },
        }
    }
}

/// The host over a window of time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HostWindow {
    /// CPU seconds worked, all CPUs together.
    pub busy_cores_s: f64,
    /// Share of all CPUs' time spent working, 0 to 1; `None` for a window too short to tell.
    pub utilisation: Option<f64>,
    /// How long some runnable task waited for a CPU.
    pub pressure_some: Option<Duration>,
}

fn parse_pressure_some(text: &str) -> Option<Duration> {
    let line = text.lines().find(|l| l.starts_with("some "))?;
    let total = line
        .split_whitespace()
        .find_map(|f| f.strip_prefix("total="))?
        .parse::<u64>()
        .ok()?;
    Some(Duration::from_micros(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_and_pressure_are_read() {
        let stat = "cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 50 0 25 400 25 0 0 0 0 0\ncpu1 50 0 25 400 25 0 0 0 0 0\nintr 1\n";
        let r = HostCpu::parse_stat(stat).unwrap();
        assert_eq!(r.cpus, 2);
        assert!((r.busy_s - 1.5).abs() < 1e-9);
        assert!((r.total_s - 10.0).abs() < 1e-9);
        let later = HostCpu {
            busy_s: 3.5,
            total_s: 14.0,
            cpus: 2,
            pressure_some: Some(Duration::from_micros(700)),
        };
        let earlier = HostCpu {
            pressure_some: Some(Duration::from_micros(200)),
            ..r
        };
        let w = later.since(&earlier);
        assert!((w.utilisation.unwrap() - 0.5).abs() < 1e-9);
        // 0.2 CPU-seconds: ticks of 10 ms cannot tell a busy share.
        let short = HostCpu {
            busy_s: 1.6,
            total_s: 10.2,
            ..r
        };
        assert_eq!(short.since(&r).utilisation, None);
        assert_eq!(w.pressure_some, Some(Duration::from_micros(500)));
        let psi = "some avg10=1.00 avg60=0.50 avg300=0.10 total=123456\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n";
        assert_eq!(
            parse_pressure_some(psi),
            Some(Duration::from_micros(123456))
        );
    }

    #[test]
    fn this_machine_is_readable() {
        let r = HostCpu::read().expect("tests run on Linux");
        assert!(r.cpus >= 1);
        assert!(r.total_s >= r.busy_s);
    }
}
