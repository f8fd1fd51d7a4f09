//! How long the peers' threads waited for a CPU each time they woke, from the kernel's
//! per-thread scheduling statistics (`/proc/<pid>/task/<tid>/schedstat`: time on the CPU,
//! time runnable but waiting, times run). A peer wakes for every packet and timer; when the
//! CPUs are busy, it then waits in the run queue, and an operation of `k` network steps is
//! `k` waits longer than the network made it. The mean wait per wake-up is therefore the
//! figure to compare with the link's delay; host-wide CPU pressure says only how often
//! *someone* waited.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

/// Time on the CPU, time waiting and wake-ups, per thread.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchedSnapshot {
    threads: HashMap<u32, Stat>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Stat {
    ran_ns: u64,
    waited_ns: u64,
    slices: u64,
}

/// The peers' running and waiting over a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchedWindow {
    pub ran: Duration,
    pub waited: Duration,
    pub wakeups: u64,
}

impl SchedWindow {
    /// Share of the time the peers wanted a CPU that they spent waiting for one: their CPU
    /// work took `1 / (1 - share)` times as long as on free CPUs. `None` when they did not
    /// want any.
    pub fn wait_share(&self) -> Option<f64> {
        let wanted = self.ran + self.waited;
        (!wanted.is_zero()).then(|| self.waited.as_secs_f64() / wanted.as_secs_f64())
    }

    /// The mean wait for a CPU per wake-up; `None` without wake-ups.
    pub fn mean_wait(&self) -> Option<Duration> {
        (self.wakeups > 0).then(|| self.waited / self.wakeups.min(u64::from(u32::MAX)) as u32)
    }
}

impl SchedSnapshot {
    /// The threads of the processes `pids`; `None` where none could be read.
    pub fn of_processes(pids: impl IntoIterator<Item = u32>) -> Option<Self> {
        let mut snapshot = Self::default();
        for pid in pids {
            let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
                continue;
            };
            for task in tasks.flatten() {
                snapshot.add(&task.path());
            }
        }
        (!snapshot.threads.is_empty()).then_some(snapshot)
    }

    /// The threads listed in the cgroup files `tasks` (cgroup v1 `tasks`, v2 `cgroup.threads`).
    pub fn of_task_lists<'a>(lists: impl IntoIterator<Item = &'a Path>) -> Option<Self> {
        let mut snapshot = Self::default();
        for list in lists {
            let Ok(text) = std::fs::read_to_string(list) else {
                continue;
            };
            for tid in text.lines().filter_map(|l| l.trim().parse::<u32>().ok()) {
                snapshot.add(Path::new(&format!("/proc/{tid}")));
            }
        }
        (!snapshot.threads.is_empty()).then_some(snapshot)
    }

    fn add(&mut self, task_dir: &Path) {
        let tid = task_dir
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.parse().ok());
        let stat = std::fs::read_to_string(task_dir.join("schedstat")).ok();
        if let (Some(tid), Some(stat)) = (tid, stat.as_deref().and_then(parse)) {
            self.threads.insert(tid, stat);
        }
    }

    /// What the threads present at both readings did in between.
    pub fn since(&self, earlier: &Self) -> SchedWindow {
        let (mut ran, mut waited, mut wakeups) = (0u64, 0u64, 0u64);
        for (tid, now) in &self.threads {
            if let Some(then) = earlier.threads.get(tid) {
                ran = ran.saturating_add(now.ran_ns.saturating_sub(then.ran_ns));
                waited = waited.saturating_add(now.waited_ns.saturating_sub(then.waited_ns));
                wakeups = wakeups.saturating_add(now.slices.saturating_sub(then.slices));
            }
        }
        SchedWindow {
            ran: Duration::from_nanos(ran),
            waited: Duration::from_nanos(waited),
            wakeups,
        }
    }
}

/// `schedstat`: nanoseconds on the CPU, nanoseconds waiting, timeslices run.
fn parse(text: &str) -> Option<Stat> {
    let mut fields = text.split_whitespace().map(|f| f.parse::<u64>().ok());
    Some(Stat {
        ran_ns: fields.next()??,
        waited_ns: fields.next()??,
        slices: fields.next()??,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_per_wakeup_over_threads_present_twice() {
        assert_eq!(
            parse("190236097 17955000 393\n"),
            Some(Stat {
                ran_ns: 190236097,
                waited_ns: 17955000,
                slices: 393
            })
        );
        assert_eq!(parse("garbage"), None);
        let at = |entries: &[(u32, u64, u64)]| SchedSnapshot {
            threads: entries
                .iter()
                .map(|&(t, w, s)| {
                    let stat = Stat {
                        ran_ns: w * 3,
                        waited_ns: w,
                        slices: s,
                    };
                    (t, stat)
                })
                .collect(),
        };
        let before = at(&[(1, 1_000_000, 10), (2, 0, 0)]);
        let after = at(&[(1, 5_000_000, 14), (2, 2_000_000, 4), (3, 9_000_000, 1)]);
        let w = after.since(&before);
        assert_eq!(w.wakeups, 8);
        assert_eq!(w.mean_wait(), Some(Duration::from_micros(750)));
        assert_eq!(w.wait_share(), Some(0.25));
    }

    #[test]
    fn this_process_is_readable() {
        let me = SchedSnapshot::of_processes([std::process::id()]).expect("schedstat");
        assert!(!me.threads.is_empty());
    }
}
