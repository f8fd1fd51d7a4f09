//! The on-disk package store under `--data-dir`.
//!
//! Layout: `packages/<name>/<version>.json` holds a signed manifest, `blobs/<sha256>` the
//! content. Every write is atomic (temporary file, fsync, rename, fsync of the directory), and
//! nothing is written before the manifest's signature and the content's checksum verify.
//!
//! What is read back is checked again, because disks and people change files: a manifest
//! that does not parse or verify, a directory where a file should be, or a blob whose bytes
//! do not hash to its name is moved aside (`<file>.corrupt-<unix seconds>`) with a warning,
//! and the node goes on without it. A stored manifest is never replaced by a different one.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use p2p_api::SignedManifest;
use semver::Version;

use super::manifest::{sha256_hex, validate_name, ManifestError, VerifyManifest};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{op} {path}")]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("package {name} {version} rejected")]
    Rejected {
        name: String,
        version: Version,
        #[source]
        source: Box<ManifestError>,
    },
    #[error("{name} {version} is already stored with another manifest (sha256 {stored})")]
    Conflict {
        name: String,
        version: Version,
        stored: String,
    },
}

fn io_err<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> StoreError + 'a {
    move |source| StoreError::Io {
        op,
        path: path.to_owned(),
        source,
    }
}

/// What reading a blob found.
#[derive(Debug, PartialEq, Eq)]
pub enum Content {
    /// The bytes, which hash to the name they were asked for.
    Verified(Vec<u8>),
    Missing,
    /// The file did not hash to its name: it was moved aside.
    Quarantined,
}

/// A directory of packages. Cheap to clone; all methods block on the file system, so async
/// callers run them on `spawn_blocking`.
#[derive(Debug, Clone)]
pub struct PackageStore {
    root: PathBuf,
}

impl PackageStore {
    /// Opens (creating if needed) the store under `root`. A file where one of its
    /// directories should be is moved aside; temporary files a crash left are removed.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, StoreError> {
        let store = Self { root: root.into() };
        for dir in [store.packages_dir(), store.blobs_dir()] {
            if dir.exists() && !dir.is_dir() {
                quarantine(&dir, "not a directory");
            }
            fs::create_dir_all(&dir).map_err(io_err("create", &dir))?;
            remove_temporary_files(&dir);
        }
        Ok(store)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Verifies and stores a package. Storing the same package again is a no-op, except that
    /// it writes the content back if the blob went missing or bad; a different manifest for a
    /// name and version already stored is a [`StoreError::Conflict`].
    pub fn put(&self, signed: &SignedManifest, content: &[u8]) -> Result<(), StoreError> {
        let m = &signed.manifest;
        let rejected = |source| StoreError::Rejected {
            name: m.name.clone(),
            version: m.version.clone(),
            source: Box::new(source),
        };
        signed.verify().map_err(rejected)?;
        signed.verify_content(content).map_err(rejected)?;

        let dir = self.packages_dir().join(&m.name);
        let path = dir.join(format!("{}.json", m.version));
        match self.read_manifest(&path)? {
            Some(stored) if stored == *signed => {}
            Some(stored) => {
                return Err(StoreError::Conflict {
                    name: m.name.clone(),
                    version: m.version.clone(),
                    stored: stored.manifest.sha256,
                })
            }
            None => {}
        }
        if !matches!(self.content(&m.sha256)?, Content::Verified(_)) {
            write_atomic(&self.blobs_dir().join(&m.sha256), content)?;
        }
        if !path.is_file() {
            if dir.exists() && !dir.is_dir() {
                quarantine(&dir, "not a directory");
            }
            fs::create_dir_all(&dir).map_err(io_err("create", &dir))?;
            let json = serde_json::to_vec_pretty(signed).expect("a manifest serializes to JSON");
            write_atomic(&path, &json)?;
        }
        Ok(())
    }

