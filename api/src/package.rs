//! The package manifest as data. The node signs and verifies it (its canonical form is the
//! JSON serialization of [`PackageManifest`], in field declaration order, so the order of the
//! fields here is part of the contract).

use semver::Version;
use serde::{Deserialize, Serialize};

/// The signed part of a package's metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageManifest {
    pub name: String,
    pub version: Version,
    pub description: String,
    pub tags: Vec<String>,
    /// Content size in bytes.
    pub size: u64,
    /// Lowercase hex SHA-256 of the content.
    pub sha256: String,
    /// Base58 peer id of the publisher.
    pub publisher: String,
    /// Hex of the publisher's protobuf-encoded public key.
    pub publisher_key: String,
    pub created_unix_ms: u64,
}

impl PackageManifest {
    /// The bytes that are signed: the JSON form, in field declaration order.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a manifest always serializes to JSON")
    }
}

/// A manifest and the publisher's signature over it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedManifest {
    #[serde(flatten)]
    pub manifest: PackageManifest,
    /// Hex of the ed25519 signature over [`PackageManifest::canonical_bytes`].
    pub signature: String,
}

/// One search result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchHit {
    #[serde(flatten)]
    pub package: SignedManifest,
    /// Whether the answering node stores the content.
    pub local: bool,
    pub score: f32,
}
