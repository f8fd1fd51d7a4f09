//! Checking the scenario's targets against the measured phases.

use crate::results::{PhaseReport, SlaResult};
use crate::scenario::{Bound, Target};

/// The value of `statistic` in `phase`: a summary figure, `error_rate`, `throughput`, or one
/// of the phase's extra figures.
pub fn statistic(phase: &PhaseReport, statistic: &str) -> Option<f64> {
    let s = &phase.summary;
    match statistic {
        "p50" => s.p50,
        "p95" => s.p95,
        "p99" => s.p99,
        "max" => s.max,
        "mean" => s.mean,
        "count" => Some(s.count as f64),
        "error_rate" => Some(phase.error_rate()),
        "throughput" => phase.throughput_per_s,
        other => phase.extra.get(other).copied(),
    }
}

pub fn evaluate(targets: &[Target], phases: &[PhaseReport]) -> Vec<SlaResult> {
    targets
        .iter()
        .map(|target| {
            let phase = phases.iter().find(|p| p.name == target.phase);
            let measured = phase.and_then(|p| statistic(p, &target.statistic));
            let pass = match (measured, target.bound) {
                (Some(v), Bound::AtMost(max)) => v <= max,
                (Some(v), Bound::AtLeast(min)) => v >= min,
                (None, _) => false,
            };
            let note = match (phase, measured) {
                (None, _) => Some(format!("phase {} was not measured", target.phase)),
                (Some(_), None) => Some(format!("no {} figure was measured", target.statistic)),
                _ => None,
            };
            let unit = if ["error_rate", "count", "throughput"].contains(&target.statistic.as_str())
                || phase.is_some_and(|p| p.extra.contains_key(&target.statistic))
            {
                String::new()
            } else {
                phase.map_or_else(|| target.dimension.unit().to_owned(), |p| p.unit.clone())
            };
            // Percentiles belong with a latency-like statistic, not with a rate or a count.
            let latency_like =
                ["p50", "p95", "p99", "max", "mean"].contains(&target.statistic.as_str());
            let percentile =
                |f: fn(&PhaseReport) -> Option<f64>| phase.filter(|_| latency_like).and_then(f);
            SlaResult {
                metric: target.metric.clone(),
                target: target.display.clone(),
                measured,
                unit,
                p50: percentile(|p| p.summary.p50),
                p95: percentile(|p| p.summary.p95),
                p99: percentile(|p| p.summary.p99),
                pass,
                note,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Scenario;

    fn targets(yaml: &str) -> Vec<Target> {
        Scenario::parse(
            "t.yaml",
            &format!("phases:\n  - bootstrap: {{}}\ntargets:\n{yaml}"),
        )
        .unwrap()
        .targets
    }

    #[test]
    fn bounds_pass_and_fail_on_the_measured_statistic() {
        let mut lookup = PhaseReport::new("dht_lookup", vec![0.1, 0.2, 0.3, 0.9], vec![]);
        lookup.extra.insert("coverage".into(), 0.95);
        let t = targets(
            "  - { metric: dht_lookup.p50, max: 300ms }\n  - { metric: dht_lookup.max, max: 500ms }\n  - { metric: dht_lookup.coverage, min: 99% }\n  - { metric: dht_lookup.error_rate, max: 0 }\n",
        );
        let lookup_p95 = lookup.summary.p95;
        let results = evaluate(&t, &[lookup]);
        let passes: Vec<bool> = results.iter().map(|r| r.pass).collect();
        assert_eq!(passes, [true, false, false, true]);
        assert!((results[0].measured.unwrap() - 0.25).abs() < 1e-9);
        assert_eq!(results[0].unit, "s");
        assert_eq!(results[2].unit, "");
        assert_eq!(results[1].p95, lookup_p95);
        assert_eq!(results[2].p50, None, "a rate has no percentiles");
    }

    #[test]
    fn a_missing_phase_fails_with_a_note() {
        let results = evaluate(&targets("  - { metric: gossip.p95, max: 1s }\n"), &[]);
        assert!(!results[0].pass);
        assert_eq!(
            results[0].note.as_deref(),
            Some("phase gossip was not measured")
        );
    }

    #[test]
    fn errors_count_in_the_error_rate() {
        let phase = PhaseReport::new(
            "install",
            vec![1.0],
            vec!["x".into(), "y".into(), "z".into()],
        );
        assert!((statistic(&phase, "error_rate").unwrap() - 0.75).abs() < 1e-9);
        let results = evaluate(
            &targets("  - { metric: install.error_rate, max: 10% }\n"),
            &[phase],
        );
        assert!(!results[0].pass);
    }
}
