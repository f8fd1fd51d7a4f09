//! Whether the host, not the network, shaped a figure.
//!
//! Every phase runs inside a [`Window`]: the host's CPU counters, the peers' cgroup
//! throttling and the delay line's counters are read when it opens and when it closes, and
//! the difference becomes the phase's [`PhaseFidelity`]: `ok`, or `degraded` with reasons a
//! reader understands. The thresholds are below; docs/FIDELITY.md gives the measurements
//! behind them.

pub mod cgroup;
pub mod host;
pub mod sched;

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::runtime::PeerProcesses;
use crate::testbed::Testbed;
use cgroup::Throttling;
use host::HostCpu;
use netem::counters::CounterSnapshot;
use sched::SchedSnapshot;

/// Mean wait of the peers' threads for a CPU per wake-up above which the phase is degraded:
/// every network step of an operation waits that long on top of the link, and 1 ms is 5% of
/// a 20 ms hop, as for a late packet ([`LATE_PACKET`]).
pub const MAX_WAKE_WAIT: Duration = Duration::from_millis(1);
/// The host's busy share above which the phase is degraded: the CPUs had no time to spare,
/// and the peers' CPU work queued behind other work (docs/FIDELITY.md has the calibration).
/// CPU pressure (`/proc/pressure/cpu`) is recorded beside it but does not decide: on this
/// machine it read 45–85% in phases whose latencies two CPU hogs did not move.
pub const MAX_HOST_BUSY: f64 = 0.95;
/// Share of the containers' CPU periods with throttling above which the phase is degraded
/// (runs with `--cpus` only).
pub const MAX_THROTTLED_SHARE: f64 = 0.05;
/// A packet that leaves the delay line later than this after its deadline is late.
pub const LATE_PACKET: Duration = Duration::from_millis(1);
/// Share of late packets above which the phase is degraded: its links were slower than
/// configured.
pub const MAX_LATE_SHARE: f64 = 0.01;

/// What a phase the host degraded does to the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FidelityMode {
    /// Say so on the console and in the report.
    #[default]
    Warn,
    /// Also fail the run (exit 3).
    Strict,
}

/// `ok` or `degraded`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Ok,
    Degraded,
}

/// How far a phase's figures are the network's, and why not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhaseFidelity {
    pub verdict: Verdict,
    /// Why the phase is degraded, in words; empty when it is not.
    pub reasons: Vec<String>,
    pub window_s: f64,
    /// Share of all the host's CPU time spent working during the phase, 0 to 1.
    pub host_cpu_busy: Option<f64>,
    /// Share of the phase during which some runnable task waited for a CPU, 0 to 1.
    pub cpu_pressure: Option<f64>,
    /// Mean time the peers' threads waited for a CPU each time they woke, in milliseconds.
    #[serde(default)]
    pub peer_wake_wait_ms: Option<f64>,
    /// Share of the time the peers wanted a CPU that they spent waiting for one, 0 to 1.
    #[serde(default)]
    pub peer_cpu_wait_share: Option<f64>,
    /// Share of the containers' CPU periods in which they were throttled, 0 to 1.
    pub throttled_share: Option<f64>,
    /// Packets through the delay line during the phase, and how many left late.
    pub delay_line_packets: Option<u64>,
    pub late_packets: Option<u64>,
    /// Metrics scrapes of peers that failed around the phase (its CPU figure lacks them).
    pub failed_scrapes: usize,
}

/// The counters at the start of a phase.
#[derive(Debug, Clone)]
pub struct Window {
    started: Instant,
    host: Option<HostCpu>,
    throttling: Option<Throttling>,
    delay_line: Option<CounterSnapshot>,
    sched: Option<SchedSnapshot>,
}

impl Window {
    pub fn open(testbed: &Testbed) -> Self {
        Self {
            started: Instant::now(),
            host: HostCpu::read(),
            throttling: throttling(testbed),
            delay_line: delay_line(testbed),
            sched: peer_sched(testbed),
        }
    }

