//! When each packet may leave: the pure part of the delay line, driven by the caller's clock
//! so that it can be tested without a network.
//!
//! Per directed link: loss is drawn first (a lost packet costs nothing), then the packet
//! waits for the link to be free (serialisation at the link's bandwidth, so a burst queues
//! behind itself like on a wire), then it travels for the delay plus jitter. Unless the link
//! may reorder, a packet never leaves before the one sent ahead of it.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use rand::Rng;
use rand_distr::{Distribution, Normal};

use crate::link::{JitterDistribution, LinkSpec};

/// Packets a link holds when its spec sets no limit: 10x netem's default of 1000, which a
/// single link at 50k packets/s and 20 ms already fills.
pub const DEFAULT_QUEUE_LIMIT: u32 = 10_000;

/// A directed link, by addresses.
pub type LinkKey = (Ipv4Addr, Ipv4Addr);

/// What happens to one packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Drawn as lost.
    Lost,
    /// The link already holds its queue limit.
    Overflow,
    /// Leaves at this instant.
    ReleaseAt(Instant),
}

#[derive(Debug)]
struct LinkState {
    /// When the link has finished sending what it already holds.
    busy_until: Instant,
    /// Release time of the last packet admitted, to keep order.
    last_release: Instant,
    in_flight: u32,
}

#[derive(Debug)]
pub struct Scheduler<R> {
    rng: R,
    links: HashMap<LinkKey, LinkState>,
}

impl<R: Rng> Scheduler<R> {
    pub fn new(rng: R) -> Self {
        Self {
            rng,
            links: HashMap::new(),
        }
    }

    /// Admits a packet of `len` bytes arriving `now` on link `key` with `spec`.
    pub fn admit(&mut self, key: LinkKey, spec: &LinkSpec, now: Instant, len: usize) -> Admission {
        if spec.loss > 0.0 && self.rng.gen_bool(spec.loss) {
            return Admission::Lost;
        }
        let state = self.links.entry(key).or_insert(LinkState {
            busy_until: now,
            last_release: now,
            in_flight: 0,
        });
        if state.in_flight >= spec.queue_limit.unwrap_or(DEFAULT_QUEUE_LIMIT) {
            return Admission::Overflow;
        }
        let departs = match spec.bandwidth_bps {
            Some(bps) => {
                let start = state.busy_until.max(now);
                let serialisation = Duration::from_secs_f64(len as f64 * 8.0 / bps as f64);
                state.busy_until = start + serialisation;
                state.busy_until
            }
            None => now,
        };
        let travel = jittered(&mut self.rng, spec);
        let mut release = departs + travel;
        if !spec.reorder {
            release = release.max(state.last_release);
        }
        state.last_release = state.last_release.max(release);
        state.in_flight += 1;
        Admission::ReleaseAt(release)
    }

    /// Tells the scheduler a packet of `key` has left.
    pub fn released(&mut self, key: LinkKey) {
        if let Some(state) = self.links.get_mut(&key) {
            state.in_flight = state.in_flight.saturating_sub(1);
        }
    }
}

