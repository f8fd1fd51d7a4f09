//! What a probe of a shaped pair should measure: the distribution of the median of a few
//! round trips, computed with the delay line's own [`Scheduler`] rather than assumed.
//!
//! A link's jitter, its distribution, loss and bandwidth all move a round trip away from the
//! sum of the two delays: jitter larger than the delay is cut at zero (a packet cannot leave
//! before it arrives), so the median moves up; a lost SYN costs TCP a retransmission timeout;
//! a large datagram waits for its serialisation. Simulating the probe through the scheduler
//! gives the expected median and how far the median of `probes` samples strays from it by
//! chance, so that a real fault (a link shaped to another delay) still fails.
//!
//! The probes must be spaced out ([`probe_interval`]): a link that keeps packet order holds a
//! packet behind those sent before it, so back-to-back probes would each wait on the last
//! one's packets.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::SeedableRng;

use crate::link::{JitterDistribution, LinkSpec};
use crate::scheduler::{Admission, LinkKey, Scheduler};

/// Linux's initial TCP retransmission timeout: a lost SYN or SYN-ACK is sent again after it,
/// then after twice as long.
pub const TCP_INITIAL_RTO: Duration = Duration::from_secs(1);
/// Simulated probe medians per expectation.
const TRIALS: usize = 2_000;
/// Share of the simulated medians left out at each end of the accepted range.
const TAIL: f64 = 0.005;

/// One kind of probe: the packets' sizes and what happens when one is lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probe {
    /// Bytes of the packet there and of the answer back (IP header included).
    pub there_bytes: usize,
    pub back_bytes: usize,
    /// TCP sends a lost handshake packet again after [`TCP_INITIAL_RTO`]; a lost datagram
    /// probe is an error, not a sample.
    pub retransmits: bool,
}

impl Probe {
    /// A TCP handshake: a SYN there, a SYN-ACK back.
    pub const TCP_HANDSHAKE: Self = Self {
        there_bytes: 60,
        back_bytes: 60,
        retransmits: true,
    };
    /// A QUIC version probe (1,200 bytes of UDP payload) and its version negotiation answer.
    pub const QUIC_VERSION: Self = Self {
        there_bytes: 1_228,
        back_bytes: 64,
        retransmits: false,
    };
}

/// The median of a pair's probes, as the configuration predicts it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Expectation {
    /// The median of the simulated medians.
    pub median: Duration,
    /// The range holding all but 1% of the simulated medians.
    pub low: Duration,
    pub high: Duration,
}

impl Expectation {
    /// Whether `measured` agrees: inside the simulated range, widened by `slack` for what the
    /// model leaves out (the hosts' own packet handling).
    pub fn admits(&self, measured: Duration, slack: Duration) -> bool {
        measured + slack >= self.low && measured <= self.high + slack
    }

    /// The half-width of the accepted range around the median, for the report.
    pub fn spread(&self) -> Duration {
        (self.median - self.low).max(self.high - self.median)
    }
}

/// The expected median of `probes` round trips over `there` and back over `back`.
pub fn expect(there: &LinkSpec, back: &LinkSpec, probe: Probe, probes: usize) -> Expectation {
    let probes = probes.max(1);
    let (a, b) = (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2));
    let mut scheduler = Scheduler::new(StdRng::seed_from_u64(0x5eed));
    let origin = Instant::now();
    // Far enough apart that no probe waits on another's packets.
    let spacing = Duration::from_secs(3_600);
    let mut medians = Vec::with_capacity(TRIALS);
    let mut at = origin;
    for _ in 0..TRIALS {
        let mut rtts = Vec::with_capacity(probes);
        for _ in 0..probes {
            at += spacing;
            let sent = at;
            let Some(arrived) = cross(
                &mut scheduler,
                (a, b),
                there,
                sent,
                probe.there_bytes,
                probe,
            ) else {
                continue;
            };
            let Some(answered) = cross(
                &mut scheduler,
                (b, a),
                back,
                arrived,
                probe.back_bytes,
                probe,
            ) else {
                continue;
            };
            rtts.push(answered - sent);
        }
        if rtts.is_empty() {
            continue;
        }
        rtts.sort();
        medians.push(rtts[rtts.len() / 2]);
    }
    medians.sort();
    let quantile = |q: f64| {
        let i = ((medians.len() - 1) as f64 * q).round() as usize;
        medians.get(i).copied().unwrap_or_default()
    };
    if medians.is_empty() {
        // Every probe lost: nothing can be expected but the delays.
        let sum = there.delay + back.delay;
        return Expectation {
            median: sum,
            low: sum,
            high: sum,
        };
    }
    Expectation {
        median: quantile(0.5),
        low: quantile(TAIL),
        high: quantile(1.0 - TAIL),
    }
}

