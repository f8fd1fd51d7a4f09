//! Link profiles: regions, the round-trip time between every two regions, and the link
//! parameters every link shares. The built-in ones live in `netem/profiles/*.yaml`.

use std::time::Duration;

use serde::Deserialize;

use crate::link::{JitterDistribution, LinkSpec};

/// The profiles shipped in `netem/profiles/`, by name.
pub const BUILTIN: [(&str, &str); 6] = [
    ("lan", include_str!("../profiles/lan.yaml")),
    ("wan", include_str!("../profiles/wan.yaml")),
    ("continental", include_str!("../profiles/continental.yaml")),
    ("global", include_str!("../profiles/global.yaml")),
    ("mobile-3g", include_str!("../profiles/mobile-3g.yaml")),
    ("lossy-wifi", include_str!("../profiles/lossy-wifi.yaml")),
];

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("unknown link profile {name:?}: expected one of {known} or a path to a profile file")]
    Unknown { name: String, known: String },
    #[error("reading profile {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("profile {origin}: {message}")]
    Invalid { origin: String, message: String },
}

/// A validated profile: `regions.len()²` directed links.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    pub name: String,
    pub description: String,
    pub regions: Vec<String>,
    /// `links[a][b]`: the link from a peer in region `a` to a peer in region `b`.
    pub links: Vec<Vec<LinkSpec>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    name: String,
    #[serde(default)]
    description: String,
    regions: Vec<String>,
    /// Round-trip times between regions, in ms; each direction gets half.
    rtt_ms: Vec<Vec<f64>>,
    #[serde(default)]
    link: RawLink,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLink {
    #[serde(default)]
    jitter_ms: f64,
    #[serde(default)]
    distribution: JitterDistribution,
    #[serde(default)]
    reorder: bool,
    #[serde(default)]
    loss_percent: f64,
    bandwidth_mbit: Option<f64>,
    queue_limit: Option<u32>,
}

/// What flags and scenarios change on top of a profile; `None` keeps the profile's value.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LinkOverrides {
    /// One-way delay on every link, replacing the profile's matrix.
    pub delay: Option<Duration>,
    pub jitter: Option<Duration>,
    pub distribution: Option<JitterDistribution>,
    pub loss: Option<f64>,
    pub bandwidth_bps: Option<u64>,
    pub queue_limit: Option<u32>,
}

impl LinkOverrides {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

impl Profile {
    /// A built-in profile by name, or a profile file by path.
    pub fn load(name_or_path: &str) -> Result<Self, ProfileError> {
        if let Some((_, text)) = BUILTIN.iter().find(|(n, _)| *n == name_or_path) {
            return Self::parse(text, &format!("{name_or_path} (built in)"));
        }
        let path = std::path::Path::new(name_or_path);
        if path.extension().is_some() || name_or_path.contains('/') {
            let text = std::fs::read_to_string(path).map_err(|source| ProfileError::Read {
                path: name_or_path.to_owned(),
                source,
            })?;
            return Self::parse(&text, name_or_path);
        }
        Err(ProfileError::Unknown {
            name: name_or_path.to_owned(),
            known: BUILTIN.map(|(n, _)| n).join(", "),
        })
    }

    /// One region, the same link everywhere: what `--latency` alone asks for.
    pub fn uniform(link: LinkSpec) -> Self {
        Self {
            name: "uniform".into(),
            description: "the same link between every two peers".into(),
            regions: vec!["all".into()],
            links: vec![vec![link]],
        }
    }

    /// Parses and validates a profile; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self, ProfileError> {
        let invalid = |message: String| ProfileError::Invalid {
            origin: origin.to_owned(),
            message,
        };
        let raw: RawProfile = serde_saphyr::from_str(text).map_err(|e| invalid(e.to_string()))?;
        let n = raw.regions.len();
        if n == 0 {
            return Err(invalid("no regions".into()));
        }
        if raw.rtt_ms.len() != n || raw.rtt_ms.iter().any(|row| row.len() != n) {
            return Err(invalid(format!(
                "rtt_ms must be a {n}x{n} matrix, one row and column per region"
            )));
        }
        let link = &raw.link;
        let mut links = vec![vec![LinkSpec::default(); n]; n];
        for (a, row) in raw.rtt_ms.iter().enumerate() {
            for (b, &rtt) in row.iter().enumerate() {
                if !(rtt.is_finite() && rtt >= 0.0) {
                    return Err(invalid(format!(
                        "rtt_ms[{a}][{b}] = {rtt} is not a duration in ms"
                    )));
                }
                let spec = LinkSpec {
                    delay: Duration::from_secs_f64(rtt / 2.0 / 1e3),
                    jitter: Duration::from_secs_f64(link.jitter_ms.max(0.0) / 1e3),
                    distribution: link.distribution,
                    reorder: link.reorder,
                    loss: link.loss_percent / 100.0,
                    bandwidth_bps: link.bandwidth_mbit.map(|m| (m * 1e6) as u64),
                    queue_limit: link.queue_limit,
                };
                spec.validate().map_err(|m| {
                    invalid(format!("{} -> {}: {m}", raw.regions[a], raw.regions[b]))
                })?;
                links[a][b] = spec;
            }
        }
        Ok(Self {
            name: raw.name,
            description: raw.description,
            regions: raw.regions,
            links,
        })
    }

