//! Packages: the signed manifest, its validation, the on-disk store and the local search index.

mod index;
mod manifest;
mod store;

pub use index::SearchIndex;
pub use manifest::{
    parse_version, sha256_hex, validate_name, ManifestError, PackageSpec, VerifyManifest,
};
pub(crate) use store::write_atomic;
pub use store::{PackageStore, StoreError};