    /// The phase's fidelity, from the counters now; `failed_scrapes` is how many peers'
    /// metrics could not be read around it.
    pub fn close(self, testbed: &Testbed, failed_scrapes: usize) -> PhaseFidelity {
        let window = self.started.elapsed();
        let host = match (self.host, HostCpu::read()) {
            (Some(before), Some(after)) => Some(after.since(&before)),
            _ => None,
        };
        let throttling = match (self.throttling, throttling(testbed)) {
            (Some(before), Some(after)) => Some(after.since(&before)),
            _ => None,
        };
        let packets = match (self.delay_line, delay_line(testbed)) {
            (Some(before), Some(after)) => Some(after.since(&before)),
            _ => None,
        };
        let sched = match (self.sched, peer_sched(testbed)) {
            (Some(before), Some(after)) => Some(after.since(&before)),
            _ => None,
        };
        let wake_wait = sched.and_then(|s| s.mean_wait());
        let wait_share = sched.and_then(|s| s.wait_share());
        judge(Measured {
            window,
            wake_wait,
            wait_share,
            host_cpu_busy: host.and_then(|h| h.utilisation),
            cpu_waited: host.and_then(|h| h.pressure_some),
            throttled_share: throttling.and_then(|t| t.throttled_share()),
            packets,
            failed_scrapes,
        })
    }
}

/// CPU throttling of the peers' containers so far; `None` for processes, or where the
/// cgroup counters are not readable.
fn throttling(testbed: &Testbed) -> Option<Throttling> {
    match testbed.runtime.peer_processes() {
        PeerProcesses::Containers(ids) => cgroup::read(&ids),
        PeerProcesses::Processes(_) => None,
    }
}

/// The scheduling statistics of every peer thread now; `None` where they cannot be read.
fn peer_sched(testbed: &Testbed) -> Option<SchedSnapshot> {
    match testbed.runtime.peer_processes() {
        PeerProcesses::Containers(ids) => {
            let lists: Vec<_> = ids.iter().filter_map(|id| cgroup::task_list(id)).collect();
            SchedSnapshot::of_task_lists(lists.iter().map(|p| p.as_path()))
        }
        PeerProcesses::Processes(pids) => SchedSnapshot::of_processes(pids),
    }
}

fn delay_line(testbed: &Testbed) -> Option<CounterSnapshot> {
    testbed.shaping.as_ref()?.delay_line_counters()
}

/// What a window measured.
struct Measured {
    window: Duration,
    wake_wait: Option<Duration>,
    wait_share: Option<f64>,
    host_cpu_busy: Option<f64>,
    cpu_waited: Option<Duration>,
    throttled_share: Option<f64>,
    packets: Option<CounterSnapshot>,
    failed_scrapes: usize,
}

fn percent(share: f64) -> String {
    format!("{:.0}%", share * 100.0)
}

