//! Scenarios: which network to build, which phases to run, which targets to check.
//!
//! A scenario is YAML ([`raw`]: unknown keys are errors), changed by command-line flags. The
//! file and the flags merge into one [`RawScenario`] in which every value remembers where it
//! came from ([`origin`]), and that value is checked once, by [`Scenario::resolve`], into a
//! [`Scenario`]: peers, the resolved [`link`] profile, bootstrap topology, resources,
//! [`phases`] and [`targets`]. Every error names the file, line and column, or the flag, and
//! what was expected.

mod link;
mod origin;
mod phases;
mod raw;
mod targets;

pub use link::Link;
pub use origin::{Origin, ScenarioError, Sourced};
pub use phases::{
    ChurnPhase, CliPhase, ConcurrentSearchPhase, ConnectPhase, DhtLookupPhase, GossipPhase,
    IdlePhase, InstallPhase, PartitionPhase, Phase, PublishPhase, SearchPhase,
};
pub use raw::{RawScenario, ScenarioFlags};
pub use targets::{Bound, Target};

use p2p_api::Transport;

/// Peers that join at once with the bootstrap-peers topology, unless the scenario says.
///
/// A join costs the network about 0.4 s of CPU (TCP, Noise and identify with the 20-odd
/// peers of its self-lookup, then its bucket refreshes). Eight at once kept a 2-core host 96%
/// busy: the joins queued for the CPU (the phase was flagged degraded), p95 was 3.1–4.9 s, and
/// the network was ready no sooner than with four, which run at 86–92% with p95 1.2–1.5 s
/// (docs/BENCHMARKS.md).
pub const DEFAULT_CONCURRENT_JOINS: usize = 4;
/// Peers in a scenario that does not say.
pub const DEFAULT_PEERS: usize = 10;

/// The scenario used when none is given: the seed guide's suite and its targets.
pub const DEFAULT_SCENARIO: &str = include_str!("../../../scenarios/default.yaml");
/// How the built-in scenario is named in errors.
pub const DEFAULT_SCENARIO_NAME: &str = "scenarios/default.yaml (built in)";

/// A checked scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub peers: usize,
    /// The wire the peers talk over.
    pub transport: Transport,
    pub link: Link,
    pub topology: Topology,
    pub resources: Resources,
    pub phases: Vec<Phase>,
    pub targets: Vec<Target>,
}

/// Who dials whom at start-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topology {
    /// The first `count` peers are bootstrap peers; every other peer dials all of them, at
    /// most `joins` peers joining at once.
    BootstrapPeers { count: usize, joins: usize },
    /// Every peer dials `k` random peers that started before it.
    RandomK { k: usize },
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Resources {
    /// CPU limit per container, in cores.
    pub cpus: Option<f64>,
    /// Memory limit per container.
    pub memory_bytes: Option<u64>,
}

impl Scenario {
    /// Parses and checks scenario `text` without flags; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Self, ScenarioError> {
        Self::resolve(RawScenario::parse(file, text)?)
    }

    /// Checks every value of `raw`, once.
    pub fn resolve(raw: RawScenario) -> Result<Self, ScenarioError> {
        let whole_file = || Origin::File {
            file: raw.file.clone(),
            line: 0,
            column: 0,
        };
        let peers = match &raw.peers {
            Some(p) if p.value < 2 => {
                return Err(p.error(format!("{} must be at least 2, got {}", p.name(), p.value)))
            }
            Some(p) => p.value,
            None => DEFAULT_PEERS,
        };
        let transport = match &raw.transport {
            Some(t) => t.parse(|text| text.parse::<Transport>())?,
            None => Transport::default(),
        };
        let link = link::resolve(&raw.link)?;
        let topology = topology(&raw, whole_file)?;
        let resources = resources(&raw)?;
        let phases = raw
            .phases
            .iter()
            .map(|p| phases::validate(p.value.clone()).map_err(|m| p.error(m)))
            .collect::<Result<Vec<_>, _>>()?;
        if phases.is_empty() {
            return Err(ScenarioError {
                origin: whole_file(),
                message: "phases: at least one phase is needed".into(),
            });
        }
        let targets = raw
            .targets
            .iter()
            .map(|t| targets::validate(t.value.clone()).map_err(|m| t.error(m)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            name: raw.name.unwrap_or_else(|| "unnamed".to_owned()),
            peers,
            transport,
            link,
            topology,
            resources,
            phases,
            targets,
        })
    }
}

