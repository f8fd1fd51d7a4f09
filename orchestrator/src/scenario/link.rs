//! The links of a run: a profile (built in, or a file) and values that replace the profile's
//! on every link, resolved once into the profile the run uses. `latency` is one-way: 20ms
//! gives a round trip of about 40ms.

use std::time::Duration;

use netem::{JitterDistribution, LinkOverrides, Profile};

use super::origin::{Origin, ScenarioError, Sourced};
use super::raw::RawLink;
use crate::quantity;

/// The resolved links of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    /// How the report names it: the profile's name, or `uniform`.
    pub name: String,
    /// What the scenario and the flags changed on top of the profile.
    pub overrides: LinkOverrides,
    /// The profile, overrides applied: the link between every two peers.
    pub profile: Profile,
}

impl Link {
    /// The one-way delay set on every link by `--latency` or `link.latency`, if any.
    pub fn latency(&self) -> Option<Duration> {
        self.overrides.delay
    }
}

/// Checks the `link:` section (and the flags over it) and loads its profile.
pub(super) fn resolve(raw: &RawLink) -> Result<Link, ScenarioError> {
    /// Parses a value and checks it alone on a link, so a bad one is named where it was given.
    fn checked<T: Copy>(
        value: &Option<Sourced<String>>,
        parse: fn(&str) -> Result<T, String>,
        on_link: fn(T) -> netem::LinkSpec,
    ) -> Result<Option<T>, ScenarioError> {
        value
            .as_ref()
            .map(|v| v.parse(|s| parse(s).and_then(|t| on_link(t).validate().map(|()| t))))
            .transpose()
    }
    let distribution = raw
        .distribution
        .as_ref()
        .map(|d| {
            d.parse(|d| match d.as_str() {
                "uniform" => Ok(JitterDistribution::Uniform),
                "normal" => Ok(JitterDistribution::Normal),
                other => Err(format!("expected uniform or normal, got {other:?}")),
            })
        })
        .transpose()?;
    let overrides = LinkOverrides {
        delay: checked(&raw.latency, quantity::parse_duration, |delay| {
            netem::LinkSpec {
                delay,
                ..netem::LinkSpec::default()
            }
        })?,
        jitter: checked(&raw.jitter, quantity::parse_duration, |jitter| {
            netem::LinkSpec {
                jitter,
                ..netem::LinkSpec::default()
            }
        })?,
        distribution,
        loss: checked(&raw.loss, quantity::parse_fraction, |loss| {
            netem::LinkSpec {
                loss,
                ..netem::LinkSpec::default()
            }
        })?,
        bandwidth_bps: checked(&raw.bandwidth, quantity::parse_bandwidth, |b| {
            netem::LinkSpec {
                bandwidth_bps: Some(b),
                ..netem::LinkSpec::default()
            }
        })?,
        queue_limit: match &raw.queue_limit {
            Some(q) if q.value == 0 => {
                return Err(q.error(format!("{}: 0 would drop every packet", q.name())))
            }
            q => q.as_ref().map(|q| q.value),
        },
    };
    let profile_name = raw.profile.as_ref().filter(|p| p.value != "uniform");
    let base = match profile_name {
        Some(name) => {
            Profile::load(&name.value).map_err(|e| name.error(format!("{}: {e}", name.name())))?
        }
        None => Profile::uniform(netem::LinkSpec::default()),
    };
    let profile = base
        .with_overrides(&overrides)
        .map_err(|e| match &raw.origin {
            Some(origin) => ScenarioError {
                origin: origin.clone(),
                message: format!("link: {e}"),
            },
            None => ScenarioError {
                origin: Origin::Flag("--profile"),
                message: format!("link: {e}"),
            },
        })?;
    Ok(Link {
        name: profile_name.map_or_else(|| "uniform".to_owned(), |p| p.value.clone()),
        overrides,
        profile,
    })
}