fn judge(m: Measured) -> PhaseFidelity {
    let window_s = m.window.as_secs_f64();
    let cpu_pressure = m
        .cpu_waited
        .filter(|_| window_s > 0.0)
        .map(|w| (w.as_secs_f64() / window_s).min(1.0));
    let mut reasons = Vec::new();
    let waiting = m
        .wake_wait
        .map(|w| {
            format!(
                ", the peers waiting {:.2} ms for a CPU per wake-up",
                w.as_secs_f64() * 1e3
            )
        })
        .unwrap_or_default();
    match (m.wake_wait, m.host_cpu_busy) {
        (Some(wait), _) if wait > MAX_WAKE_WAIT => reasons.push(format!(
            "ran with the peers waiting {:.1} ms for a CPU each time they woke: every network \
             step of an operation waited that long on top of its link, so its latencies \
             include CPU queueing, not only the network",
            wait.as_secs_f64() * 1e3
        )),
        (_, Some(busy)) if busy > MAX_HOST_BUSY => reasons.push(format!(
            "ran with the host CPU {} busy{waiting}: the peers' CPU work queued, so its \
             latencies include CPU queueing, not only the network",
            percent(busy)
        )),
        _ => {}
    }
    if let Some(t) = m.throttled_share.filter(|t| *t > MAX_THROTTLED_SHARE) {
        reasons.push(format!(
            "ran with the peers' containers throttled in {} of their CPU periods (--cpus): \
             their limit, not the network, held them back",
            percent(t)
        ));
    }
    let late = m.packets.map(|p| p.later_than(LATE_PACKET));
    if let (Some(p), Some(late)) = (m.packets, late) {
        if p.released > 0 && late as f64 / p.released as f64 > MAX_LATE_SHARE {
            reasons.push(format!(
                "had {} of its packets leave the delay line more than {} ms late: its links \
                 were slower than configured",
                percent(late as f64 / p.released as f64),
                LATE_PACKET.as_millis()
            ));
        }
    }
    if m.failed_scrapes > 0 {
        reasons.push(format!(
            "could not read the metrics of {} peer(s) around it: its CPU figure leaves them out",
            m.failed_scrapes
        ));
    }
    PhaseFidelity {
        verdict: if reasons.is_empty() {
            Verdict::Ok
        } else {
            Verdict::Degraded
        },
        reasons,
        window_s,
        host_cpu_busy: m.host_cpu_busy,
        cpu_pressure,
        peer_wake_wait_ms: m.wake_wait.map(|w| w.as_secs_f64() * 1e3),
        peer_cpu_wait_share: m.wait_share,
        throttled_share: m.throttled_share,
        delay_line_packets: m.packets.map(|p| p.packets),
        late_packets: late,
        failed_scrapes: m.failed_scrapes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measured() -> Measured {
        Measured {
            window: Duration::from_secs(10),
            wake_wait: None,
            wait_share: None,
            host_cpu_busy: Some(0.5),
            cpu_waited: Some(Duration::from_secs(1)),
            throttled_share: None,
            packets: None,
            failed_scrapes: 0,
        }
    }

    #[test]
    fn a_quiet_host_is_ok() {
        let f = judge(measured());
        assert_eq!(f.verdict, Verdict::Ok);
        assert_eq!(f.cpu_pressure, Some(0.1));
        assert!(f.reasons.is_empty());
    }

    #[test]
    fn each_cause_degrades_with_its_reason() {
        let saturated = judge(Measured {
            host_cpu_busy: Some(0.97),
            wake_wait: Some(Duration::from_micros(400)),
            ..measured()
        });
        assert_eq!(saturated.verdict, Verdict::Degraded);
        assert!(
            saturated.reasons[0].starts_with(
                "ran with the host CPU 97% busy, the peers waiting 0.40 ms for a CPU per wake-up"
            ),
            "{:?}",
            saturated.reasons
        );

        // Host-wide pressure alone does not decide: someone waiting is not the peers waiting.
        let pressed_but_prompt = judge(Measured {
            wake_wait: Some(Duration::from_micros(200)),
            cpu_waited: Some(Duration::from_secs(9)),
            host_cpu_busy: Some(0.8),
            ..measured()
        });
        assert_eq!(pressed_but_prompt.verdict, Verdict::Ok);
        assert_eq!(pressed_but_prompt.cpu_pressure, Some(0.9));

        let queued = judge(Measured {
            wake_wait: Some(Duration::from_micros(3_500)),
            ..measured()
        });
        assert!(
            queued.reasons[0].contains("the peers waiting 3.5 ms for a CPU each time they woke"),
            "{:?}",
            queued.reasons
        );

        let throttled = judge(Measured {
            throttled_share: Some(0.3),
            ..measured()
        });
        assert!(throttled.reasons[0].contains("throttled in 30%"));

        let mut packets = CounterSnapshot {
            packets: 1000,
            released: 1000,
            ..CounterSnapshot::default()
        };
        packets.lateness[3] = 50; // 1–2 ms late
        let late = judge(Measured {
            packets: Some(packets),
            ..measured()
        });
        assert_eq!(late.late_packets, Some(50));
        assert!(late.reasons[0].contains("5% of its packets"));

        let unread = judge(Measured {
            failed_scrapes: 2,
            ..measured()
        });
        assert!(unread.reasons[0].contains("2 peer(s)"));
    }
}
