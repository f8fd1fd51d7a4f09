//! Packages: the signed manifest, its validation, the on-disk store and the local search index.

mod index;
mod manifest;
mod store;

pub use index::{SearchIndex, MAX_REMOTE_PACKAGES};
pub use manifest::{
    parse_version, sha256_hex, validate_name, ManifestError, PackageSpec, VerifyManifest,
};
pub(crate) use store::{quarantine, write_atomic};
pub use store::{Content, PackageStore, StoreError};