/// The link's delay with jitter drawn from its distribution, never negative.
fn jittered(rng: &mut impl Rng, spec: &LinkSpec) -> Duration {
    if spec.jitter.is_zero() {
        return spec.delay;
    }
    let (delay, jitter) = (spec.delay.as_secs_f64(), spec.jitter.as_secs_f64());
    let offset = match spec.distribution {
        JitterDistribution::Uniform => rng.gen_range(-jitter..=jitter),
        JitterDistribution::Normal => Normal::new(0.0, jitter)
            .expect("jitter is finite and positive")
            .sample(rng),
    };
    Duration::from_secs_f64((delay + offset).max(0.0))
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    use super::*;

    const KEY: LinkKey = (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2));

    fn scheduler() -> Scheduler<StdRng> {
        Scheduler::new(StdRng::seed_from_u64(7))
    }

    fn release(a: Admission) -> Instant {
        match a {
            Admission::ReleaseAt(t) => t,
            other => panic!("expected a release, got {other:?}"),
        }
    }

    #[test]
    fn a_plain_delay_is_exact() {
        let mut s = scheduler();
        let t0 = Instant::now();
        let spec = LinkSpec::delay(Duration::from_millis(20));
        assert_eq!(
            release(s.admit(KEY, &spec, t0, 100)),
            t0 + Duration::from_millis(20)
        );
    }

    #[test]
    fn jitter_spreads_within_bounds_but_never_reorders_unless_allowed() {
        let spec = LinkSpec {
            delay: Duration::from_millis(20),
            jitter: Duration::from_millis(5),
            ..LinkSpec::default()
        };
        let mut s = scheduler();
        let t0 = Instant::now();
        let mut last = t0;
        let mut spread = Vec::new();
        for i in 0..2000u64 {
            let now = t0 + Duration::from_micros(i * 50);
            let r = release(s.admit(KEY, &spec, now, 100));
            assert!(r >= last, "packet {i} overtook the one before it");
            assert!(r <= now + Duration::from_millis(25) && r >= now + Duration::from_millis(15));
            spread.push((r - now).as_secs_f64());
            last = r;
            s.released(KEY);
        }
        let min = spread.iter().cloned().fold(f64::MAX, f64::min);
        let max = spread.iter().cloned().fold(0.0, f64::max);
        assert!(max - min > 0.008, "jitter had no effect: {min}..{max}");

        let reordering = LinkSpec {
            reorder: true,
            ..spec
        };
        let mut s = scheduler();
        let times: Vec<Instant> = (0..2000u64)
            .map(|i| {
                let r = release(s.admit(KEY, &reordering, t0 + Duration::from_micros(i * 50), 100));
                s.released(KEY);
                r
            })
            .collect();
        assert!(
            times.windows(2).any(|w| w[1] < w[0]),
            "reorder allowed yet never happened"
        );
    }

    #[test]
    fn normal_jitter_is_centred_on_the_delay() {
        let spec = LinkSpec {
            delay: Duration::from_millis(50),
            jitter: Duration::from_millis(10),
            distribution: JitterDistribution::Normal,
            reorder: true,
            ..LinkSpec::default()
        };
        let mut s = scheduler();
        let t0 = Instant::now();
        let d: Vec<f64> = (0..20_000)
            .map(|_| {
                let r = release(s.admit(KEY, &spec, t0, 100));
                s.released(KEY);
                (r - t0).as_secs_f64()
            })
            .collect();
        let mean = d.iter().sum::<f64>() / d.len() as f64;
        let sd = (d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / d.len() as f64).sqrt();
        assert!((mean - 0.050).abs() < 0.0005, "mean {mean}");
        assert!((sd - 0.010).abs() < 0.0005, "standard deviation {sd}");
    }

    #[test]
    fn loss_rate_is_within_tolerance() {
        let spec = LinkSpec {
            loss: 0.1,
            ..LinkSpec::default()
        };
        let mut s = scheduler();
        let t0 = Instant::now();
        let n = 100_000;
        let lost = (0..n)
            .filter(|_| {
                let a = s.admit(KEY, &spec, t0, 100);
                s.released(KEY);
                a == Admission::Lost
            })
            .count();
        let rate = lost as f64 / n as f64;
        // Binomial standard deviation at n = 100k is ~0.001; allow 5 of them.
        assert!((rate - 0.1).abs() < 0.005, "loss rate {rate}");
    }

    #[test]
    fn the_token_bucket_paces_a_burst_at_the_link_rate() {
        // 10 Mbit/s: a 1250-byte packet takes 1 ms on the wire.
        let spec = LinkSpec {
            bandwidth_bps: Some(10_000_000),
            delay: Duration::from_millis(5),
            ..LinkSpec::default()
        };
        let mut s = scheduler();
        let t0 = Instant::now();
        let times: Vec<Instant> = (0..100)
            .map(|_| release(s.admit(KEY, &spec, t0, 1250)))
            .collect();
        assert_eq!(times[0], t0 + Duration::from_millis(6));
        assert_eq!(times[99], t0 + Duration::from_millis(105));
        // A packet after the link drained is not held by the past burst.
        let later = t0 + Duration::from_secs(1);
        assert_eq!(
            release(s.admit(KEY, &spec, later, 1250)),
            later + Duration::from_millis(6)
        );
    }

    #[test]
    fn a_full_link_drops_new_packets_until_one_leaves() {
        let spec = LinkSpec {
            delay: Duration::from_millis(10),
            queue_limit: Some(3),
            ..LinkSpec::default()
        };
        let mut s = scheduler();
        let t0 = Instant::now();
        for _ in 0..3 {
            release(s.admit(KEY, &spec, t0, 100));
        }
        assert_eq!(s.admit(KEY, &spec, t0, 100), Admission::Overflow);
        s.released(KEY);
        release(s.admit(KEY, &spec, t0, 100));
        // Other links are not affected.
        let other = (KEY.1, KEY.0);
        release(s.admit(other, &spec, t0, 100));
    }
}