fn topology(raw: &RawScenario, whole_file: impl Fn() -> Origin) -> Result<Topology, ScenarioError> {
    let b = &raw.bootstrap;
    let joins = match &b.concurrent_joins {
        Some(j) if j.value == 0 => {
            return Err(j.error(format!("{} must be at least 1", j.name())));
        }
        Some(j) => j.value,
        None => DEFAULT_CONCURRENT_JOINS,
    };
    let count = b.bootstrap_peers.as_ref().map_or(3, |c| c.value);
    let topology = match &b.topology {
        None => Topology::BootstrapPeers { count, joins },
        Some(t) => match t.value.as_str() {
            "bootstrap-peers" => Topology::BootstrapPeers { count, joins },
            "random-k" => Topology::RandomK {
                k: b.k.as_ref().map_or(3, |k| k.value),
            },
            other => {
                return Err(t.error(format!(
                    "{}: expected bootstrap-peers or random-k, got {other:?}",
                    t.name()
                )))
            }
        },
    };
    match topology {
        Topology::BootstrapPeers { count: 0, .. } | Topology::RandomK { k: 0 } => {
            Err(ScenarioError {
                origin: whole_file(),
                message: "bootstrap: at least one peer to dial is needed".into(),
            })
        }
        t => Ok(t),
    }
}

