//! The package manifest's rules and its ed25519 signature.
//!
//! The manifest itself is data of the API contract ([`p2p_api::PackageManifest`]); it is
//! signed by the publisher's libp2p key over its canonical form, the JSON serialization in
//! field declaration order. [`PackageSpec`] builds and signs one; [`VerifyManifest`] checks
//! one that came from anywhere else.

use libp2p::identity::{Keypair, PublicKey};
use libp2p::PeerId;
use p2p_api::limits::{
    MAX_CONTENT_BYTES, MAX_DESCRIPTION_CHARS, MAX_NAME_CHARS, MAX_TAGS, MAX_TAG_CHARS,
    MAX_VERSION_CHARS,
};
use p2p_api::{PackageManifest, SignedManifest};
use semver::Version;
use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("invalid package name {0:?}: expected [a-z0-9][a-z0-9_-]{{0,63}}")]
    InvalidName(String),
    #[error("invalid version {version:?}")]
    InvalidVersion {
        version: String,
        #[source]
        source: semver::Error,
    },
    #[error("version is {0} characters long, at most {MAX_VERSION_CHARS} are allowed")]
    VersionTooLong(usize),
    #[error("invalid sha256 {0:?}: expected 64 lowercase hex digits")]
    InvalidChecksum(String),
    #[error("description is {0} characters long, at most {MAX_DESCRIPTION_CHARS} are allowed")]
    DescriptionTooLong(usize),
    #[error("{0} tags given, at most {MAX_TAGS} are allowed")]
    TooManyTags(usize),
    #[error("invalid tag {0:?}: expected 1 to {MAX_TAG_CHARS} characters of [a-z0-9_.-]")]
    InvalidTag(String),
    #[error("content is empty")]
    EmptyContent,
    #[error("content is {0} bytes, at most {MAX_CONTENT_BYTES} are allowed")]
    ContentTooLarge(usize),
    #[error("content checksum mismatch: manifest says {expected}, content hashes to {actual}")]
    ChecksumMismatch { expected: String, actual: String },
    #[error("content size mismatch: manifest says {expected} bytes, content has {actual}")]
    SizeMismatch { expected: u64, actual: u64 },
    #[error("publisher key does not decode: {0}")]
    BadPublisherKey(String),
    #[error("publisher key does not belong to publisher {0}")]
    PublisherMismatch(String),
    #[error("signature does not verify for {name} {version}")]
    BadSignature { name: String, version: Version },
    #[error("signing failed: {0}")]
    Signing(String),
}

/// What a publisher provides: validated name, version, description and tags.
#[derive(Debug, Clone)]
pub struct PackageSpec {
    name: String,
    version: Version,
    description: String,
    tags: Vec<String>,
}