    /// Every stored package whose manifest verifies and whose content is present and hashes
    /// right. What does not is moved aside, with a warning.
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
                let Some(signed) = self.read_manifest(&path)? else {
                    continue;
                };
                match self.content(&signed.manifest.sha256)? {
                    Content::Verified(bytes) if signed.verify_content(&bytes).is_ok() => {
                        manifests.push(signed)
                    }
                    Content::Verified(_) => tracing::warn!(
                        path = %path.display(),
                        "skipping manifest whose size does not match its content"
                    ),
                    Content::Missing | Content::Quarantined => tracing::warn!(
                        path = %path.display(),
                        "skipping manifest without content; publishing it again restores it"
                    ),
                }
            }
        }
        Ok(manifests)
    }

    /// The content with this SHA-256, checked against the hash before it is returned.
    pub fn content(&self, sha256: &str) -> Result<Content, StoreError> {
        if sha256.len() != 64
            || !sha256
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            return Ok(Content::Missing);
        }
        let path = self.blobs_dir().join(sha256);
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Content::Missing),
            // A directory where the blob should be.
            Err(e) if e.kind() == io::ErrorKind::IsADirectory => {
                quarantine(&path, "a directory, not content");
                return Ok(Content::Quarantined);
            }
            Err(e) => return Err(io_err("read", &path)(e)),
        };
        if sha256_hex(&bytes) == sha256 {
            Ok(Content::Verified(bytes))
        } else {
            quarantine(&path, "content does not hash to its name");
            Ok(Content::Quarantined)
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
        self.read_manifest(&path)
    }

    /// Reads one manifest file: `None` when absent, or when it was corrupt (moved aside).
    fn read_manifest(&self, path: &Path) -> Result<Option<SignedManifest>, StoreError> {
        let bytes = match fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) if e.kind() == io::ErrorKind::IsADirectory => {
                quarantine(path, "a directory, not a manifest");
                return Ok(None);
            }
            Err(e) => return Err(io_err("read", path)(e)),
        };
        let signed: SignedManifest = match serde_json::from_slice(&bytes) {
            Ok(signed) => signed,
            Err(e) => {
                quarantine(path, &format!("not a manifest: {e}"));
                return Ok(None);
            }
        };
        if let Err(e) = signed.verify() {
            quarantine(path, &format!("manifest does not verify: {e}"));
            return Ok(None);
        }
        // The file's place must be what the manifest names.
        let expected = self
            .packages_dir()
            .join(&signed.manifest.name)
            .join(format!("{}.json", signed.manifest.version));
        if expected != path {
            quarantine(
                path,
                "manifest names another package or version than its path",
            );
            return Ok(None);
        }
        Ok(Some(signed))
    }

    fn packages_dir(&self) -> PathBuf {
        self.root.join("packages")
    }

    fn blobs_dir(&self) -> PathBuf {
        self.root.join("blobs")
    }
}

/// Moves a bad file or directory aside, so that it is neither used nor lost.
pub(crate) fn quarantine(path: &Path, why: &str) {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut aside = path.as_os_str().to_owned();
    aside.push(format!(".corrupt-{secs}"));
    match fs::rename(path, &aside) {
        Ok(()) => tracing::warn!(
            path = %path.display(),
            moved_to = %Path::new(&aside).display(),
            "{why}: moved aside"
        ),
        Err(e) => tracing::error!(
            path = %path.display(),
            error = %e,
            "{why}, and it could not be moved aside"
        ),
    }
}

/// Removes the temporary files an interrupted [`write_atomic`] leaves (`.tmp*`).
fn remove_temporary_files(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with(".tmp") && path.is_file() {
            let _ = fs::remove_file(&path);
        } else if path.is_dir() {
            remove_temporary_files(&path);
        }
    }
}

