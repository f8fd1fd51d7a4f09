//! The userspace backend: an NFQUEUE delay line. iptables hands every peer-to-peer packet to
//! a netlink queue; one thread here holds each packet until the [`Scheduler`] says it may
//! leave, then accepts it back into the kernel (or drops it).
//!
//! `nfq` gives no file descriptor to wait on, so the thread polls the queue without blocking:
//! it sleeps until the next deadline, or [`IDLE_POLL`] at most ([`QUIET_POLL`] once the
//! network has been quiet for a while), with its timer slack set to 1 µs (the default 50 µs
//! would make every sleep that much late). It never spins: as a real-time thread (see
//! [`raise_priority`]) spinning ran into the kernel's RT throttling. A packet is therefore seen
//! at most `IDLE_POLL` after it arrived and leaves within tens of microseconds of its
//! deadline, provided the CPU wakes in time: on a virtual machine it holds the CPUs to a
//! wake latency of 0 while it runs ([`crate::wake_latency`]). The rule uses `--queue-bypass`: when this thread is gone, packets pass unshaped
//! instead of being black-holed.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};
use std::io::ErrorKind;
use std::net::Ipv4Addr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering as AtomicOrdering};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nfq::{Message, Queue, Verdict};
use rand::rngs::StdRng;
use rand::SeedableRng;

use crate::command;
use crate::counters::Counters;
use crate::error::ShapeError;
use crate::link::LinkSpec;
use crate::scheduler::{Admission, LinkKey, Scheduler};
use crate::wake_latency::WakeLatencyRequest;

/// Longest sleep between two polls of the queue while packets flow.
pub const IDLE_POLL: Duration = Duration::from_micros(100);
/// Longest sleep between two polls once nothing has arrived or been held for [`QUIET_AFTER`]:
/// polling costs a few percent of a core on a virtual machine, and a quiet network does not
/// need it.
pub const QUIET_POLL: Duration = Duration::from_micros(500);
pub const QUIET_AFTER: Duration = Duration::from_millis(50);
/// SCHED_FIFO priority of the delay line thread (1 lowest, 99 highest).
const REAL_TIME_PRIORITY: &str = "10";
/// Timer slack of the delay line thread, in nanoseconds.
const TIMER_SLACK_NS: u64 = 1_000;
/// Packets the kernel queue holds for us: at most `QUEUE_MAX_LEN / delay` packets per second
/// can be in flight through the delay line (1.6 M/s at 40 ms).
pub const QUEUE_MAX_LEN: u32 = 65_536;
/// Bytes of each packet copied to us: the IPv4 header, for the addresses.
const COPY_RANGE: u16 = 20;
/// Lateness samples kept for the report.
const MAX_LATENESS_SAMPLES: usize = 200_000;

/// Which link a packet belongs to: peer addresses to regions, regions to links.
#[derive(Debug, Clone)]
pub struct LinkTable {
    pub region_of: HashMap<Ipv4Addr, usize>,
    pub links: Vec<Vec<LinkSpec>>,
}

impl LinkTable {
    fn lookup(&self, src: Ipv4Addr, dst: Ipv4Addr) -> Option<&LinkSpec> {
        let (a, b) = (self.region_of.get(&src)?, self.region_of.get(&dst)?);
        Some(&self.links[*a][*b])
    }

    /// The peer at `old` is at `new` from now on.
    fn move_peer(&mut self, old: Ipv4Addr, new: Ipv4Addr) {
        if let Some(region) = self.region_of.remove(&old) {
            self.region_of.insert(new, region);
        }
    }
}

/// What the delay line did, for the report.
#[derive(Debug, Clone, Default)]
pub struct DelayLineStats {
    pub queue_num: u16,
    /// Whether it held the CPUs to a wake latency of 0 ([`WakeLatencyRequest`]).
    pub low_wake_latency: bool,
    pub packets: u64,
    pub released: u64,
    pub lost: u64,
    pub overflowed: u64,
    /// Packets that were not between two peers, passed at once.
    pub passed_through: u64,
    pub recv_errors: u64,
    /// Verdicts on packets the kernel had dropped already (a peer's interface went away).
    pub stale_verdicts: u64,
    /// How late packets left after their deadline, in seconds (a bounded sample).
    pub lateness_s: Vec<f64>,
}

/// A running delay line. Stop it with [`DelayLine::stop`]; dropping it stops it too.
#[derive(Debug)]
pub struct DelayLine {
    queue_num: u16,
    counters: Arc<Counters>,
    stop: Arc<AtomicBool>,
    /// Peers that came back at another address: `(old, new)`.
    moves: mpsc::Sender<(Ipv4Addr, Ipv4Addr)>,
    thread: Option<JoinHandle<DelayLineStats>>,
}

struct Pending {
    release: Instant,
    seq: u64,
    key: LinkKey,
    msg: Message,
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        (self.release, self.seq) == (other.release, other.seq)
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pending {
    /// Reversed, so that the max-heap pops the earliest release first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.release, other.seq).cmp(&(self.release, self.seq))
    }
}

