//! The node's libp2p identity, kept in `<data-dir>/identity.key` so that its peer id (and so
//! its provider records and published packages) survive a restart.

use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use libp2p::identity::Keypair;

use crate::package::StoreError;

const IDENTITY_FILE: &str = "identity.key";

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("reading {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{path} does not hold a libp2p key: {detail}")]
    Decode { path: PathBuf, detail: String },
    #[error("saving the identity: {0}")]
    Write(#[from] StoreError),
}

/// Loads the keypair from `data_dir`, or creates and saves a new ed25519 one.
pub fn load_or_create(data_dir: &Path) -> Result<Keypair, IdentityError> {
    let path = data_dir.join(IDENTITY_FILE);
    match fs::read(&path) {
        Ok(bytes) => Keypair::from_protobuf_encoding(&bytes).map_err(|e| IdentityError::Decode {
            path,
            detail: e.to_string(),
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let keypair = Keypair::generate_ed25519();
            let bytes = keypair
                .to_protobuf_encoding()
                .expect("ed25519 keys always encode");
            crate::package::write_atomic(&path, &bytes)?;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).map_err(|source| {
                IdentityError::Read {
                    path: path.clone(),
                    source,
                }
            })?;
            Ok(keypair)
        }
        Err(source) => Err(IdentityError::Read { path, source }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_survives_a_reload() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create(dir.path()).unwrap();
        let second = load_or_create(dir.path()).unwrap();
        assert_eq!(first.public(), second.public());
        let mode = fs::metadata(dir.path().join(IDENTITY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn garbage_identity_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(IDENTITY_FILE), b"not a key").unwrap();
        let err = load_or_create(dir.path()).unwrap_err();
        assert!(
            err.to_string().contains("does not hold a libp2p key"),
            "{err}"
        );
    }
}
