//! Performance targets: `<phase>.<statistic>` within a bound.

use std::fmt;

use serde::Deserialize;

use crate::quantity::{self, Dimension};

/// A performance target: `<phase>.<statistic>` within a bound.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub metric: String,
    pub phase: String,
    pub statistic: String,
    pub bound: Bound,
    pub dimension: Dimension,
    /// The bound as written, for the report.
    pub display: String,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bound {
    AtMost(f64),
    AtLeast(f64),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.metric, self.display)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTarget {
    metric: String,
    max: Option<String>,
    min: Option<String>,
}

/// Statistics a target may name besides the phase's `extra` figures.
const STATISTICS: &[&str] = &[
    "p50",
    "p95",
    "p99",
    "max",
    "mean",
    "count",
    "error_rate",
    "throughput",
];

/// Checks a target; the message names what is wrong.
pub(super) fn validate(raw: RawTarget) -> Result<Target, String> {
    let (phase, statistic) = raw.metric.rsplit_once('.').ok_or_else(|| {
        format!(
            "target metric {:?}: expected <phase>.<statistic>, e.g. dht_lookup.p95",
            raw.metric
        )
    })?;
    if phase.is_empty() || statistic.is_empty() {
        return Err(format!(
            "target metric {:?}: expected <phase>.<statistic>",
            raw.metric
        ));
    }
    let (text, make): (String, fn(f64) -> Bound) = match (raw.max, raw.min) {
        (Some(max), None) => (max, Bound::AtMost),
        (None, Some(min)) => (min, Bound::AtLeast),
        _ => {
            return Err(format!(
                "target {}: give exactly one of max or min",
                raw.metric
            ))
        }
    };
    let (value, dimension) =
        quantity::parse(&text).map_err(|e| format!("target {}: {e}", raw.metric))?;
    let display = match make(value) {
        Bound::AtMost(_) => format!("<= {text}"),
        Bound::AtLeast(_) => format!(">= {text}"),
    };
    if !STATISTICS.contains(&statistic)
        && !statistic
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(format!(
            "target metric {:?}: unknown statistic {statistic:?}",
            raw.metric
        ));
    }
    Ok(Target {
        metric: raw.metric.clone(),
        phase: phase.to_owned(),
        statistic: statistic.to_owned(),
        bound: make(value),
        dimension,
        display,
    })
}
