//! Live counters of the delay line, readable while it runs: a run reads them at the start and
//! end of every phase to tell which phases had late or dropped packets.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the lateness buckets. A packet leaves the delay line at the first poll
/// after its deadline, so normal lateness is tens of microseconds; milliseconds mean the
/// delay line thread did not get the CPU in time.
pub const LATENESS_BOUNDS: [Duration; 6] = [
    Duration::from_micros(100),
    Duration::from_micros(500),
    Duration::from_millis(1),
    Duration::from_millis(2),
    Duration::from_millis(5),
    Duration::from_millis(10),
];

/// Counters the delay line thread bumps and anyone may read.
#[derive(Debug, Default)]
pub struct Counters {
    packets: AtomicU64,
    released: AtomicU64,
    lost: AtomicU64,
    overflowed: AtomicU64,
    /// Released packets by lateness: one bucket per bound, then one for later ones.
    lateness: [AtomicU64; LATENESS_BOUNDS.len() + 1],
}

impl Counters {
    pub(crate) fn arrived(&self) {
        self.packets.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn released(&self, late: Duration) {
        self.released.fetch_add(1, Ordering::Relaxed);
        let bucket = LATENESS_BOUNDS
            .iter()
            .position(|bound| late <= *bound)
            .unwrap_or(LATENESS_BOUNDS.len());
        self.lateness[bucket].fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn lost(&self) {
        self.lost.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn overflowed(&self) {
        self.overflowed.fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> CounterSnapshot {
        CounterSnapshot {
            packets: self.packets.load(Ordering::Relaxed),
            released: self.released.load(Ordering::Relaxed),
            lost: self.lost.load(Ordering::Relaxed),
            overflowed: self.overflowed.load(Ordering::Relaxed),
            lateness: std::array::from_fn(|i| self.lateness[i].load(Ordering::Relaxed)),
        }
    }
}

/// The counters at one moment, or (from [`since`](Self::since)) over a window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CounterSnapshot {
    pub packets: u64,
    pub released: u64,
    /// Dropped on purpose (configured loss).
    pub lost: u64,
    /// Dropped because a link's queue was full (bandwidth shaping).
    pub overflowed: u64,
    pub lateness: [u64; LATENESS_BOUNDS.len() + 1],
}

impl CounterSnapshot {
    /// What happened between `earlier` and this snapshot.
    pub fn since(&self, earlier: &Self) -> Self {
        Self {
            packets: self.packets.saturating_sub(earlier.packets),
            released: self.released.saturating_sub(earlier.released),
            lost: self.lost.saturating_sub(earlier.lost),
            overflowed: self.overflowed.saturating_sub(earlier.overflowed),
            lateness: std::array::from_fn(|i| self.lateness[i].saturating_sub(earlier.lateness[i])),
        }
    }

    /// Released packets that left more than `bound` after their deadline; `bound` is rounded
    /// up to the nearest bucket bound.
    pub fn later_than(&self, bound: Duration) -> u64 {
        let first = LATENESS_BOUNDS
            .iter()
            .position(|b| bound <= *b)
            .map_or(LATENESS_BOUNDS.len(), |i| i + 1);
        self.lateness[first..].iter().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lateness_is_bucketed_and_windows_subtract() {
        let c = Counters::default();
        c.arrived();
        c.released(Duration::from_micros(20));
        let before = c.snapshot();
        for late in [50, 700, 3_000, 50_000] {
            c.arrived();
            c.released(Duration::from_micros(late));
        }
        c.lost();
        let window = c.snapshot().since(&before);
        assert_eq!((window.packets, window.released, window.lost), (4, 4, 1));
        assert_eq!(window.later_than(Duration::from_millis(1)), 2);
        assert_eq!(window.later_than(Duration::from_millis(10)), 1);
        assert_eq!(window.later_than(Duration::from_micros(100)), 3);
    }
}