impl DelayLine {
    /// Binds the first free queue number from `first_queue` on and starts the thread. The
    /// queue is that of the network namespace at `namespace` (the host's when `None`): a
    /// netlink socket belongs to the namespace it was opened in.
    pub fn start(
        table: LinkTable,
        first_queue: u16,
        seed: u64,
        namespace: Option<&Path>,
    ) -> Result<Self, ShapeError> {
        let mut queue = crate::namespace::within(namespace, Queue::open)?.map_err(|e| {
            ShapeError::Queue(format!(
                "opening a netfilter queue socket: {e} (needs root or CAP_NET_ADMIN)"
            ))
        })?;
        let queue_num = bind_free(&mut queue, first_queue)?;
        let configure = |q: &mut Queue| -> std::io::Result<()> {
            q.set_copy_range(queue_num, COPY_RANGE)?;
            q.set_queue_max_len(queue_num, QUEUE_MAX_LEN)?;
            q.set_fail_open(queue_num, true)?;
            Ok(())
        };
        configure(&mut queue)
            .map_err(|e| ShapeError::Queue(format!("configuring queue {queue_num}: {e}")))?;
        queue.set_nonblocking(true);
        let stop = Arc::new(AtomicBool::new(false));
        let counters = Arc::new(Counters::default());
        let (moves, moved) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name(format!("delay-line-{queue_num}"))
            .spawn({
                let (stop, counters) = (stop.clone(), counters.clone());
                move || {
                    let line = Line {
                        queue_num,
                        seed,
                        stop: &stop,
                        counters: &counters,
                        moved,
                    };
                    run(queue, table, line)
                }
            })
            .map_err(|e| ShapeError::Queue(format!("starting the delay line thread: {e}")))?;
        tracing::info!(queue_num, "delay line started");
        Ok(Self {
            queue_num,
            counters,
            stop,
            moves,
            thread: Some(thread),
        })
    }

    /// The peer at `old` is at `new` from now on (a replaced Swarm task): its packets keep
    /// their links.
    pub fn peer_moved(&self, old: Ipv4Addr, new: Ipv4Addr) {
        // The thread is gone only once stopped, and then nothing is shaped anyway.
        let _ = self.moves.send((old, new));
    }

    pub fn queue_num(&self) -> u16 {
        self.queue_num
    }

    /// Its counters, live.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Releases everything it holds, unbinds and returns what it did.
    pub fn stop(mut self) -> DelayLineStats {
        self.halt()
    }

    fn halt(&mut self) -> DelayLineStats {
        self.stop.store(true, AtomicOrdering::Release);
        self.thread
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or_default()
    }
}

impl Drop for DelayLine {
    fn drop(&mut self) {
        if self.thread.is_some() {
            self.halt();
        }
    }
}

fn bind_free(queue: &mut Queue, first: u16) -> Result<u16, ShapeError> {
    let mut last = None;
    for offset in 0..64u16 {
        let num = first.wrapping_add(offset).max(1);
        match queue.bind(num) {
            Ok(()) => return Ok(num),
            Err(e) if e.kind() == ErrorKind::PermissionDenied => {
                return Err(ShapeError::Queue(format!(
                    "binding netfilter queue {num}: {e} (needs root or CAP_NET_ADMIN)"
                )))
            }
            Err(e) => last = Some(e),
        }
    }
    Err(ShapeError::Queue(format!(
        "no free netfilter queue in {first}..{}: {}",
        first.wrapping_add(64),
        last.map_or_else(String::new, |e| e.to_string())
    )))
}

/// What the delay line thread works with besides the queue and the table.
struct Line<'a> {
    queue_num: u16,
    seed: u64,
    stop: &'a AtomicBool,
    counters: &'a Counters,
    moved: mpsc::Receiver<(Ipv4Addr, Ipv4Addr)>,
}

