//! The on-disk package store under `--data-dir`.
//!
//! Layout: `packages/<name>/<version>.json` holds a signed manifest, `blobs/<sha256>` the
//! content. Every write is atomic (temporary file, fsync, rename, fsync of the directory), and
//! nothing is written before the manifest's signature and the content's checksum verify.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use p2p_api::SignedManifest;
use semver::Version;

use super::manifest::{validate_name, ManifestError, VerifyManifest};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{op} {path}: {source}")]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("corrupt manifest {path}: {source}")]
    CorruptManifest {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("package {name} {version} rejected: {source}")]
    Rejected {
        name: String,
        version: Version,
        #[source]
        source: Box<ManifestError>,
    },
}

fn io_err<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> StoreError + 'a {
    move |source| StoreError::Io {
        op,
        path: path.to_owned(),
        source,
    }
}

/// A directory of packages. Cheap to clone; all methods block on the file system, so async
/// callers run them on `spawn_blocking`.
#[derive(Debug, Clone)]
pub struct PackageStore {
    root: PathBuf,
}

impl PackageStore {
    /// Opens (creating if needed) the store under `root`.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, StoreError> {
        let store = Self { root: root.into() };
        for dir in [store.packages_dir(), store.blobs_dir()] {
            fs::create_dir_all(&dir).map_err(io_err("create", &dir))?;
        }
        Ok(store)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Verifies and stores a package. Storing the same package twice is a no-op.
    pub fn put(&self, signed: &SignedManifest, content: &[u8]) -> Result<(), StoreError> {
        let m = &signed.manifest;
        let rejected = |source| StoreError::Rejected {
            name: m.name.clone(),
            version: m.version.clone(),
            source: Box::new(source),
        };
        signed.verify().map_err(rejected)?;
        signed.verify_content(content).map_err(rejected)?;

        let blob = self.blobs_dir().join(&m.sha256);
        if !blob.exists() {
            write_atomic(&blob, content)?;
        }
        let dir = self.packages_dir().join(&m.name);
        fs::create_dir_all(&dir).map_err(io_err("create", &dir))?;
        let json = serde_json::to_vec_pretty(signed).expect("a manifest serializes to JSON");
        write_atomic(&dir.join(format!("{}.json", m.version)), &json)
    }

    /// Every stored manifest whose content is present. Manifests that fail verification are
    /// skipped with a warning rather than trusted.
    pub fn load_all(&self) -> Result<Vec<SignedManifest>, StoreError> {
        let mut manifests = Vec::new();
        let packages = self.packages_dir();
        for entry in fs::read_dir(&packages).map_err(io_err("read", &packages))? {
            let dir = entry.map_err(io_err("read", &packages))?.path();
            if !dir.is_dir() {
                continue;
            }
            for file in fs::read_dir(&dir).map_err(io_err("read", &dir))? {
                let path = file.map_err(io_err("read", &dir))?.path();
                if path.extension().is_none_or(|ext| ext != "json") {
                    continue;
                }
                let bytes = fs::read(&path).map_err(io_err("read", &path))?;
                let signed: SignedManifest = serde_json::from_slice(&bytes).map_err(|source| {
                    StoreError::CorruptManifest {
                        path: path.clone(),
                        source,
                    }
                })?;
                if let Err(e) = signed.verify() {
                    tracing::warn!(path = %path.display(), error = %e, "skipping invalid manifest");
                    continue;
                }
                if !self.blobs_dir().join(&signed.manifest.sha256).exists() {
                    tracing::warn!(path = %path.display(), "skipping manifest without content");
                    continue;
                }
                manifests.push(signed);
            }
        }
        Ok(manifests)
    }