    /// The profile with `overrides` applied to every link.
    pub fn with_overrides(mut self, overrides: &LinkOverrides) -> Result<Self, ProfileError> {
        for row in &mut self.links {
            for link in row.iter_mut() {
                if let Some(d) = overrides.delay {
                    link.delay = d;
                }
                if let Some(j) = overrides.jitter {
                    link.jitter = j;
                }
                if let Some(d) = overrides.distribution {
                    link.distribution = d;
                }
                if let Some(l) = overrides.loss {
                    link.loss = l;
                }
                if let Some(b) = overrides.bandwidth_bps {
                    link.bandwidth_bps = Some(b);
                }
                if let Some(q) = overrides.queue_limit {
                    link.queue_limit = Some(q);
                }
                link.validate().map_err(|message| ProfileError::Invalid {
                    origin: format!("{} with the flags' overrides", self.name),
                    message,
                })?;
            }
        }
        Ok(self)
    }

    /// The region of the peer at `index`: peers take the regions in turn.
    pub fn region_of(&self, index: usize) -> usize {
        index % self.regions.len()
    }

    /// The mean configured round trip over every ordered pair of `peers` peers.
    pub fn mean_round_trip(&self, peers: usize) -> Duration {
        let mut total = Duration::ZERO;
        let mut pairs = 0u32;
        for a in 0..peers {
            for b in (0..peers).filter(|&b| b != a) {
                let (x, y) = (self.region_of(a), self.region_of(b));
                total += crate::link::round_trip(&self.links[x][y], &self.links[y][x]);
                pairs += 1;
            }
        }
        total.checked_div(pairs).unwrap_or_default()
    }

    /// Whether no link of this profile changes anything.
    pub fn is_perfect(&self) -> bool {
        self.links.iter().flatten().all(LinkSpec::is_perfect)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_profile_loads_and_is_symmetric() {
        for (name, _) in BUILTIN {
            let p = Profile::load(name).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(p.name, name);
            for a in 0..p.regions.len() {
                for b in 0..p.regions.len() {
                    assert_eq!(p.links[a][b].delay, p.links[b][a].delay, "{name} {a} {b}");
                }
            }
        }
    }

    #[test]
    fn global_halves_the_cited_round_trip_times() {
        let p = Profile::load("global").unwrap();
        let us = p.regions.iter().position(|r| r == "us-east").unwrap();
        let eu = p.regions.iter().position(|r| r == "eu-central").unwrap();
        assert_eq!(p.links[us][eu].delay, Duration::from_secs_f64(0.0443));
        assert_eq!(p.links[us][eu].bandwidth_bps, Some(100_000_000));
    }

    #[test]
    fn the_mean_round_trip_weighs_every_pair() {
        let p = Profile::load("continental").unwrap();
        // Three peers, one per region: the mean of the six inter-region round trips.
        let expected = (72.2 + 87.8 + 19.3) * 2.0 / 6.0;
        let mean = p.mean_round_trip(3).as_secs_f64() * 1e3;
        assert!((mean - expected).abs() < 1e-6, "{mean}");
        assert_eq!(p.mean_round_trip(1), Duration::ZERO);
    }

    #[test]
    fn overrides_replace_the_matrix() {
        let p = Profile::load("global")
            .unwrap()
            .with_overrides(&LinkOverrides {
                delay: Some(Duration::from_millis(20)),
                loss: Some(0.5),
                ..Default::default()
            })
            .unwrap();
        assert!(p
            .links
            .iter()
            .flatten()
            .all(|l| l.delay == Duration::from_millis(20)));
        assert!(p.links.iter().flatten().all(|l| l.loss == 0.5));
    }

    #[test]
    fn bad_profiles_say_what_is_wrong() {
        let e = Profile::load("moon").unwrap_err().to_string();
        assert!(e.contains("moon") && e.contains("global"), "{e}");
        let e = Profile::parse("name: x\nregions: [a, b]\nrtt_ms: [[1, 2]]\n", "t.yaml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("t.yaml") && e.contains("2x2"), "{e}");
        let e = Profile::parse(
            "name: x\nregions: [a]\nrtt_ms: [[1]]\nlink: {loss_percent: 150}\n",
            "t.yaml",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("loss"), "{e}");
        let e = Profile::parse(
            "name: x\nregions: [a]\nrtt_ms: [[1]]\nlink: {jiter_ms: 1}\n",
            "t.yaml",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("jiter_ms"), "{e}");
    }
}