fn resources(raw: &RawScenario) -> Result<Resources, ScenarioError> {
    let r = &raw.resources;
    let cpus = match &r.cpus {
        Some(c) if !c.value.is_finite() || c.value <= 0.0 => {
            return Err(c.error(format!(
                "{} must be a positive number of cores, got {}",
                c.name(),
                c.value
            )))
        }
        c => c.as_ref().map(|c| c.value),
    };
    let memory_bytes = match &r.memory {
        Some(m) => Some(m.parse(|text| match crate::quantity::parse_bytes(text)? {
            0 => Err("must be more than 0 bytes".to_owned()),
            bytes => Ok(bytes),
        })?),
        None => None,
    };
    Ok(Resources { cpus, memory_bytes })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn place(e: &ScenarioError) -> (u64, u64) {
        match &e.origin {
            Origin::File { line, column, .. } => (*line, *column),
            Origin::Flag(f) => panic!("expected a place in the file, got the flag {f}"),
        }
    }

    #[test]
    fn the_default_scenario_is_valid() {
        let s = Scenario::parse("default.yaml", DEFAULT_SCENARIO).unwrap();
        assert!(s.peers >= 2);
        assert!(s.phases.contains(&Phase::Bootstrap));
        assert!(!s.targets.is_empty());
    }

    /// Every scenario shipped in `scenarios/` is one `orchestrator up --scenario` accepts.
    #[test]
    fn the_shipped_scenarios_are_valid() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
        let mut checked = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "yaml") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let name = path.display().to_string();
            let s = Scenario::parse(&name, &text).unwrap_or_else(|e| panic!("{e}"));
            assert!(!s.targets.is_empty(), "{name} has no targets");
            checked += 1;
        }
        assert!(
            checked >= 2,
            "only {checked} scenarios in {}",
            dir.display()
        );
    }

    #[test]
    fn minimal_scenario_gets_defaults() {
        let s = Scenario::parse("m.yaml", "phases:\n  - bootstrap: {}\n  - publish: {}\n").unwrap();
        assert_eq!(s.peers, 10);
        assert_eq!(s.link.overrides.delay, None);
        assert_eq!(
            s.topology,
            Topology::BootstrapPeers {
                count: 3,
                joins: DEFAULT_CONCURRENT_JOINS
            }
        );
        assert_eq!(s.phases[1], Phase::Publish(PublishPhase::default()));
    }

    #[test]
    fn full_scenario_parses() {
        let text = r#"
name: full
peers: 12
link: { latency: 20ms, profile: wan }
bootstrap: { topology: random-k, k: 2 }
resources: { cpus: 0.5, memory: 128MiB }
phases:
  - bootstrap: {}
  - gossip: { messages: 5, interval: 50ms }
  - search: { scope: network, queries_per_peer: 3 }
  - churn: { fraction: 0.25 }
targets:
  - { metric: dht_lookup.p95, max: 500ms }
  - { metric: gossip_network_wide.coverage, min: 99% }
"#;
        let s = Scenario::parse("full.yaml", text).unwrap();
        assert_eq!(s.link.overrides.delay, Some(Duration::from_millis(20)));
        assert_eq!(s.link.name, "wan");
        assert_eq!(s.link.latency(), Some(Duration::from_millis(20)));
        assert_eq!(s.topology, Topology::RandomK { k: 2 });
        assert_eq!(s.resources.memory_bytes, Some(128 * 1024 * 1024));
        let Phase::Gossip(g) = &s.phases[1] else {
            panic!()
        };
        assert_eq!((g.messages, g.interval), (5, Duration::from_millis(50)));
        assert_eq!(s.targets[0].bound, Bound::AtMost(0.5));
        assert_eq!(s.targets[1].bound, Bound::AtLeast(0.99));
        assert_eq!(s.targets[1].phase, "gossip_network_wide");
    }

    fn error(text: &str) -> ScenarioError {
        Scenario::parse("bad.yaml", text).unwrap_err()
    }

    #[test]
    fn publish_concurrency_is_read_and_must_be_positive() {
        let s = Scenario::parse(
            "p.yaml",
            "phases:\n  - bootstrap: {}\n  - publish: { packages: 8, concurrency: 2 }\n",
        )
        .unwrap();
        let Phase::Publish(p) = &s.phases[1] else {
            panic!("{:?}", s.phases[1])
        };
        assert_eq!((p.packages, p.concurrency), (8, 2));
        assert_eq!(PublishPhase::default().concurrency, 4);

        let e = error("phases:\n  - bootstrap: {}\n  - publish: { concurrency: 0 }\n");
        assert_eq!(place(&e).0, 3, "{e}");
        assert!(
            e.message.contains("publish.concurrency must be at least 1"),
            "{e}"
        );
    }

    #[test]
    fn errors_name_file_line_column_and_expectation() {
        let e = error("peers: 1\nphases:\n  - bootstrap: {}\n");
        assert_eq!(place(&e), (1, 8), "{e}");
        assert!(
            e.to_string()
                .starts_with("bad.yaml:1:8: peers must be at least 2"),
            "{e}"
        );

        let e = error("peers: 5\nphases:\n  - bootstrap: {}\n  - churn: { fraction: 1.5 }\n");
        assert_eq!(place(&e).0, 4, "{e}");
        assert!(
            e.message.contains("churn.fraction must be between 0 and 1"),
            "{e}"
        );

        let e = error("link:\n  latency: fast\nphases:\n  - bootstrap: {}\n");
        assert_eq!(place(&e).0, 2, "{e}");
        assert!(e.message.contains("link.latency"), "{e}");

        let e = error("phases:\n  - bootstrap: {}\n  - teleport: {}\n");
        assert_eq!(place(&e).0, 3, "{e}");
        assert!(e.message.contains("teleport"), "{e}");

        let e = error("peers: 5\nphases:\n  - publish: { packagez: 3 }\n");
        assert_eq!(place(&e).0, 3, "{e}");
        assert!(e.message.contains("packagez"), "{e}");

        let e =
            error("phases:\n  - bootstrap: {}\ntargets:\n  - { metric: dht_lookup, max: 1s }\n");
        assert_eq!(place(&e).0, 4, "{e}");
        assert!(e.message.contains("expected <phase>.<statistic>"), "{e}");

        let e = error("phases: []\n");
        assert!(e.message.contains("at least one phase"), "{e}");

        let e = error("peers: [oops\n");
        assert!(place(&e).0 >= 1, "{e}");
    }

    fn with_flags(text: &str, flags: ScenarioFlags) -> Result<Scenario, ScenarioError> {
        Scenario::resolve(RawScenario::parse("f.yaml", text)?.with_flags(&flags))
    }

    const LINKED: &str =
        "peers: 4\nlink:\n  profile: wan\n  jitter: 1ms\nphases:\n  - bootstrap: {}\n";

    #[test]
    fn flags_override_the_file_and_are_checked_by_name() {
        let s = with_flags(
            LINKED,
            ScenarioFlags {
                peers: Some(6),
                latency: Some("20ms".into()),
                cpus: Some(0.5),
                ..ScenarioFlags::default()
            },
        )
        .unwrap();
        assert_eq!((s.peers, s.link.name.as_str()), (6, "wan"));
        assert_eq!(s.link.latency(), Some(Duration::from_millis(20)));
        assert_eq!(s.link.overrides.jitter, Some(Duration::from_millis(1)));
        assert!(s
            .link
            .profile
            .links
            .iter()
            .flatten()
            .all(|l| l.delay == Duration::from_millis(20)));
        assert_eq!(s.resources.cpus, Some(0.5));

        // --profile replaces the file's link section: its jitter goes with it.
        let s = with_flags(
            LINKED,
            ScenarioFlags {
                profile: Some("lan".into()),
                ..ScenarioFlags::default()
            },
        )
        .unwrap();
        assert_eq!(
            (s.link.name.as_str(), s.link.overrides.jitter),
            ("lan", None)
        );

        for (flags, expected) in [
            (
                ScenarioFlags {
                    peers: Some(1),
                    ..Default::default()
                },
                "--peers must be at least 2, got 1",
            ),
            (
                ScenarioFlags {
                    cpus: Some(0.0),
                    ..Default::default()
                },
                "--cpus must be a positive number of cores, got 0",
            ),
            (
                ScenarioFlags {
                    cpus: Some(f64::NAN),
                    ..Default::default()
                },
                "--cpus must be a positive number of cores",
            ),
            (
                ScenarioFlags {
                    memory: Some("0B".into()),
                    ..Default::default()
                },
                "--memory: must be more than 0 bytes",
            ),
            (
                ScenarioFlags {
                    latency: Some("soon".into()),
                    ..Default::default()
                },
                "--latency: expected a number",
            ),
            (
                ScenarioFlags {
                    latency: Some("20s".into()),
                    ..Default::default()
                },
                "--latency: delay 20s / jitter 0ns: more than 10 s is not a network",
            ),
            (
                ScenarioFlags {
                    loss: Some("150%".into()),
                    ..Default::default()
                },
                "--loss: expected a fraction",
            ),
            (
                ScenarioFlags {
                    profile: Some("moon".into()),
                    ..Default::default()
                },
                "--profile: unknown link profile \"moon\"",
            ),
            (
                ScenarioFlags {
                    transport: Some("udp".into()),
                    ..Default::default()
                },
                "--transport: unknown transport \"udp\": expected tcp or quic",
            ),
        ] {
            let e = with_flags(LINKED, flags).unwrap_err();
            assert!(matches!(e.origin, Origin::Flag(_)), "{e}");
            assert!(
                e.to_string().starts_with(expected),
                "{e} should start with {expected}"
            );
        }
    }

    #[test]
    fn the_transport_comes_from_the_file_or_the_flag() {
        assert_eq!(
            Scenario::parse("s.yaml", LINKED).unwrap().transport,
            Transport::Tcp
        );
        let quic = format!("transport: quic\n{LINKED}");
        assert_eq!(
            Scenario::parse("s.yaml", &quic).unwrap().transport,
            Transport::Quic
        );
        let flagged = ScenarioFlags {
            transport: Some("tcp".into()),
            ..ScenarioFlags::default()
        };
        assert_eq!(
            with_flags(&quic, flagged).unwrap().transport,
            Transport::Tcp
        );
        let e =
            Scenario::parse("s.yaml", &format!("transport: carrier-pigeon\n{LINKED}")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "s.yaml:1:12: transport: unknown transport \"carrier-pigeon\": expected tcp or quic"
        );
    }

    #[test]
    fn the_profile_file_is_read_once_into_the_resolved_link() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.yaml");
        std::fs::write(
            &path,
            "name: mine\nregions: [a, b]\nrtt_ms: [[2, 30], [30, 2]]\n",
        )
        .unwrap();
        let text = format!(
            "link:\n  profile: {}\nphases:\n  - bootstrap: {{}}\n",
            path.display()
        );
        let s = Scenario::parse("p.yaml", &text).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(s.link.profile.regions, ["a", "b"]);
        assert_eq!(s.link.profile.links[0][1].delay, Duration::from_millis(15));
    }
}
