//! The raw form of a scenario: what its YAML says, with the command line's flags laid over
//! it, every value carrying its origin. Nothing here is checked beyond its type:
//! [`Scenario::resolve`](super::Scenario::resolve) checks it all, once.

use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::origin::{Origin, ScenarioError, Sourced};
use super::phases::RawPhase;
use super::targets::RawTarget;

/// The command-line flags that change a scenario. `--profile` replaces the file's whole
/// `link:` section; the other link flags then apply on top of it.
#[derive(Debug, Clone, Default)]
pub struct ScenarioFlags {
    pub peers: Option<usize>,
    pub transport: Option<String>,
    pub profile: Option<String>,
    pub latency: Option<String>,
    pub jitter: Option<String>,
    pub loss: Option<String>,
    pub bandwidth: Option<String>,
    pub cpus: Option<f64>,
    pub memory: Option<String>,
}

/// A scenario file, merged with flags, not yet validated.
#[derive(Debug, Clone)]
pub struct RawScenario {
    pub(super) file: Arc<str>,
    pub(super) name: Option<String>,
    pub(super) peers: Option<Sourced<usize>>,
    pub(super) transport: Option<Sourced<String>>,
    pub(super) link: RawLink,
    pub(super) bootstrap: RawBootstrap,
    pub(super) resources: RawResources,
    pub(super) phases: Vec<Sourced<RawPhase>>,
    pub(super) targets: Vec<Sourced<RawTarget>>,
}

#[derive(Debug, Clone, Default)]
pub(super) struct RawLink {
    pub(super) profile: Option<Sourced<String>>,
    pub(super) latency: Option<Sourced<String>>,
    pub(super) jitter: Option<Sourced<String>>,
    pub(super) distribution: Option<Sourced<String>>,
    pub(super) loss: Option<Sourced<String>>,
    pub(super) bandwidth: Option<Sourced<String>>,
    pub(super) queue_limit: Option<Sourced<u32>>,
    /// Where the section is, for errors about the link as a whole.
    pub(super) origin: Option<Origin>,
}

#[derive(Debug, Clone, Default)]
pub(super) struct RawBootstrap {
    pub(super) topology: Option<Sourced<String>>,
    pub(super) bootstrap_peers: Option<Sourced<usize>>,
    pub(super) k: Option<Sourced<usize>>,
    pub(super) concurrent_joins: Option<Sourced<usize>>,
}

#[derive(Debug, Clone, Default)]
pub(super) struct RawResources {
    pub(super) cpus: Option<Sourced<f64>>,
    pub(super) memory: Option<Sourced<String>>,
}

impl RawScenario {
    /// Reads a scenario file.
    pub fn load(path: &Path) -> Result<Self, ScenarioError> {
        let file: Arc<str> = Arc::from(path.display().to_string());
        let text = std::fs::read_to_string(path).map_err(|e| ScenarioError {
            origin: Origin::whole_file(&file),
            message: format!("cannot read: {e}"),
        })?;
        Self::parse(&file, &text)
    }

    /// Parses scenario `text`; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Self, ScenarioError> {
        let file: Arc<str> = Arc::from(file);
        let yaml: YamlScenario = serde_saphyr::from_str(text).map_err(|e| {
            let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
            ScenarioError {
                origin: Origin::File {
                    file: Arc::clone(&file),
                    line,
                    column,
                },
                message: first_line(&e.to_string()),
            }
        })?;
        Ok(yaml.into_raw(file))
    }

    /// Lays `flags` over the file's values.
    pub fn with_flags(mut self, flags: &ScenarioFlags) -> Self {
        let flag = |name: &'static str, value: &Option<String>| {
            value.clone().map(|v| Sourced::from_flag(name, v))
        };
        if let Some(peers) = flags.peers {
            self.peers = Some(Sourced::from_flag("--peers", peers));
        }
        if let Some(transport) = flag("--transport", &flags.transport) {
            self.transport = Some(transport);
        }
        if let Some(profile) = &flags.profile {
            self.link = RawLink {
                profile: Some(Sourced::from_flag("--profile", profile.clone())),
                origin: Some(Origin::Flag("--profile")),
                ..RawLink::default()
            };
        }
        let link = &mut self.link;
        for (slot, name, value) in [
            (&mut link.latency, "--latency", &flags.latency),
            (&mut link.jitter, "--jitter", &flags.jitter),
            (&mut link.loss, "--loss", &flags.loss),
            (&mut link.bandwidth, "--bandwidth", &flags.bandwidth),
        ] {
            if let Some(v) = flag(name, value) {
                *slot = Some(v);
            }
        }
        if let Some(cpus) = flags.cpus {
            self.resources.cpus = Some(Sourced::from_flag("--cpus", cpus));
        }
        if let Some(memory) = flag("--memory", &flags.memory) {
            self.resources.memory = Some(memory);
        }
        self
    }
}

