//! Exact percentiles of raw samples. The node answers with raw samples; the orchestrator and
//! the benchmarks summarise them here, the same way.

use serde::{Deserialize, Serialize};

/// Summary of a set of samples. Percentiles interpolate linearly between the closest ranks
/// (the "type 7" definition used by numpy and R); all fields are `None` without samples.
/// Samples that are not finite are left out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub count: usize,
    pub p50: Option<f64>,
    pub p95: Option<f64>,
    pub p99: Option<f64>,
    pub max: Option<f64>,
    pub mean: Option<f64>,
}

impl Summary {
    pub fn of(samples: &[f64]) -> Self {
        let mut sorted: Vec<f64> = samples.iter().copied().filter(|x| x.is_finite()).collect();
        if sorted.is_empty() {
            return Self::default();
        }
        sorted.sort_by(f64::total_cmp);
        Self {
            count: sorted.len(),
            p50: percentile_sorted(&sorted, 50.0),
            p95: percentile_sorted(&sorted, 95.0),
            p99: percentile_sorted(&sorted, 99.0),
            max: sorted.last().copied(),
            mean: Some(sorted.iter().sum::<f64>() / sorted.len() as f64),
        }
    }
}

/// The `p`-th percentile (0..=100) of sorted samples; `None` when there are none.
pub fn percentile_sorted(sorted: &[f64], p: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let rank = (p / 100.0).clamp(0.0, 1.0) * last as f64;
    let (lo, hi) = (rank.floor() as usize, rank.ceil() as usize);
    Some(sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo as f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_interpolate_between_ranks() {
        let samples: Vec<f64> = (1..=100).map(f64::from).collect();
        let s = Summary::of(&samples);
        assert_eq!(s.count, 100);
        assert!((s.p50.unwrap() - 50.5).abs() < 1e-9);
        assert!((s.p95.unwrap() - 95.05).abs() < 1e-9);
        assert!((s.p99.unwrap() - 99.01).abs() < 1e-9);
        assert_eq!(s.max, Some(100.0));
        assert!((s.mean.unwrap() - 50.5).abs() < 1e-9);
    }

    #[test]
    fn order_does_not_matter_and_single_sample_is_every_percentile() {
        let s = Summary::of(&[3.0, 1.0, 2.0]);
        assert_eq!(s.p50, Some(2.0));
        let one = Summary::of(&[0.25]);
        assert_eq!(
            (one.p50, one.p99, one.max),
            (Some(0.25), Some(0.25), Some(0.25))
        );
    }

    #[test]
    fn no_samples_means_no_figures() {
        assert_eq!(Summary::of(&[]), Summary::default());
        assert_eq!(Summary::of(&[f64::NAN]).count, 0);
        assert_eq!(percentile_sorted(&[], 50.0), None);
    }
}
