//! Publishing: sign, store, put the DHT records, announce on gossip, provide the content.

use std::time::Instant;

use super::{keys, unix_nanos, unix_now, Marketplace};
use p2p_api::{PublishOutcome, SignedManifest};

use super::owners::NameTaken;
use crate::blocking;
use crate::network::protocol::GossipMessage;
use crate::network::NetworkError;
use crate::package::{sha256_hex, ManifestError, PackageSpec, StoreError};
use p2p_api::error::chain;

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error(transparent)]
    Invalid(#[from] ManifestError),
    #[error("{name} {version} is already published here with other content")]
    Conflict {
        name: String,
        version: semver::Version,
    },
    #[error(transparent)]
    NameTaken(#[from] NameTaken),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Marketplace {
    /// Publishes `content` as the package `spec`. The package is stored locally before
    /// anything goes to the network; network failures are reported as warnings, since the
    /// package is published and retrievable from this node regardless.
    ///
    /// A name another key owns is refused (docs/SECURITY.md). Publishing the same name,
    /// version and content again re-announces it, and writes the content back if it went
    /// missing; other content under a published name and version is a conflict. Publishes
    /// are serialised from their check of the store to their write, so two at once cannot
    /// both take the same name and version.
    pub async fn publish(
        &self,
        spec: PackageSpec,
        content: Vec<u8>,
    ) -> Result<PublishOutcome, PublishError> {
        let started = Instant::now();
        let me = self.peer_id();
        if let Err(taken) = self.owners.check(spec.name(), me) {
            self.metrics.rejected("publish", "conflict");
            return Err(taken.into());
        }
        let package = {
            let _one_at_a_time = self.publishing.lock().await;
            let store = self.store.clone();
            let (name, version) = (spec.name().to_owned(), spec.version().clone());
            let existing = {
                let version = version.clone();
                blocking(move || store.manifest(&name, Some(&version))).await?
            };
            let package = match existing {
                Some(p) if p.manifest.sha256 == sha256_hex(&content) => p,
                Some(p) => {
                    return Err(PublishError::Conflict {
                        name: p.manifest.name,
                        version,
                    })
                }
                None => {
                    let created = unix_now().as_millis() as u64;
                    spec.sign(&content, &self.keypair, created)?
                }
            };
            // Also for a package published before: its content may have gone missing.
            let (store, to_store) = (self.store.clone(), package.clone());
            blocking(move || store.put(&to_store, &content)).await?;
            package
        };
        self.remember(package.clone(), true, "publish")?;

        let m = &package.manifest;
        let record = serde_json::to_vec(&package).expect("a manifest serializes to JSON");
        let dht = self.deadlines.dht;
        // The provider record is announced in the background, as an install does: until it
        // lands, installers find this node as the publisher the manifest names.
        self.provide_in_background(m.sha256.clone());
        let (latest, versioned, announced) = tokio::join!(
            self.network
                .put_record(keys::latest_record(&m.name), record.clone(), dht),
            self.network
                .put_record(keys::version_record(&m.name, &m.version), record, dht),
            self.announce(&package),
        );
        let mut warnings = Vec::new();
        let mut note = |what: &str, result: &Result<(), NetworkError>| match result {
            Ok(()) => true,
            Err(e) => {
                warnings.push(format!("{what}: {}", chain(e)));
                false
            }
        };
        let dht_record_stored =
            note("dht record", &latest) & note("dht version record", &versioned);
        let announced = note("gossip announcement", &announced);
        let elapsed = started.elapsed();
        self.metrics.publish.observe(elapsed.as_secs_f64());
        Ok(PublishOutcome {
            package,
            dht_record_stored,
            providing: true,
            announced,
            warnings,
            duration_s: elapsed.as_secs_f64(),
        })
    }

    async fn announce(&self, package: &SignedManifest) -> Result<(), NetworkError> {
        let message = GossipMessage::Announce {
            package: package.clone(),
            sent_unix_nanos: unix_nanos(),
        };
        let data = serde_json::to_vec(&message).expect("a gossip message serializes to JSON");
        self.network.gossip(data, self.deadlines.request).await
    }
}
