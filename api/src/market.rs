//! Publishing, looking up, searching and installing packages.

use serde::{Deserialize, Serialize};

use crate::package::{SearchHit, SignedManifest};

/// `POST /packages`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PublishRequest {
    pub name: String,
    pub version: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub tags: Vec<String>,
    /// The package content, base64 (standard alphabet, padded).
    pub content_base64: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PublishOutcome {
    pub package: SignedManifest,
    /// Whether at least one peer stored the DHT record.
    pub dht_record_stored: bool,
    /// Whether this node provides the content. The provider record is announced to the
    /// closest peers in the background (its lookup takes several round trips); until then
    /// installers reach this node as the publisher the manifest names.
    pub providing: bool,
    /// Whether the announcement went out on gossip.
    pub announced: bool,
    /// What went wrong on the network side; the package is stored locally regardless.
    pub warnings: Vec<String>,
    pub duration_s: f64,
}

/// Where a search looks: the node's own index, or its peers too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    #[default]
    Local,
    Network,
}

impl Scope {
    /// The name used on the wire, in metric labels and in phase names.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Local => "local",
            Self::Network => "network",
        }
    }
}

/// `GET /search?q=&scope=&limit=&timeout_ms=`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SearchParams {
    pub q: String,
    #[serde(default)]
    pub scope: Scope,
    pub limit: Option<usize>,
    /// Deadline for a network search, in milliseconds.
    pub timeout_ms: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SearchOutcome {
    pub scope: Scope,
    pub hits: Vec<SearchHit>,
    pub peers_asked: usize,
    pub peers_answered: usize,
    pub duration_s: f64,
}

/// `GET /lookup/{name}?version=`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LookupOutcome {
    pub package: SignedManifest,
    pub kad_requests: u32,
    pub duration_s: f64,
}

/// `?version=` of `GET /packages/{name}` and `GET /lookup/{name}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VersionParam {
    pub version: Option<String>,
}

/// `POST /install`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InstallRequest {
    pub name: String,
    pub version: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InstallOutcome {
    pub package: SignedManifest,
    /// The peer the content came from; `None` when it was already stored here.
    pub provider: Option<String>,
    /// Providers that failed before one succeeded, with the reason.
    pub rejected: Vec<String>,
    pub already_installed: bool,
    pub duration_s: f64,
}
