//! `orchestrator compare BASE NEW`: per-phase change with a Mann-Whitney U test on the raw
//! samples. A regression is a median that got worse by more than the threshold with p below
//! the significance level.

use statrs::distribution::{ContinuousCDF, Normal};

use crate::results::RunResults;

/// Outcome for one phase present in both runs.
#[derive(Debug, Clone)]
pub struct PhaseChange {
    pub phase: String,
    pub unit: String,
    pub base_p50: f64,
    pub new_p50: f64,
    /// Relative change of the median, e.g. 0.12 for 12% slower.
    pub change: f64,
    pub p_value: f64,
    pub regression: bool,
    pub improvement: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct CompareOptions {
    /// Relative worsening of the median that counts, e.g. 0.05.
    pub threshold: f64,
    /// Significance level, e.g. 0.05.
    pub alpha: f64,
}

/// Phases where a larger value is better (throughput-like); everything else is a latency.
fn higher_is_better(unit: &str) -> bool {
    unit == "ops/s"
}

/// How the two runs' configurations differ, one line per difference (`peers: 50 → 100`).
/// Empty when they ran the same configuration: only then is a change a change of the code.
pub fn config_differences(base: &RunResults, new: &RunResults) -> Vec<String> {
    let (b, n) = (&base.run, &new.run);
    let link = |r: &crate::results::RunInfo| {
        if r.link.latency_ms > 0.0 {
            format!("{} ms one way ({})", r.link.latency_ms, r.link.profile)
        } else {
            r.link.profile.clone()
        }
    };
    let pairs = [
        ("scenario", b.scenario.clone(), n.scenario.clone()),
        ("peers", b.peers.to_string(), n.peers.to_string()),
        ("latency", link(b), link(n)),
        ("runtime", b.runtime.clone(), n.runtime.clone()),
        (
            "transport",
            b.transport.to_string(),
            n.transport.to_string(),
        ),
        ("shaper", b.shaper.clone(), n.shaper.clone()),
    ];
    pairs
        .into_iter()
        .filter(|(_, b, n)| b != n)
        .map(|(what, b, n)| format!("{what}: {b} → {n}"))
        .collect()
}

pub fn compare(base: &RunResults, new: &RunResults, options: CompareOptions) -> Vec<PhaseChange> {
    let mut changes = Vec::new();
    for b in &base.phases {
        let Some(n) = new.phase(&b.name) else {
            continue;
        };
        let (Some(bp50), Some(np50)) = (b.summary.p50, n.summary.p50) else {
            continue;
        };
        if b.samples.len() < 2 || n.samples.len() < 2 {
            continue;
        }
        let change = if bp50 == 0.0 {
            0.0
        } else {
            (np50 - bp50) / bp50
        };
        let p_value = mann_whitney_p(&b.samples, &n.samples);
        let worse = if higher_is_better(&b.unit) {
            -change
        } else {
            change
        };
        let significant = p_value < options.alpha;
        changes.push(PhaseChange {
            phase: b.name.clone(),
            unit: b.unit.clone(),
            base_p50: bp50,
            new_p50: np50,
            change,
            p_value,
            regression: significant && worse > options.threshold,
            improvement: significant && worse < -options.threshold,
        });
    }
    changes
}

/// Two-sided p-value of the Mann-Whitney U test (normal approximation with tie correction).
pub fn mann_whitney_p(a: &[f64], b: &[f64]) -> f64 {
    let (n1, n2) = (a.len() as f64, b.len() as f64);
    let mut all: Vec<(f64, bool)> = a
        .iter()
        .map(|&x| (x, true))
        .chain(b.iter().map(|&x| (x, false)))
        .collect();
    all.sort_by(|x, y| x.0.total_cmp(&y.0));
    // Average ranks over ties.
    let mut rank_sum_a = 0.0;
    let mut tie_term = 0.0;
    let mut i = 0;
    while i < all.len() {
        let mut j = i;
        while j + 1 < all.len() && all[j + 1].0 == all[i].0 {
            j += 1;
        }
        let avg_rank = (i + j) as f64 / 2.0 + 1.0;
        let ties = (j - i + 1) as f64;
        tie_term += ties.powi(3) - ties;
        rank_sum_a += all[i..=j].iter().filter(|(_, in_a)| *in_a).count() as f64 * avg_rank;
        i = j + 1;
    }
    let u = rank_sum_a - n1 * (n1 + 1.0) / 2.0;
    let mean = n1 * n2 / 2.0;
    let n = n1 + n2;
    let variance = n1 * n2 / 12.0 * ((n + 1.0) - tie_term / (n * (n - 1.0)));
    if variance <= 0.0 {
        return 1.0;
    }
    // Continuity correction.
    let z = ((u - mean).abs() - 0.5).max(0.0) / variance.sqrt();
    let normal = Normal::standard();
    (2.0 * (1.0 - normal.cdf(z))).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(peers: usize, latency_ms: f64, transport: &str) -> RunResults {
        serde_json::from_value(serde_json::json!({
            "schema": 1,
            "run": {
                "id": "r", "scenario": "default", "started_at": "", "ended_at": "",
                "runtime": "docker", "shaper": "userspace", "peers": peers,
                "transport": transport, "ready_s": null, "image": null,
                "link": { "profile": "custom", "latency_ms": latency_ms },
            },
            "phases": [], "resources": [], "sla": [], "warnings": [], "failures": [],
            "shaping": { "backend": "userspace", "verified": true, "pairs": [] },
        }))
        .expect("a results document")
    }

    #[test]
    fn names_every_configuration_difference() {
        let base = run(50, 20.0, "tcp");
        assert!(config_differences(&base, &run(50, 20.0, "tcp")).is_empty());
        let differences = config_differences(&base, &run(100, 50.0, "quic"));
        assert_eq!(
            differences,
            [
                "peers: 50 → 100",
                "latency: 20 ms one way (custom) → 50 ms one way (custom)",
                "transport: tcp → quic",
            ]
        );
    }

    #[test]
    fn identical_distributions_are_not_significant() {
        let a: Vec<f64> = (0..50).map(|i| f64::from(i % 10)).collect();
        assert!(mann_whitney_p(&a, &a) > 0.9);
    }

    #[test]
    fn shifted_distribution_is_significant() {
        let a: Vec<f64> = (0..40).map(|i| 1.0 + f64::from(i) * 0.01).collect();
        let b: Vec<f64> = a.iter().map(|x| x + 0.3).collect();
        assert!(mann_whitney_p(&a, &b) < 0.001);
    }

    #[test]
    fn matches_a_known_value() {
        // scipy.stats.mannwhitneyu([1,2,3,4,5],[6,7,8,9,10], method="asymptotic") -> p=0.01193
        let p = mann_whitney_p(&[1.0, 2.0, 3.0, 4.0, 5.0], &[6.0, 7.0, 8.0, 9.0, 10.0]);
        assert!((p - 0.01193).abs() < 5e-4, "{p}");
    }
}