fn run(mut queue: Queue, mut table: LinkTable, line: Line<'_>) -> DelayLineStats {
    let Line {
        queue_num,
        seed,
        stop,
        counters,
        moved,
    } = line;
    let mut scheduler = Scheduler::new(StdRng::seed_from_u64(seed));
    let mut pending = BinaryHeap::<Pending>::new();
    let mut stats = DelayLineStats {
        queue_num,
        ..DelayLineStats::default()
    };
    let mut seq = 0u64;
    let mut last_arrival = Instant::now();
    if let Err(e) = nix::sys::prctl::set_timerslack(TIMER_SLACK_NS) {
        tracing::warn!("delay line: timer slack stays at the default: {e}");
    }
    raise_priority();
    // Held until this function returns.
    let wake_latency = WakeLatencyRequest::zero()
        .inspect_err(|e| {
            tracing::warn!("delay line: CPUs keep their default wake latency (packets may leave late on a VM): {e}")
        })
        .ok();
    stats.low_wake_latency = wake_latency.is_some();
    while !stop.load(AtomicOrdering::Acquire) {
        for (old, new) in moved.try_iter() {
            table.move_peer(old, new);
        }
        // Take in everything that arrived.
        loop {
            let mut msg = match queue.recv() {
                Ok(msg) => msg,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                // The kernel's answer to a verdict on a packet it already dropped, because
                // its interface went away (a peer stopped): nothing is lost.
                Err(e) if e.raw_os_error() == Some(nix::libc::ENOENT) => {
                    stats.stale_verdicts += 1;
                    continue;
                }
                Err(e) => {
                    stats.recv_errors += 1;
                    tracing::warn!(queue_num, "delay line receive: {e}");
                    break;
                }
            };
            let now = Instant::now();
            last_arrival = now;
            stats.packets += 1;
            counters.arrived();
            let Some((key, spec)) = addresses(msg.get_payload())
                .and_then(|key| Some((key, table.lookup(key.0, key.1)?)))
            else {
                stats.passed_through += 1;
                msg.set_verdict(Verdict::Accept);
                verdict(&mut queue, msg, &mut stats);
                continue;
            };
            match scheduler.admit(key, spec, now, msg.get_original_len()) {
                Admission::ReleaseAt(release) => {
                    seq += 1;
                    pending.push(Pending {
                        release,
                        seq,
                        key,
                        msg,
                    });
                }
                outcome => {
                    if outcome == Admission::Lost {
                        stats.lost += 1;
                        counters.lost();
                    } else {
                        stats.overflowed += 1;
                        counters.overflowed();
                    }
                    msg.set_verdict(Verdict::Drop);
                    verdict(&mut queue, msg, &mut stats);
                }
            }
        }
        // Let go of everything due.
        let now = Instant::now();
        while pending.peek().is_some_and(|p| p.release <= now) {
            let Some(mut p) = pending.pop() else { break };
            let late = now - p.release;
            if stats.lateness_s.len() < MAX_LATENESS_SAMPLES {
                stats.lateness_s.push(late.as_secs_f64());
            }
            counters.released(late);
            scheduler.released(p.key);
            stats.released += 1;
            p.msg.set_verdict(Verdict::Accept);
            verdict(&mut queue, p.msg, &mut stats);
        }
        // Wait for the next deadline or arrival.
        match pending
            .peek()
            .map(|p| p.release.saturating_duration_since(Instant::now()))
        {
            Some(wait) if wait.is_zero() => {}
            Some(wait) => std::thread::sleep(wait.min(IDLE_POLL)),
            None if last_arrival.elapsed() > QUIET_AFTER => std::thread::sleep(QUIET_POLL),
            None => std::thread::sleep(IDLE_POLL),
        }
    }
    // Nothing is held back when the run ends.
    while let Some(mut p) = pending.pop() {
        p.msg.set_verdict(Verdict::Accept);
        verdict(&mut queue, p.msg, &mut stats);
    }
    if let Err(e) = queue.unbind(queue_num) {
        tracing::debug!(queue_num, "unbinding: {e}");
    }
    tracing::info!(queue_num, packets = stats.packets, "delay line stopped");
    stats
}

/// Puts this thread in the SCHED_FIFO class (with `chrt`, util-linux), so that peers busy
/// on every core do not make packets late: measured here under two CPU hogs, p99 lateness
/// went from ~7 ms to under 1 ms. The thread sleeps between deadlines, and the kernel's RT
/// throttling bounds it anyway. Without the privilege it stays a normal thread.
fn raise_priority() {
    let tid = nix::unistd::gettid().to_string();
    if let Err(e) = command::run("chrt", &["--fifo", "--pid", REAL_TIME_PRIORITY, &tid], None) {
        tracing::warn!("delay line: no real-time priority, packets may be late under load: {e}");
    }
}

fn verdict(queue: &mut Queue, msg: Message, stats: &mut DelayLineStats) {
    if let Err(e) = queue.verdict(msg) {
        stats.recv_errors += 1;
        tracing::warn!("delay line verdict: {e}");
    }
}

/// Source and destination of an IPv4 packet.
pub fn addresses(packet: &[u8]) -> Option<LinkKey> {
    if packet.len() < 20 || packet[0] >> 4 != 4 {
        return None;
    }
    let src = Ipv4Addr::new(packet[12], packet[13], packet[14], packet[15]);
    let dst = Ipv4Addr::new(packet[16], packet[17], packet[18], packet[19]);
    Some((src, dst))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_addresses_are_read_and_other_packets_pass() {
        let mut header = [0u8; 20];
        header[0] = 0x45;
        header[12..16].copy_from_slice(&[10, 1, 2, 3]);
        header[16..20].copy_from_slice(&[10, 4, 5, 6]);
        assert_eq!(
            addresses(&header),
            Some((Ipv4Addr::new(10, 1, 2, 3), Ipv4Addr::new(10, 4, 5, 6)))
        );
        header[0] = 0x60;
        assert_eq!(addresses(&header), None);
        assert_eq!(addresses(&[0x45; 10]), None);
    }
}
