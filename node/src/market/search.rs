//! DHT lookups of package records, and local and network search.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures::future::join_all;
use rand::seq::SliceRandom;
use semver::Version;

use p2p_api::limits::MAX_SEARCH_LIMIT;
use p2p_api::{LookupOutcome, Scope, SearchHit, SearchOutcome, SignedManifest};

use super::owners::NameTaken;
use super::{keys, Marketplace};
use crate::network::protocol::SearchRequest;
use crate::network::NetworkError;
use crate::package::{validate_name, ManifestError, VerifyManifest};

/// Peers a network search asks. Every peer answers from the whole index it has learned
/// from gossip, so a few answers cover the network as well as many do; each one more costs
/// the asker a response to decode and verify and the slowest of them sets the latency.
const SEARCH_FANOUT: usize = 8;

#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    #[error(transparent)]
    InvalidName(ManifestError),
    #[error("package {0} not found in the DHT")]
    NotFound(String),
    #[error("DHT record for {name} is invalid: {detail}")]
    InvalidRecord { name: String, detail: String },
    #[error(transparent)]
    NameTaken(#[from] NameTaken),
    #[error(transparent)]
    Network(NetworkError),
}

impl Marketplace {
    /// Resolves the record of `name` (at `version`, or its latest) in the DHT: the first record
    /// that verifies, names this package and comes from the key that owns the name (the
    /// network skips the others), verified again here.
    pub async fn lookup(
        &self,
        name: &str,
        version: Option<&Version>,
    ) -> Result<LookupOutcome, LookupError> {
        validate_name(name).map_err(LookupError::InvalidName)?;
        let key = match version {
            Some(v) => keys::version_record(name, v),
            None => keys::latest_record(name),
        };
        let started = Instant::now();
        let found = self
            .network
            .get_record(key, self.deadlines.dht)
            .await
            .map_err(|e| match e {
                NetworkError::RecordNotFound => LookupError::NotFound(name.to_owned()),
                e => LookupError::Network(e),
            })?;
        let elapsed = started.elapsed();
        let invalid = |detail: String| LookupError::InvalidRecord {
            name: name.to_owned(),
            detail,
        };
        let package: SignedManifest =
            serde_json::from_slice(&found.value).map_err(|e| invalid(e.to_string()))?;
        package.verify().map_err(|e| invalid(e.to_string()))?;
        let m = &package.manifest;
        if m.name != name || version.is_some_and(|v| *v != m.version) {
            return Err(invalid(format!("record is for {} {}", m.name, m.version)));
        }
        self.metrics.dht_lookup.observe(elapsed.as_secs_f64());
        self.remember(package.clone(), false, "dht")?;
        Ok(LookupOutcome {
            package,
            kad_requests: found.kad_requests,
            duration_s: elapsed.as_secs_f64(),
        })
    }

    /// Answers from the local index only.
    pub fn search_local(&self, query: &str, limit: usize) -> SearchOutcome {
        let started = Instant::now();
        let hits = self.index_search(query, limit);
        let elapsed = started.elapsed();
        self.metrics.observe_search(Scope::Local, elapsed);
        SearchOutcome {
            scope: Scope::Local,
            hits,
            peers_asked: 0,
            peers_answered: 0,
            duration_s: elapsed.as_secs_f64(),
        }
    }

    /// Asks up to 8 connected peers over `/market/search/1` and merges their verified
    /// answers with the local ones, deduplicated by name and version. Peers that have not
    /// answered by `deadline` are left out.
    pub async fn search_network(
        &self,
        query: &str,
        limit: usize,
        deadline: Duration,
    ) -> Result<SearchOutcome, NetworkError> {
        let started = Instant::now();
        let limit = limit.min(MAX_SEARCH_LIMIT);
        // The local part of a network search is not a local search of its own: not metered.
        let local = self.index_search(query, limit);
        let mut peers = self.network.connected_peers().await?;
        peers.shuffle(&mut rand::thread_rng());
        peers.truncate(SEARCH_FANOUT);
        let request = SearchRequest {
            query: query.to_owned(),
            limit: limit as u32,
        };
        let answers = join_all(
            peers
                .iter()
                .map(|peer| self.network.search(*peer, request.clone(), deadline)),
        )
        .await;

        let mut merged: HashMap<(String, Version), SearchHit> =
            local.into_iter().map(|hit| (key_of(&hit), hit)).collect();
        let mut answered = 0;
        for response in answers.into_iter().flatten() {
            answered += 1;
            for mut hit in response.hits {
                // A manifest already in the index was verified when it went in.
                if !self.index_holds(&hit.package) {
                    if hit.package.verify().is_err() {
                        self.metrics.rejected("search", "invalid");
                        continue;
                    }
                    if self.remember(hit.package.clone(), false, "search").is_err() {
                        continue;
                    }
                }
                hit.local = false;
                merged
                    .entry(key_of(&hit))
                    .and_modify(|known| known.score = known.score.max(hit.score))
                    .or_insert(hit);
            }
        }
        let mut hits: Vec<SearchHit> = merged.into_values().collect();
        hits.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.package.manifest.name.cmp(&b.package.manifest.name))
                .then_with(|| b.package.manifest.version.cmp(&a.package.manifest.version))
        });
        hits.truncate(limit);
        let elapsed = started.elapsed();
        self.metrics.observe_search(Scope::Network, elapsed);
        Ok(SearchOutcome {
            scope: Scope::Network,
            hits,
            peers_asked: peers.len(),
            peers_answered: answered,
            duration_s: elapsed.as_secs_f64(),
        })
    }

    fn index_holds(&self, package: &SignedManifest) -> bool {
        self.index
            .read()
            .expect("index lock poisoned")
            .holds(package)
    }

    fn index_search(&self, query: &str, limit: usize) -> Vec<SearchHit> {
        self.index
            .read()
            .expect("index lock poisoned")
            .search(query, limit.min(MAX_SEARCH_LIMIT))
    }

    /// A package this node knows of (stored or not), at `version` or its highest known one.
    pub fn known(&self, name: &str, version: Option<&Version>) -> Option<SearchHit> {
        self.index
            .read()
            .expect("index lock poisoned")
            .get(name, version)
    }
}

fn key_of(hit: &SearchHit) -> (String, Version) {
    (
        hit.package.manifest.name.clone(),
        hit.package.manifest.version.clone(),
    )
}
