//! The node's libp2p identity, kept in `<data-dir>/identity.key` so that its peer id (and so
//! its provider records and published packages) survive a restart. A key file that does not
//! decode is moved aside and a new key made, loudly: the old key cannot be read back anyway,
//! and the node must come up.

use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use libp2p::identity::Keypair;

use crate::package::StoreError;

const IDENTITY_FILE: &str = "identity.key";

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("reading {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("saving the identity")]
    Write(#[from] StoreError),
}

/// Loads the keypair from `data_dir`, or creates and saves a new ed25519 one.
pub fn load_or_create(data_dir: &Path) -> Result<Keypair, IdentityError> {
    let path = data_dir.join(IDENTITY_FILE);
    match fs::read(&path) {
        Ok(bytes) => match Keypair::from_protobuf_encoding(&bytes) {
            Ok(keypair) => Ok(keypair),
            Err(e) => {
                crate::package::quarantine(&path, &format!("not a libp2p key ({e})"));
                let keypair = create(&path)?;
                tracing::error!(
                    peer_id = %keypair.public().to_peer_id(),
                    "the identity key did not decode: this node has a new identity"
                );
                Ok(keypair)
            }
        },
        Err(e) if e.kind() == io::ErrorKind::NotFound => create(&path),
        Err(e) if e.kind() == io::ErrorKind::IsADirectory => {
            crate::package::quarantine(&path, "a directory, not a key");
            create(&path)
        }
        Err(source) => Err(IdentityError::Read { path, source }),
    }
}

/// Makes a new ed25519 key and saves it, readable by the owner only.
fn create(path: &Path) -> Result<Keypair, IdentityError> {
    let keypair = Keypair::generate_ed25519();
    let bytes = keypair
        .to_protobuf_encoding()
        .expect("ed25519 keys always encode");
    crate::package::write_atomic(path, &bytes)?;
    fs::set_permissions(path, fs::Permissions::from_mode(0o600)).map_err(|source| {
        IdentityError::Read {
            path: path.to_owned(),
            source,
        }
    })?;
    Ok(keypair)
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
    fn a_garbage_identity_is_moved_aside_and_replaced() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(IDENTITY_FILE), b"not a key").unwrap();
        let fresh = load_or_create(dir.path()).unwrap();
        assert_eq!(load_or_create(dir.path()).unwrap().public(), fresh.public());
        let aside = fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with("identity.key.corrupt-")
            })
            .count();
        assert_eq!(aside, 1);
    }
}
