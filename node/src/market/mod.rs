//! The marketplace: what a node does with packages, on top of the store, the index and the
//! network client. The HTTP API and the benchmark phases call into it.

mod gossip;
mod inbound;
mod install;
pub mod keys;
mod owners;
mod phases;
mod publish;
mod record_rules;
mod search;

pub use gossip::{GossipLog, GOSSIP_LOG_CAPACITY};
pub use install::InstallError;
pub use owners::{NameTaken, Owners, MAX_REMOTE_NAMES};
pub use publish::PublishError;
pub use record_rules::RecordRules;
pub use search::LookupError;

use std::sync::{Arc, RwLock};
use std::time::Duration;

use libp2p::identity::Keypair;
use libp2p::PeerId;
use tokio::sync::{Mutex, Semaphore};

use p2p_api::{NodeStatus, SignedManifest};

use crate::metrics::Metrics;
use crate::network::{Client, NetworkError};
use crate::package::{PackageStore, SearchIndex};

/// Deadlines of network operations.
///
/// Defaults: DHT queries 30 s, requests to one peer 10 s, a network search 2 s in all.
#[derive(Debug, Clone, Copy)]
pub struct Deadlines {
    pub dht: Duration,
    pub request: Duration,
    pub network_search: Duration,
}

impl Default for Deadlines {
    fn default() -> Self {
        Self {
            dht: Duration::from_secs(30),
            request: Duration::from_secs(10),
            network_search: Duration::from_secs(2),
        }
    }
}

/// Content reads for peers at once: each may hold a package of up to 8 MiB in memory.
const MAX_CONCURRENT_FETCHES: usize = 4;

/// One node's marketplace. Shared behind an `Arc` by the API handlers and the inbound task.
#[derive(Debug)]
pub struct Marketplace {
    keypair: Keypair,
    network: Client,
    store: PackageStore,
    index: RwLock<SearchIndex>,
    /// Who owns each package name (docs/SECURITY.md); shared with the network's
    /// [`RecordRules`].
    owners: Arc<Owners>,
    /// Publishes go one at a time from their check of the store to their write of it.
    publishing: Mutex<()>,
    /// Bounds the content held in memory for peers' fetches.
    fetches: Semaphore,
    metrics: Metrics,
    gossip_log: GossipLog,
    deadlines: Deadlines,
}

impl Marketplace {
    /// Builds the marketplace over a store whose packages are already verified and loaded;
    /// they pin the names they carry in `owners`.
    pub fn new(
        keypair: Keypair,
        network: Client,
        store: PackageStore,
        stored: Vec<SignedManifest>,
        owners: Arc<Owners>,
        metrics: Metrics,
        deadlines: Deadlines,
    ) -> Arc<Self> {
        let mut index = SearchIndex::new();
        for package in stored {
            let m = &package.manifest;
            let claimed = m
                .publisher
                .parse::<PeerId>()
                .map_err(|e| e.to_string())
                .and_then(|p| owners.claim(&m.name, p, true).map_err(|e| e.to_string()));
            match claimed {
                Ok(()) => {
                    index.insert(package, true);
                }
                Err(e) => tracing::warn!(name = %m.name, version = %m.version, error = %e,
                    "a stored package conflicts with another of the same name; left out"),
            }
        }
        metrics.packages_stored.set(index.local_count() as i64);
        Arc::new(Self {
            keypair,
            network,
            store,
            index: RwLock::new(index),
            owners,
            publishing: Mutex::new(()),
            fetches: Semaphore::new(MAX_CONCURRENT_FETCHES),
            metrics,
            gossip_log: GossipLog::default(),
            deadlines,
        })
    }

    pub fn peer_id(&self) -> PeerId {
        self.keypair.public().to_peer_id()
    }

    pub fn network(&self) -> &Client {
        &self.network
    }

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    pub fn deadlines(&self) -> Deadlines {
        self.deadlines
    }

    pub fn gossip_log(&self) -> &GossipLog {
        &self.gossip_log
    }

    pub async fn status(&self) -> Result<NodeStatus, NetworkError> {
        let network = self.network.status().await?;
        let index = self.index.read().expect("index lock poisoned");
        Ok(NodeStatus {
            network,
            packages_stored: index.local_count(),
            packages_known: index.len(),
            gossip_receipts: self.gossip_log.len(),
        })
    }

    /// Every package whose content this node stores.
    pub fn local_packages(&self) -> Vec<SignedManifest> {
        self.index
            .read()
            .expect("index lock poisoned")
            .local_packages()
    }

    /// Who owns which package name, as this node knows it.
    pub fn owners(&self) -> &Owners {
        &self.owners
    }

    /// Adds a verified package to the index, `local` when its content is stored here, if its
    /// publisher owns its name; a manifest of a name another key owns is refused and counted
    /// as a conflict of `source`.
    fn remember(
        &self,
        package: SignedManifest,
        local: bool,
        source: &'static str,
    ) -> Result<(), NameTaken> {
        let m = &package.manifest;
        let publisher = match m.publisher.parse::<PeerId>() {
            Ok(p) => p,
            // Verified manifests carry a valid publisher; refuse rather than trust one that
            // does not.
            Err(_) => {
                self.metrics.rejected(source, "invalid");
                return Ok(());
            }
        };
        if let Err(taken) = self.owners.claim(&m.name, publisher, local) {
            self.metrics.rejected(source, "conflict");
            tracing::debug!(error = %taken, source, "refused a manifest of a name another key owns");
            return Err(taken);
        }
        let mut index = self.index.write().expect("index lock poisoned");
        if index.insert(package, local) && local {
            self.metrics.packages_stored.set(index.local_count() as i64);
        }
        Ok(())
    }

    /// Content that went bad on disk is no longer stored here.
    fn content_lost(&self, sha256: &str) {
        let mut index = self.index.write().expect("index lock poisoned");
        if index.forget_content(sha256) > 0 {
            self.metrics.packages_stored.set(index.local_count() as i64);
        }
    }
}

/// Unix time now, in the given unit.
pub(crate) fn unix_now() -> Duration {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
}

/// Unix time now in nanoseconds, as gossip messages carry it (u64 lasts until 2554).
pub(crate) fn unix_nanos() -> u64 {
    u64::try_from(unix_now().as_nanos()).unwrap_or(u64::MAX)
}
