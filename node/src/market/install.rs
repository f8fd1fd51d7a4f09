//! Installing: resolve the record, find providers, fetch, verify, store, provide.

use std::collections::{HashSet, VecDeque};
use std::time::{Duration, Instant};

use futures::stream::FuturesUnordered;
use futures::StreamExt;
use libp2p::PeerId;
use rand::seq::SliceRandom;
use semver::Version;

use super::search::LookupError;
use super::{keys, Marketplace};
use crate::blocking;
use crate::network::protocol::{FetchRequest, FetchResponse};
use crate::package::{StoreError, VerifyManifest};
use p2p_api::error::chain;
use p2p_api::InstallOutcome;

/// How long an install waits for a provider before it asks the next one as well. A provider
/// that was stopped does not refuse the connection, it never answers: without this an
/// install would wait the whole request deadline on each one.
const ASK_NEXT_AFTER: Duration = Duration::from_millis(500);

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
    /// Installs `name` (at `version`, or its latest). The publisher is asked for the content
    /// at once, while a provider lookup finds the others; a provider that fails, or has not
    /// answered within half a second, makes the install ask the next one too, and the first
    /// good answer wins. Content is verified against the signed manifest before anything is
    /// stored; a provider that sends wrong bytes is rejected.
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

        let me = self.peer_id();
        // The publisher is named by the manifest and needs no lookup: it is asked at once,
        // while the provider lookup looks for the others.
        let mut queue: VecDeque<PeerId> = m
            .publisher
            .parse::<PeerId>()
            .ok()
            .filter(|p| *p != me)
            .into_iter()
            .collect();
        let mut asked: HashSet<PeerId> = HashSet::new();
        let providers = self
            .network
            .get_providers(keys::content(&m.sha256), self.deadlines.dht);
        tokio::pin!(providers);
        let mut providers_done = false;
        let mut in_flight = FuturesUnordered::new();
        let ask_next = tokio::time::sleep(ASK_NEXT_AFTER);
        tokio::pin!(ask_next);
        let mut rejected = Vec::new();
        let fetch = |peer: PeerId| {
            let (network, deadline) = (self.network.clone(), self.deadlines.request);
            let request = FetchRequest {
                sha256: m.sha256.clone(),
            };
            async move { (peer, network.fetch(peer, request, deadline).await) }
        };
        loop {
            if in_flight.is_empty() {
                match queue.pop_front() {
                    Some(peer) => {
                        asked.insert(peer);
                        in_flight.push(fetch(peer));
                        ask_next
                            .as_mut()
                            .reset(tokio::time::Instant::now() + ASK_NEXT_AFTER);
                    }
                    None if providers_done => break,
                    None => {}
                }
            }
            tokio::select! {
                found = &mut providers, if !providers_done => {
                    providers_done = true;
                    match found {
                        Ok(found) => {
                            let mut fresh: Vec<PeerId> = found
                                .into_iter()
                                .filter(|p| *p != me && !asked.contains(p) && !queue.contains(p))
                                .collect();
                            fresh.shuffle(&mut rand::thread_rng());
                            queue.extend(fresh);
                        }
                        Err(e) => tracing::debug!(error = chain(&e), name, "provider lookup failed"),
                    }
                }
                Some((peer, answer)) = in_flight.next() => {
                    let content = match answer {
                        Ok(FetchResponse { content: Some(bytes) }) => bytes.into_vec(),
                        Ok(FetchResponse { content: None }) => {
                            rejected.push(format!("{peer}: does not have the content"));
                            continue;
                        }
                        Err(e) => {
                            rejected.push(format!("{peer}: {}", chain(&e)));
                            continue;
                        }
                    };
                    if let Err(e) = package.verify_content(&content) {
                        tracing::warn!(%peer, error = %e, "provider sent bad content; rejected");
                        self.metrics.rejected("fetch", "invalid");
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
                // A provider that has not answered in a while may be gone: ask the next one
                // as well, and take whichever answers first.
                () = &mut ask_next, if !queue.is_empty() => {
                    if let Some(peer) = queue.pop_front() {
                        asked.insert(peer);
                        in_flight.push(fetch(peer));
                    }
                    ask_next.as_mut().reset(tokio::time::Instant::now() + ASK_NEXT_AFTER);
                }
                else => break,
            }
        }
        if asked.is_empty() {
            return Err(InstallError::NoProviders {
                name: m.name.clone(),
                version: m.version.clone(),
            });
        }
        Err(InstallError::AllProvidersFailed {
            name: m.name.clone(),
            version: m.version.clone(),
            rejected,
        })
    }

    /// Announces this node as a provider of `sha256` without holding up the caller; the
    /// announcement's lookup of the closest peers takes several round trips.
    pub(super) fn provide_in_background(&self, sha256: String) {
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
