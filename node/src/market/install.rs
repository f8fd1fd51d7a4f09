//! Installing: resolve the record, find providers, fetch, verify, store, provide.

use std::time::Instant;

use libp2p::PeerId;
use rand::seq::SliceRandom;
use semver::Version;

use super::search::LookupError;
use super::{keys, Marketplace};
use crate::blocking;
use crate::network::protocol::FetchRequest;
use crate::package::{StoreError, VerifyManifest};
use p2p_api::error::chain;
use p2p_api::InstallOutcome;

#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error(transparent)]
    Lookup(#[from] LookupError),
    #[error("no provider of {name} {version} could be found")]
    NoProviders { name: String, version: Version },
    #[error("every provider of {name} {version} failed: {}", rejected.join("; "))]
    AllProvidersFailed {
        name: String,
        version: Version,
        rejected: Vec<String>,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Marketplace {
    /// Installs `name` (at `version`, or its latest). Content from a provider is verified
    /// against the signed manifest before anything is stored; a provider that sends wrong
    /// bytes is rejected and the next one tried.
    pub async fn install(
        &self,
        name: &str,
        version: Option<&Version>,
    ) -> Result<InstallOutcome, InstallError> {
        let started = Instant::now();
        let package = self.lookup(name, version).await?.package;
        let m = &package.manifest;

        let (store, wanted_name, wanted_version) =
            (self.store.clone(), m.name.clone(), m.version.clone());
        let stored = blocking(move || store.manifest(&wanted_name, Some(&wanted_version))).await?;
        if stored.is_some_and(|s| s.manifest.sha256 == m.sha256) {
            return Ok(InstallOutcome {
                package,
                provider: None,
                rejected: Vec::new(),
                already_installed: true,
                duration_s: started.elapsed().as_secs_f64(),
            });
        }

        let mut candidates: Vec<PeerId> = self
            .network
            .get_providers(keys::content(&m.sha256), self.deadlines.dht)
            .await
            .map(|set| set.into_iter().collect())
            .unwrap_or_else(|e| {
                tracing::warn!(
                    error = chain(&e),
                    name,
                    "provider lookup failed; trying the publisher"
                );
                Vec::new()
            });
        candidates.shuffle(&mut rand::thread_rng());
        // The publisher is the provider of last resort.
        if let Ok(publisher) = m.publisher.parse::<PeerId>() {
            if publisher != self.peer_id() && !candidates.contains(&publisher) {
                candidates.push(publisher);
            }
        }
        if candidates.is_empty() {
            return Err(InstallError::NoProviders {
                name: m.name.clone(),
                version: m.version.clone(),
            });
        }

        let mut rejected = Vec::new();
        for peer in candidates {
            let request = FetchRequest {
                sha256: m.sha256.clone(),
            };
            let content = match self
                .network
                .fetch(peer, request, self.deadlines.request)
                .await
            {
                Ok(response) => match response.content {
                    Some(bytes) => bytes.into_vec(),
                    None => {
                        rejected.push(format!("{peer}: does not have the content"));
                        continue;
                    }
                },
                Err(e) => {
                    rejected.push(format!("{peer}: {}", chain(&e)));
                    continue;
                }
            };
            if let Err(e) = package.verify_content(&content) {
                tracing::warn!(%peer, error = %e, "provider sent bad content; rejected");
                rejected.push(format!("{peer}: {e}"));
                continue;
            }
            let (store, to_store) = (self.store.clone(), package.clone());
            blocking(move || store.put(&to_store, &content)).await?;
            self.remember(package.clone(), true, "install")
                .map_err(LookupError::from)?;
            self.provide_in_background(m.sha256.clone());
            let elapsed = started.elapsed();
            self.metrics.install.observe(elapsed.as_secs_f64());
            return Ok(InstallOutcome {
                package,
                provider: Some(peer.to_base58()),
                rejected,
                already_installed: false,
                duration_s: elapsed.as_secs_f64(),
            });
        }
        Err(InstallError::AllProvidersFailed {
            name: m.name.clone(),
            version: m.version.clone(),
            rejected,
        })
    }

    /// Announces this node as a provider without holding up the install.
    fn provide_in_background(&self, sha256: String) {
        let (network, deadline) = (self.network.clone(), self.deadlines.dht);
        tokio::spawn(async move {
            if let Err(e) = network
                .start_providing(keys::content(&sha256), deadline)
                .await
            {
                tracing::warn!(error = chain(&e), sha256, "could not announce as provider");
            }
        });
    }
}