impl PackageSpec {
    pub fn new(
        name: &str,
        version: &str,
        description: &str,
        tags: &[String],
    ) -> Result<Self, ManifestError> {
        validate_name(name)?;
        let version = parse_version(version)?;
        let description_chars = description.chars().count();
        if description_chars > MAX_DESCRIPTION_CHARS {
            return Err(ManifestError::DescriptionTooLong(description_chars));
        }
        if tags.len() > MAX_TAGS {
            return Err(ManifestError::TooManyTags(tags.len()));
        }
        let mut clean_tags = Vec::with_capacity(tags.len());
        for tag in tags {
            validate_tag(tag)?;
            if !clean_tags.contains(tag) {
                clean_tags.push(tag.clone());
            }
        }
        Ok(Self {
            name: name.to_owned(),
            version,
            description: description.to_owned(),
            tags: clean_tags,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn version(&self) -> &Version {
        &self.version
    }

    /// Builds and signs the manifest of `content` with the publisher's key.
    pub fn sign(
        self,
        content: &[u8],
        keypair: &Keypair,
        created_unix_ms: u64,
    ) -> Result<SignedManifest, ManifestError> {
        check_content_size(content.len())?;
        let public = keypair.public();
        let manifest = PackageManifest {
            name: self.name,
            version: self.version,
            description: self.description,
            tags: self.tags,
            size: content.len() as u64,
            sha256: sha256_hex(content),
            publisher: PeerId::from_public_key(&public).to_base58(),
            publisher_key: hex::encode(public.encode_protobuf()),
            created_unix_ms,
        };
        let signature = keypair
            .sign(&manifest.canonical_bytes())
            .map_err(|e| ManifestError::Signing(e.to_string()))?;
        Ok(SignedManifest {
            manifest,
            signature: hex::encode(signature),
        })
    }
}

/// Checks of a manifest that came from the network or the disk.
pub trait VerifyManifest {
    /// Checks every field rule and the signature. Anything that came from the network or
    /// the disk goes through this before it is used.
    fn verify(&self) -> Result<(), ManifestError>;

    /// Checks that `content` is exactly what the manifest describes.
    fn verify_content(&self, content: &[u8]) -> Result<(), ManifestError>;
}

impl VerifyManifest for SignedManifest {
    fn verify(&self) -> Result<(), ManifestError> {
        let m = &self.manifest;
        PackageSpec::new(&m.name, &m.version.to_string(), &m.description, &m.tags)?;
        let valid_hash = m.sha256.len() == 64
            && m.sha256
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if !valid_hash {
            return Err(ManifestError::InvalidChecksum(
                m.sha256.chars().take(80).collect(),
            ));
        }
        let size = usize::try_from(m.size).unwrap_or(usize::MAX);
        check_content_size(size)?;
        let key_bytes = hex::decode(&m.publisher_key)
            .map_err(|e| ManifestError::BadPublisherKey(e.to_string()))?;
        let key = PublicKey::try_decode_protobuf(&key_bytes)
            .map_err(|e| ManifestError::BadPublisherKey(e.to_string()))?;
        if PeerId::from_public_key(&key).to_base58() != m.publisher {
            return Err(ManifestError::PublisherMismatch(m.publisher.clone()));
        }
        let bad_signature = || ManifestError::BadSignature {
            name: m.name.clone(),
            version: m.version.clone(),
        };
        let signature = hex::decode(&self.signature).map_err(|_| bad_signature())?;
        if !key.verify(&m.canonical_bytes(), &signature) {
            return Err(bad_signature());
        }
        Ok(())
    }

    fn verify_content(&self, content: &[u8]) -> Result<(), ManifestError> {
        let actual_size = content.len() as u64;
        if actual_size != self.manifest.size {
            return Err(ManifestError::SizeMismatch {
                expected: self.manifest.size,
                actual: actual_size,
            });
        }
        let actual = sha256_hex(content);
        if actual != self.manifest.sha256 {
            return Err(ManifestError::ChecksumMismatch {
                expected: self.manifest.sha256.clone(),
                actual,
            });
        }
        Ok(())
    }
}

pub fn sha256_hex(content: &[u8]) -> String {
    hex::encode(Sha256::digest(content))
}

pub fn validate_name(name: &str) -> Result<(), ManifestError> {
    let bytes = name.as_bytes();
    let valid = !bytes.is_empty()
        && bytes.len() <= MAX_NAME_CHARS
        && matches!(bytes[0], b'a'..=b'z' | b'0'..=b'9')
        && bytes
            .iter()
            .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-'));
    if valid {
        Ok(())
    } else {
        Err(ManifestError::InvalidName(name.to_owned()))
    }
}

pub fn parse_version(version: &str) -> Result<Version, ManifestError> {
    let chars = version.chars().count();
    if chars > MAX_VERSION_CHARS {
        return Err(ManifestError::VersionTooLong(chars));
    }
    Version::parse(version).map_err(|source| ManifestError::InvalidVersion {
        version: version.to_owned(),
        source,
    })
}

fn validate_tag(tag: &str) -> Result<(), ManifestError> {
    let valid = !tag.is_empty()
        && tag.len() <= MAX_TAG_CHARS
        && tag
            .bytes()
            .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' | b'.'));
    if valid {
        Ok(())
    } else {
        Err(ManifestError::InvalidTag(tag.to_owned()))
    }
}

fn check_content_size(len: usize) -> Result<(), ManifestError> {
    match len {
        0 => Err(ManifestError::EmptyContent),
        n if n > MAX_CONTENT_BYTES => Err(ManifestError::ContentTooLarge(n)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str, version: &str) -> Result<PackageSpec, ManifestError> {
        PackageSpec::new(name, version, "a test package", &["test".to_owned()])
    }

    #[test]
    fn names_follow_the_design_rule() {
        for good in ["a", "0pkg", "my-pkg_2", &"a".repeat(64)] {
            assert!(validate_name(good).is_ok(), "{good} should be valid");
        }
        for bad in [
            "",
            "-pkg",
            "_pkg",
            "Pkg",
            "pkg!",
            "pkg name",
            "pkg/x",
            &"a".repeat(65),
        ] {
            assert!(
                matches!(validate_name(bad), Err(ManifestError::InvalidName(_))),
                "{bad:?} should be rejected"
            );
        }
    }

    #[test]
    fn versions_must_be_semver() {
        assert!(spec("pkg", "1.2.3-beta.1").is_ok());
        for bad in ["1", "1.2", "v1.2.3", "", "1.2.3.4"] {
            assert!(
                matches!(spec("pkg", bad), Err(ManifestError::InvalidVersion { .. })),
                "{bad:?} should be rejected"
            );
        }
        for long in ["1".repeat(306), format!("1.0.0+{}", "a".repeat(5000))] {
            assert!(matches!(
                spec("pkg", &long),
                Err(ManifestError::VersionTooLong(_))
            ));
        }
    }

    #[test]
    fn tags_and_description_are_bounded() {
        let long = "x".repeat(MAX_DESCRIPTION_CHARS + 1);
        assert!(matches!(
            PackageSpec::new("p", "1.0.0", &long, &[]),
            Err(ManifestError::DescriptionTooLong(_))
        ));
        let many: Vec<String> = (0..=MAX_TAGS).map(|i| format!("t{i}")).collect();
        assert!(matches!(
            PackageSpec::new("p", "1.0.0", "", &many),
            Err(ManifestError::TooManyTags(_))
        ));
        assert!(matches!(
            PackageSpec::new("p", "1.0.0", "", &["Has Space".to_owned()]),
            Err(ManifestError::InvalidTag(_))
        ));
    }

    #[test]
    fn signed_manifest_verifies_and_detects_tampering() {
        let key = Keypair::generate_ed25519();
        let signed = spec("pkg", "1.0.0")
            .unwrap()
            .sign(b"hello", &key, 1)
            .unwrap();
        signed.verify().unwrap();
        signed.verify_content(b"hello").unwrap();

        let mut tampered = signed.clone();
        tampered.manifest.description = "changed".into();
        assert!(matches!(
            tampered.verify(),
            Err(ManifestError::BadSignature { .. })
        ));

        let mut stolen = signed.clone();
        stolen.manifest.publisher = PeerId::random().to_base58();
        assert!(matches!(
            stolen.verify(),
            Err(ManifestError::PublisherMismatch(_))
        ));

        assert!(matches!(
            signed.verify_content(b"hellO"),
            Err(ManifestError::ChecksumMismatch { .. })
        ));
        assert!(matches!(
            signed.verify_content(b"hello!"),
            Err(ManifestError::SizeMismatch { .. })
        ));
    }

    #[test]
    fn manifest_round_trips_through_json() {
        let key = Keypair::generate_ed25519();
        let signed = spec("pkg", "1.0.0").unwrap().sign(b"x", &key, 7).unwrap();
        let json = serde_json::to_string(&signed).unwrap();
        let back: SignedManifest = serde_json::from_str(&json).unwrap();
        assert_eq!(back, signed);
        back.verify().unwrap();
    }

    #[test]
    fn empty_and_oversized_content_is_refused() {
        let key = Keypair::generate_ed25519();
        assert!(matches!(
            spec("p", "1.0.0").unwrap().sign(b"", &key, 0),
            Err(ManifestError::EmptyContent)
        ));
        let big = vec![0u8; MAX_CONTENT_BYTES + 1];
        assert!(matches!(
            spec("p", "1.0.0").unwrap().sign(&big, &key, 0),
            Err(ManifestError::ContentTooLarge(_))
        ));
    }
}
