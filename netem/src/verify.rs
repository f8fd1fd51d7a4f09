//! Checking that shaping took effect: which pairs to measure, and whether a measured round
//! trip matches the configured one.

use std::collections::BTreeSet;
use std::time::Duration;

use rand::seq::SliceRandom;
use rand::Rng;

use crate::plan::ShapingPlan;

/// The largest error allowed: max(2 ms, 10% of the configured round trip).
pub fn tolerance(configured: Duration) -> Duration {
    Duration::from_millis(2).max(configured / 10)
}

/// Whether `measured` is within [`tolerance`] of `configured`.
pub fn within_tolerance(configured: Duration, measured: Duration) -> bool {
    configured.abs_diff(measured) <= tolerance(configured)
}

/// The median of the samples: one lost SYN (a 1 s retransmission) must not decide.
pub fn median(samples: &[Duration]) -> Option<Duration> {
    let mut sorted = samples.to_vec();
    sorted.sort();
    sorted.get(sorted.len() / 2).copied()
}

/// Up to `max` ordered pairs of distinct peers to measure: one for every pair of regions
/// first (so every entry of the matrix is checked), then random ones.
pub fn sample_pairs(plan: &ShapingPlan, max: usize, rng: &mut impl Rng) -> Vec<(usize, usize)> {
    let n = plan.peers.len();
    if n < 2 || max == 0 {
        return Vec::new();
    }
    let regions = plan.profile.regions.len();
    let mut chosen = BTreeSet::new();
    for ra in 0..regions {
        for rb in ra..regions {
            let in_a: Vec<usize> = (0..n).filter(|&i| plan.region_of(i) == ra).collect();
            let in_b: Vec<usize> = (0..n).filter(|&i| plan.region_of(i) == rb).collect();
            let pair = in_a
                .iter()
                .flat_map(|&a| in_b.iter().map(move |&b| (a, b)))
                .find(|(a, b)| a != b);
            if let Some(p) = pair {
                chosen.insert(p);
            }
        }
    }
    let mut all: Vec<(usize, usize)> = (0..n)
        .flat_map(|a| (0..n).filter(move |&b| b != a).map(move |b| (a, b)))
        .collect();
    all.shuffle(rng);
    for p in all {
        if chosen.len() >= max {
            break;
        }
        chosen.insert(p);
    }
    let mut out: Vec<_> = chosen.into_iter().collect();
    out.truncate(max.max(regions * (regions + 1) / 2));
    out
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    use super::*;
    use crate::plan::tests::plan;
    use crate::profile::Profile;

    #[test]
    fn tolerance_is_two_ms_or_ten_percent() {
        let ms = Duration::from_millis;
        assert_eq!(tolerance(ms(40)), ms(4));
        assert_eq!(tolerance(ms(5)), ms(2));
        assert!(within_tolerance(ms(40), ms(43)));
        assert!(!within_tolerance(ms(40), ms(45)));
        assert!(!within_tolerance(ms(40), ms(1)));
        assert!(within_tolerance(ms(0), ms(1)));
    }

    #[test]
    fn the_median_ignores_one_retransmission() {
        let ms = Duration::from_millis;
        assert_eq!(
            median(&[ms(40), ms(1040), ms(41), ms(40), ms(42)]),
            Some(ms(41))
        );
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn every_region_pair_is_sampled() {
        let p = plan(Profile::load("global").unwrap(), 12);
        let pairs = sample_pairs(&p, 20, &mut StdRng::seed_from_u64(1));
        assert!(pairs.len() >= 15 && pairs.len() <= 20, "{}", pairs.len());
        for ra in 0..5 {
            for rb in ra..5 {
                assert!(
                    pairs.iter().any(|&(a, b)| {
                        let (x, y) = (p.region_of(a), p.region_of(b));
                        (x, y) == (ra, rb) || (x, y) == (rb, ra)
                    }),
                    "regions {ra}/{rb} not sampled"
                );
            }
        }
        assert!(pairs.iter().all(|(a, b)| a != b));
        let two = plan(Profile::load("wan").unwrap(), 2);
        assert_eq!(
            sample_pairs(&two, 20, &mut StdRng::seed_from_u64(1)).len(),
            2
        );
    }
}