fn first_line(message: &str) -> String {
    message.lines().next().unwrap_or(message).trim().to_owned()
}

// ---- the file as serde reads it --------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct YamlScenario {
    name: Option<String>,
    peers: Option<Spanned<usize>>,
    transport: Option<Spanned<String>>,
    link: Option<Spanned<YamlLink>>,
    #[serde(default)]
    bootstrap: YamlBootstrap,
    #[serde(default)]
    resources: YamlResources,
    phases: Vec<Spanned<RawPhase>>,
    #[serde(default)]
    targets: Vec<Spanned<RawTarget>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct YamlLink {
    profile: Option<Spanned<String>>,
    latency: Option<Spanned<String>>,
    jitter: Option<Spanned<String>>,
    distribution: Option<Spanned<String>>,
    loss: Option<Spanned<String>>,
    bandwidth: Option<Spanned<String>>,
    queue_limit: Option<Spanned<u32>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct YamlBootstrap {
    topology: Option<Spanned<String>>,
    bootstrap_peers: Option<Spanned<usize>>,
    k: Option<Spanned<usize>>,
    concurrent_joins: Option<Spanned<usize>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct YamlResources {
    cpus: Option<Spanned<f64>>,
    memory: Option<Spanned<String>>,
}

impl YamlScenario {
    fn into_raw(self, file: Arc<str>) -> RawScenario {
        let f = &file;
        fn at<T>(
            file: &Arc<str>,
            key: &'static str,
            value: Option<Spanned<T>>,
        ) -> Option<Sourced<T>> {
            value.map(|v| Sourced::from_yaml(file, key, v))
        }
        let link = match self.link {
            Some(spanned) => {
                let origin = Some(Origin::file(f, spanned.referenced));
                let l = spanned.value;
                RawLink {
                    profile: at(f, "link.profile", l.profile),
                    latency: at(f, "link.latency", l.latency),
                    jitter: at(f, "link.jitter", l.jitter),
                    distribution: at(f, "link.distribution", l.distribution),
                    loss: at(f, "link.loss", l.loss),
                    bandwidth: at(f, "link.bandwidth", l.bandwidth),
                    queue_limit: at(f, "link.queue_limit", l.queue_limit),
                    origin,
                }
            }
            None => RawLink::default(),
        };
        let b = self.bootstrap;
        let r = self.resources;
        RawScenario {
            name: self.name,
            peers: at(f, "peers", self.peers),
            transport: at(f, "transport", self.transport),
            link,
            bootstrap: RawBootstrap {
                topology: at(f, "bootstrap.topology", b.topology),
                bootstrap_peers: at(f, "bootstrap.bootstrap_peers", b.bootstrap_peers),
                k: at(f, "bootstrap.k", b.k),
                concurrent_joins: at(f, "bootstrap.concurrent_joins", b.concurrent_joins),
            },
            resources: RawResources {
                cpus: at(f, "resources.cpus", r.cpus),
                memory: at(f, "resources.memory", r.memory),
            },
            phases: self
                .phases
                .into_iter()
                .map(|p| Sourced::from_yaml(f, "phases", p))
                .collect(),
            targets: self
                .targets
                .into_iter()
                .map(|t| Sourced::from_yaml(f, "targets", t))
                .collect(),
            file,
        }
    }
}
