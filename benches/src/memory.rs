//! Memory of this process, from `/proc/self/status` (Linux).

/// Resident memory at a baseline and now, and the peak since the process started.
#[derive(Debug, Clone, Copy)]
pub struct MemoryMetrics {
    baseline_bytes: Option<u64>,
}

/// `VmRSS` and `VmHWM` of a process (this one when `None`), in bytes; `None` where `/proc`
/// does not have them.
pub fn read_status(pid: Option<u32>) -> Option<(u64, u64)> {
    p2p_node::metrics::ProcessUsage::of(pid).map(|u| (u.resident_bytes, u.peak_resident_bytes))
}

const MIB: f64 = 1024.0 * 1024.0;

impl MemoryMetrics {
    /// Takes the baseline now.
    pub fn start() -> Self {
        let baseline_bytes = read_status(None).map(|(rss, _)| rss);
        if baseline_bytes.is_none() {
            eprintln!(
                "memory figures unavailable: /proc/self/status has no VmRSS here (not Linux?)"
            );
        }
        Self { baseline_bytes }
    }

    pub fn baseline_mb(&self) -> Option<f64> {
        self.baseline_bytes.map(|b| b as f64 / MIB)
    }

    pub fn current_mb(&self) -> Option<f64> {
        read_status(None).map(|(rss, _)| rss as f64 / MIB)
    }

    /// Peak resident memory of the whole process so far (VmHWM).
    pub fn peak_mb(&self) -> Option<f64> {
        read_status(None).map(|(_, hwm)| hwm as f64 / MIB)
    }

    /// Resident memory gained since the baseline.
    pub fn delta_mb(&self) -> Option<f64> {
        Some(self.current_mb()? - self.baseline_mb()?)
    }

    /// One line for the bench output.
    pub fn describe(&self, case: &str) -> String {
        match (
            self.baseline_mb(),
            self.current_mb(),
            self.delta_mb(),
            self.peak_mb(),
        ) {
            (Some(b), Some(c), Some(d), Some(p)) => {
                format!("{case}: baseline {b:.1} MiB, current {c:.1} MiB, delta {d:+.1} MiB, process peak {p:.1} MiB")
            }
            _ => format!(
                "{case}: memory figures unavailable on this platform (no /proc/self/status)"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_allocation_shows_in_the_delta() {
        let m = MemoryMetrics::start();
        let block = vec![1u8; 64 * 1024 * 1024];
        std::hint::black_box(&block);
        let delta = m.delta_mb().expect("tests run on Linux");
        assert!(delta > 50.0, "delta {delta}");
        // One reading: two would race with the other tests' threads allocating in between.
        let (rss, peak) = read_status(None).expect("tests run on Linux");
        assert!(peak >= rss, "peak {peak} below resident {rss}");
    }
}
