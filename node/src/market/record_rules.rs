//! The marketplace's [`RecordPolicy`]: a DHT record is a signed manifest of the package and
//! version its key names, whose publisher owns the name ([`Owners`]). A valid record of a
//! name nobody owned yet makes its publisher the owner.

use std::sync::Arc;

use libp2p::kad::Record;
use libp2p::PeerId;
use p2p_api::SignedManifest;

use super::keys;
use super::owners::Owners;
use crate::network::{RecordPolicy, Refusal};
use crate::package::VerifyManifest;

#[derive(Debug)]
pub struct RecordRules {
    owners: Arc<Owners>,
}

impl RecordRules {
    pub fn new(owners: Arc<Owners>) -> Self {
        Self { owners }
    }
}

/// The manifest a record holds, if it is a valid one for what the record's key names.
fn manifest_of(record: &Record) -> Result<(SignedManifest, PeerId), Refusal> {
    let (name, version) = keys::parse_record(record.key.as_ref()).ok_or(Refusal::Invalid)?;
    let package: SignedManifest =
        serde_json::from_slice(&record.value).map_err(|_| Refusal::Invalid)?;
    package.verify().map_err(|_| Refusal::Invalid)?;
    let m = &package.manifest;
    if m.name != name || version.is_some_and(|v| v != m.version) {
        return Err(Refusal::Invalid);
    }
    let publisher = m
        .publisher
        .parse::<PeerId>()
        .map_err(|_| Refusal::Invalid)?;
    Ok((package, publisher))
}

impl RecordPolicy for RecordRules {
    fn check_record(&self, record: &Record) -> Result<PeerId, Refusal> {
        let (package, publisher) = manifest_of(record)?;
        self.owners
            .claim(&package.manifest.name, publisher, false)
            .map_err(|_| Refusal::Conflict)?;
        Ok(publisher)
    }

    fn replaces(&self, new: &Record, old: &Record) -> bool {
        match (manifest_of(new), manifest_of(old)) {
            (Ok((new, new_owner)), Ok((old, old_owner))) => {
                new_owner == old_owner && new.manifest.version >= old.manifest.version
            }
            // What is stored was accepted once; a record that no longer passes gives way.
            (Ok(_), Err(_)) => true,
            (Err(_), _) => false,
        }
    }

    fn check_provider_key(&self, key: &[u8]) -> bool {
        keys::is_content(key)
    }
}

#[cfg(test)]
mod tests {
    use libp2p::identity::Keypair;
    use libp2p::kad::RecordKey;

    use super::*;
    use crate::package::PackageSpec;

    fn record(key: Vec<u8>, name: &str, version: &str, signer: &Keypair) -> Record {
        let signed = PackageSpec::new(name, version, "", &[])
            .unwrap()
            .sign(b"content", signer, 0)
            .unwrap();
        Record::new(RecordKey::new(&key), serde_json::to_vec(&signed).unwrap())
    }

    #[test]
    fn records_must_be_valid_for_their_key_and_their_owner() {
        let rules = RecordRules::new(Arc::new(Owners::default()));
        let (a, b) = (Keypair::generate_ed25519(), Keypair::generate_ed25519());
        let v1 = semver::Version::new(1, 0, 0);
        let first = record(keys::latest_record("pkg"), "pkg", "1.0.0", &a);
        assert_eq!(rules.check_record(&first), Ok(a.public().to_peer_id()));
        let versioned = record(keys::version_record("pkg", &v1), "pkg", "1.0.0", &a);
        assert!(rules.check_record(&versioned).is_ok());
        // Another key's manifest of the same name.
        let hijack = record(keys::latest_record("pkg"), "pkg", "9.9.9", &b);
        assert_eq!(rules.check_record(&hijack), Err(Refusal::Conflict));
        // A manifest under a key that names something else.
        let misplaced = record(keys::latest_record("other"), "pkg", "1.0.0", &a);
        assert_eq!(rules.check_record(&misplaced), Err(Refusal::Invalid));
        let wrong_version = record(keys::version_record("pkg", &v1), "pkg", "1.0.1", &a);
        assert_eq!(rules.check_record(&wrong_version), Err(Refusal::Invalid));
        // Garbage, and a forged signature.
        let garbage = Record::new(RecordKey::new(&keys::latest_record("x")), b"{".to_vec());
        assert_eq!(rules.check_record(&garbage), Err(Refusal::Invalid));
        let mut forged: SignedManifest = serde_json::from_slice(&first.value).unwrap();
        forged.manifest.description = "changed".into();
        let forged = Record::new(first.key.clone(), serde_json::to_vec(&forged).unwrap());
        assert_eq!(rules.check_record(&forged), Err(Refusal::Invalid));
    }

    #[test]
    fn only_a_newer_version_of_the_same_owner_replaces_a_record() {
        let rules = RecordRules::new(Arc::new(Owners::default()));
        let (a, b) = (Keypair::generate_ed25519(), Keypair::generate_ed25519());
        let key = keys::latest_record("pkg");
        let old = record(key.clone(), "pkg", "1.0.0", &a);
        let newer = record(key.clone(), "pkg", "1.1.0", &a);
        let other = record(key, "pkg", "2.0.0", &b);
        assert!(rules.replaces(&newer, &old));
        assert!(!rules.replaces(&old, &newer));
        assert!(!rules.replaces(&other, &old));
    }

    #[test]
    fn provider_keys_are_content_hashes() {
        let rules = RecordRules::new(Arc::new(Owners::default()));
        assert!(rules.check_provider_key(&keys::content(&"0f".repeat(32))));
        assert!(!rules.check_provider_key(b"/market/content/../../x"));
    }
}