fn highest_version(dir: &Path) -> Result<Option<Version>, StoreError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) if e.kind() == io::ErrorKind::NotADirectory => return Ok(None),
        Err(e) => return Err(io_err("read", dir)(e)),
    };
    let mut best: Option<Version> = None;
    for entry in entries {
        let path = entry.map_err(io_err("read", dir))?.path();
        if path.extension().is_none_or(|ext| ext != "json") {
            continue;
        }
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

    fn aside(dir: &Path) -> Vec<String> {
        let mut found = Vec::new();
        for entry in walk(dir) {
            let name = entry.file_name().unwrap().to_string_lossy().into_owned();
            if name.contains(".corrupt-") {
                found.push(name);
            }
        }
        found
    }

    fn walk(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for e in fs::read_dir(dir).unwrap().flatten() {
            out.push(e.path());
            if e.path().is_dir() {
                out.extend(walk(&e.path()));
            }
        }
        out
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
            reopened.content(&a2.manifest.sha256).unwrap(),
            Content::Verified(b"two".to_vec())
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
        assert_eq!(store.content(&m.manifest.sha256).unwrap(), Content::Missing);
        assert_eq!(store.manifest("beta", None).unwrap(), None);
    }

    #[test]
    fn lookups_with_hostile_names_find_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = PackageStore::open(dir.path()).unwrap();
        assert_eq!(store.manifest("../../etc", None).unwrap(), None);
        assert_eq!(store.content("../identity.key").unwrap(), Content::Missing);
        assert_eq!(store.content(&"A".repeat(64)).unwrap(), Content::Missing);
    }

    #[test]
    fn a_stored_manifest_is_never_replaced_by_another() {
        let dir = tempfile::tempdir().unwrap();
        let store = PackageStore::open(dir.path()).unwrap();
        let first = signed("gamma", "1.0.0", b"first");
        let second = signed("gamma", "1.0.0", b"second");
        store.put(&first, b"first").unwrap();
        let err = store.put(&second, b"second").unwrap_err();
        assert!(matches!(err, StoreError::Conflict { .. }), "{err}");
        assert_eq!(store.manifest("gamma", None).unwrap(), Some(first));
    }

    #[test]
    fn corrupt_files_are_moved_aside_and_the_rest_loads() {
        let dir = tempfile::tempdir().unwrap();
        let store = PackageStore::open(dir.path()).unwrap();
        let good = signed("good", "1.0.0", b"good");
        store.put(&good, b"good").unwrap();
        let pkgs = dir.path().join("packages");
        for (name, bytes) in [
            ("garbage", &b"\x00\xff not json"[..]),
            ("empty", b""),
            ("truncated", &serde_json::to_vec(&good).unwrap()[..40]),
        ] {
            fs::create_dir_all(pkgs.join(name)).unwrap();
            fs::write(pkgs.join(name).join("1.0.0.json"), bytes).unwrap();
        }
        fs::create_dir_all(pkgs.join("dir").join("1.0.0.json")).unwrap();
        // A manifest copied under another package's name.
        fs::create_dir_all(pkgs.join("thief")).unwrap();
        fs::write(
            pkgs.join("thief").join("1.0.0.json"),
            serde_json::to_vec(&good).unwrap(),
        )
        .unwrap();

        let loaded = PackageStore::open(dir.path()).unwrap().load_all().unwrap();
        assert_eq!(loaded, vec![good]);
        assert_eq!(aside(dir.path()).len(), 5, "{:?}", aside(dir.path()));
    }

    #[test]
    fn a_blob_changed_on_disk_is_not_served_and_a_republish_restores_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = PackageStore::open(dir.path()).unwrap();
        let m = signed("delta", "1.0.0", b"the real bytes");
        store.put(&m, b"the real bytes").unwrap();
        let blob = dir.path().join("blobs").join(&m.manifest.sha256);
        fs::write(&blob, b"XXXXXXXXXXXXXX").unwrap();
        assert_eq!(
            store.content(&m.manifest.sha256).unwrap(),
            Content::Quarantined
        );
        assert!(store.load_all().unwrap().is_empty());
        store.put(&m, b"the real bytes").unwrap();
        assert_eq!(store.load_all().unwrap(), vec![m.clone()]);
        fs::remove_file(&blob).unwrap();
        assert!(store.load_all().unwrap().is_empty());
        store.put(&m, b"the real bytes").unwrap();
        assert_eq!(store.load_all().unwrap(), vec![m]);
    }
}
