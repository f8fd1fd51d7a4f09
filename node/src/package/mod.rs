//! Packages: the signed manifest, its validation, the on-disk store and the local search index.

mod index;
mod manifest;
mod store;

pub use index::{SearchHit, SearchIndex};
pub use manifest::{
    parse_version, sha256_hex, validate_name, ManifestError, PackageManifest, PackageSpec,
    SignedManifest, MAX_CONTENT_BYTES, MAX_DESCRIPTION_CHARS, MAX_TAGS, MAX_TAG_CHARS,
};
pub(crate) use store::write_atomic;
pub use store::{PackageStore, StoreError};
