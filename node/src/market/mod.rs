//! The marketplace: what a node does with packages, on top of the store, the index and the
//! network client. The HTTP API and the benchmark phases call into it.

mod gossip;
mod inbound;
mod install;
pub mod keys;
mod phases;
mod publish;
mod search;

pub use gossip::GossipLog;
pub use install::InstallError;
pub use publish::PublishError;
pub use search::LookupError;

use std::sync::{Arc, RwLock};
use std::time::Duration;

use libp2p::identity::Keypair;
use libp2p::PeerId;

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

/// One node's marketplace. Shared behind an `Arc` by the API handlers and the inbound task.
#[derive(Debug)]
pub struct Marketplace {
    keypair: Keypair,
    network: Client,
    store: PackageStore,
    index: RwLock<SearchIndex>,
    metrics: Metrics,
    gossip_log: GossipLog,
    deadlines: Deadlines,
}

impl Marketplace {
    /// Builds the marketplace over a store whose packages are already verified and loaded.
    pub fn new(
        keypair: Keypair,
        network: Client,
        store: PackageStore,
        stored: Vec<SignedManifest>,
        metrics: Metrics,
        deadlines: Deadlines,
    ) -> Arc<Self> {
        let mut index = SearchIndex::new();
        for package in stored {
            index.insert(package, true);
        }
        metrics.packages_stored.set(index.local_count() as i64);
        Arc::new(Self {
            keypair,
            network,
            store,
            index: RwLock::new(index),
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
        })
    }

    /// Every package whose content this node stores.
    pub fn local_packages(&self) -> Vec<SignedManifest> {
        self.index
            .read()
            .expect("index lock poisoned")
            .local_packages()
    }

    /// Adds a verified package to the index; `local` when its content is stored here.
    fn remember(&self, package: SignedManifest, local: bool) {
        let mut index = self.index.write().expect("index lock poisoned");
        if index.insert(package, local) && local {
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
