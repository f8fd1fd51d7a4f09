//! DHT keys of the marketplace.

use semver::Version;

/// The record of a package's latest published version.
pub fn latest_record(name: &str) -> Vec<u8> {
    format!("/market/pkg/{name}").into_bytes()
}

/// The record of one version of a package.
pub fn version_record(name: &str, version: &Version) -> Vec<u8> {
    format!("/market/pkg/{name}/{version}").into_bytes()
}

/// The provider key of content, by its hex SHA-256.
pub fn content(sha256: &str) -> Vec<u8> {
    format!("/market/content/{sha256}").into_bytes()
}