    /// The content with this SHA-256, if stored.
    pub fn content(&self, sha256: &str) -> Result<Option<Vec<u8>>, StoreError> {
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let path = self.blobs_dir().join(sha256);
        match fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err("read", &path)(e)),
        }
    }

    /// The stored manifest of `name` at `version`, or at its highest stored version.
    pub fn manifest(
        &self,
        name: &str,
        version: Option<&Version>,
    ) -> Result<Option<SignedManifest>, StoreError> {
        if validate_name(name).is_err() {
            return Ok(None);
        }
        let dir = self.packages_dir().join(name);
        let path = match version {
            Some(v) => dir.join(format!("{v}.json")),
            None => match highest_version(&dir)? {
                Some(v) => dir.join(format!("{v}.json")),
                None => return Ok(None),
            },
        };
        match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|source| StoreError::CorruptManifest { path, source }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err("read", &path)(e)),
        }
    }

    fn packages_dir(&self) -> PathBuf {
        self.root.join("packages")
    }

    fn blobs_dir(&self) -> PathBuf {
        self.root.join("blobs")
    }
}

fn highest_version(dir: &Path) -> Result<Option<Version>, StoreError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err("read", dir)(e)),
    };
    let mut best: Option<Version> = None;
    for entry in entries {
        let path = entry.map_err(io_err("read", dir))?.path();
        let version = path
            .file_stem()
            .and_then(|s| s.to_str())
            .and_then(|s| Version::parse(s).ok());
        if let Some(v) = version {
            if best.as_ref().is_none_or(|b| v > *b) {
                best = Some(v);
            }
        }
    }
    Ok(best)
}

/// Writes `bytes` to `path` so that a crash leaves either the old file or the new one.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io_err("create temp in", dir))?;
    tmp.write_all(bytes).map_err(io_err("write", tmp.path()))?;
    tmp.as_file().sync_all().map_err(io_err("fsync", path))?;
    tmp.persist(path)
        .map_err(|e| io_err("rename to", path)(e.error))?;
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err("fsync", dir))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::package::PackageSpec;
    use libp2p::identity::Keypair;

    fn signed(name: &str, version: &str, content: &[u8]) -> SignedManifest {
        PackageSpec::new(name, version, "d", &[])
            .unwrap()
            .sign(content, &Keypair::generate_ed25519(), 0)
            .unwrap()
    }

    #[test]
    fn put_then_reopen_finds_everything() {
        let dir = tempfile::tempdir().unwrap();
        let store = PackageStore::open(dir.path()).unwrap();
        let a1 = signed("alpha", "1.0.0", b"one");
        let a2 = signed("alpha", "1.10.0", b"two");
        store.put(&a1, b"one").unwrap();
        store.put(&a2, b"two").unwrap();
        store.put(&a2, b"two").unwrap();

        let reopened = PackageStore::open(dir.path()).unwrap();
        let mut all = reopened.load_all().unwrap();
        all.sort_by(|a, b| a.manifest.version.cmp(&b.manifest.version));
        assert_eq!(all, vec![a1.clone(), a2.clone()]);
        assert_eq!(reopened.manifest("alpha", None).unwrap(), Some(a2.clone()));
        assert_eq!(
            reopened
                .manifest("alpha", Some(&a1.manifest.version))
                .unwrap(),
            Some(a1)
        );
        assert_eq!(
            reopened.content(&a2.manifest.sha256).unwrap().as_deref(),
            Some(&b"two"[..])
        );
    }

    #[test]
    fn wrong_content_is_not_stored() {
        let dir = tempfile::tempdir().unwrap();
        let store = PackageStore::open(dir.path()).unwrap();
        let m = signed("beta", "1.0.0", b"right");
        let err = store.put(&m, b"wrong").unwrap_err();
        assert!(matches!(err, StoreError::Rejected { .. }), "{err}");
        assert!(store.load_all().unwrap().is_empty());
        assert_eq!(store.content(&m.manifest.sha256).unwrap(), None);
        assert_eq!(store.manifest("beta", None).unwrap(), None);
    }

    #[test]
    fn lookups_with_hostile_names_find_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = PackageStore::open(dir.path()).unwrap();
        assert_eq!(store.manifest("../../etc", None).unwrap(), None);
        assert_eq!(store.content("../identity.key").unwrap(), None);
    }
}
