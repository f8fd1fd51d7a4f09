//! Keeping the CPUs quick to wake while the delay line runs.
//!
//! The delay line sleeps between deadlines a hundred microseconds apart. On a virtual
//! machine an idle CPU halts, and the hypervisor takes milliseconds to run it again when the
//! delay line's timer fires: on this 2-core VM (cpuidle driver `haltpoll`), with 5 quiet
//! local peers at 10 ms, a fifth of the packets left more than 1 ms late and no pair verified
//! (measured 22–33 ms round trips for 20 ms configured). A PM QoS request for a wake latency
//! of 0 (`/dev/cpu_dma_latency`, the kernel's interface for exactly this) keeps idle CPUs in
//! their polling state instead; every pair then verified. The request is the kernel's own
//! per-file-descriptor state: it ends when the file is closed, also when the process dies,
//! so nothing of the host's settings outlives the run.

use std::fs::File;
use std::io::Write;

const PM_QOS_DEVICE: &str = "/dev/cpu_dma_latency";

/// A held request; dropping it ends it.
#[derive(Debug)]
pub struct WakeLatencyRequest {
    _file: File,
}

impl WakeLatencyRequest {
    /// Asks the kernel for a CPU wake latency of 0 µs; `Err` where the device is absent or
    /// not writable (no root), and the delay line then runs with the default idle states.
    pub fn zero() -> std::io::Result<Self> {
        let mut file = File::options().write(true).open(PM_QOS_DEVICE)?;
        file.write_all(&0i32.to_ne_bytes())?;
        Ok(Self { _file: file })
    }
}