/// When one packet sent at `sent` arrives over `link`, with TCP's retransmissions; `None`
/// when a datagram probe is lost.
fn cross(
    scheduler: &mut Scheduler<StdRng>,
    key: LinkKey,
    link: &LinkSpec,
    sent: Instant,
    bytes: usize,
    probe: Probe,
) -> Option<Instant> {
    let mut at = sent;
    let mut rto = TCP_INITIAL_RTO;
    // Losing ten times in a row at 100% loss is the only way out; the link validation caps
    // loss at 1, so bound the retries.
    for _ in 0..10 {
        match scheduler.admit(key, link, at, bytes) {
            Admission::ReleaseAt(release) => {
                scheduler.released(key);
                return Some(release);
            }
            Admission::Lost | Admission::Overflow if probe.retransmits => {
                at += rto;
                rto *= 2;
            }
            Admission::Lost | Admission::Overflow => return None,
        }
    }
    None
}

/// The least time between two probes of one pair for none to wait on the packets of the one
/// before: the longest trip there and back, jitter at its widest (three standard deviations of
/// a normal jitter), with room for serialisation.
pub fn probe_interval<'a>(links: impl IntoIterator<Item = &'a LinkSpec>) -> Duration {
    let longest = links
        .into_iter()
        .map(|l| {
            let spread = match l.distribution {
                JitterDistribution::Uniform => l.jitter,
                JitterDistribution::Normal => l.jitter * 3,
            };
            let serialisation = l.bandwidth_bps.map_or(Duration::ZERO, |bps| {
                Duration::from_secs_f64(1_500.0 * 8.0 / bps.max(1) as f64)
            });
            l.delay + spread + serialisation
        })
        .max()
        .unwrap_or_default();
    longest * 2 + Duration::from_millis(5)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    fn link(delay: u64, jitter: u64) -> LinkSpec {
        LinkSpec {
            jitter: MS(jitter),
            ..LinkSpec::delay(MS(delay))
        }
    }

    #[test]
    fn a_plain_delay_is_expected_exactly() {
        let e = expect(&link(20, 0), &link(20, 0), Probe::TCP_HANDSHAKE, 5);
        assert_eq!((e.low, e.median, e.high), (MS(40), MS(40), MS(40)));
        assert!(e.admits(MS(41), MS(2)));
        assert!(!e.admits(MS(30), MS(2)), "a link shaped to 15 ms fails");
    }

    #[test]
    fn jitter_spreads_the_median_around_the_delays() {
        let e = expect(&link(20, 5), &link(20, 5), Probe::TCP_HANDSHAKE, 5);
        assert!(e.median.abs_diff(MS(40)) < MS(1), "{e:?}");
        assert!(e.low < MS(37) && e.high > MS(43), "{e:?}");
        assert!(e.high < MS(50), "{e:?}");
        assert!(!e.admits(MS(60), MS(2)));
    }

    #[test]
    fn jitter_beyond_the_delay_moves_the_median_up() {
        // 10 ms ± 50 ms, cut at 0: each direction's median is about 15 ms.
        let e = expect(&link(10, 50), &link(10, 50), Probe::TCP_HANDSHAKE, 5);
        assert!(e.median > MS(25), "{e:?}");
    }

    #[test]
    fn loss_costs_tcp_a_retransmission_and_bandwidth_its_serialisation() {
        let lossy = LinkSpec {
            loss: 0.5,
            ..link(20, 0)
        };
        let e = expect(&lossy, &lossy, Probe::TCP_HANDSHAKE, 5);
        assert!(e.high >= MS(1_040), "{e:?}");
        let slow = LinkSpec {
            bandwidth_bps: Some(2_000_000),
            ..link(20, 0)
        };
        let e = expect(&slow, &slow, Probe::QUIC_VERSION, 5);
        // 1,228 bytes at 2 Mbit/s: 4.9 ms there; 64 bytes back: 0.3 ms.
        assert!(e.median > MS(45) && e.median < MS(46), "{e:?}");
    }

    #[test]
    fn probes_are_spaced_past_the_widest_trip() {
        let normal = LinkSpec {
            distribution: JitterDistribution::Normal,
            ..link(100, 30)
        };
        assert_eq!(probe_interval([&normal]), MS(2 * 190 + 5));
        assert_eq!(probe_interval([&link(20, 0)]), MS(45));
    }
}
