//! A whole node: identity, store, metrics, network, marketplace and HTTP API, started
//! together and stopped together.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use libp2p::Multiaddr;
use prometheus_client::registry::Registry;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::api::{self, AppState};
use crate::identity::{self, IdentityError};
use crate::market::{Deadlines, Marketplace, Owners, RecordRules};
use crate::metrics::{Metrics, MetricsRegistry};
use crate::network::{self, NetworkConfig, NetworkError};
use crate::package::{PackageStore, StoreError};

/// How long start-up waits for the swarm to report its listen addresses.
const LISTEN_DEADLINE: Duration = Duration::from_secs(10);
/// How long shutdown waits for in-flight work before it stops waiting.
const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(5);
/// How long an API client may take to send a request's headers, unless configured.
pub const HEADER_READ_TIMEOUT: Duration =
    Duration::from_secs(p2p_api::limits::HEADER_READ_TIMEOUT_SECS);
/// Attempts at the initial bootstrap, with a doubling pause between them.
const BOOTSTRAP_ATTEMPTS: u32 = 5;

/// Everything a node needs to start.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    pub data_dir: PathBuf,
    pub api_addr: SocketAddr,
    /// When set, API requests that change the node or use the network must carry it as a
    /// bearer token.
    pub api_token: Option<String>,
    /// How long an API client may take to send a request's headers.
    pub api_header_timeout: Duration,
    pub network: NetworkConfig,
    /// Peers to bootstrap from at start-up (multiaddrs ending in `/p2p/<peer id>`).
    pub bootstrap: Vec<Multiaddr>,
    pub deadlines: Deadlines,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("creating data directory {path}")]
    DataDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Identity(#[from] IdentityError),
    #[error("opening the package store")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Network(#[from] NetworkError),
    #[error("binding the API to {addr}")]
    BindApi {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("the swarm reported no listen address within {0:?}")]
    NoListenAddress(Duration),
}

/// A started node. Dropping it without [`RunningNode::shutdown`] leaves its tasks running
/// until the runtime ends.
#[derive(Debug)]
pub struct RunningNode {
    market: Arc<Marketplace>,
    api_addr: SocketAddr,
    listen_addrs: Vec<Multiaddr>,
    state: AppState,
    stop: watch::Sender<bool>,
    server: JoinHandle<std::io::Result<()>>,
    inbound: JoinHandle<()>,
    event_loop: JoinHandle<()>,
}

impl RunningNode {
    pub async fn start(config: NodeConfig) -> Result<Self, StartError> {
        std::fs::create_dir_all(&config.data_dir).map_err(|source| StartError::DataDir {
            path: config.data_dir.clone(),
            source,
        })?;
        let keypair = identity::load_or_create(&config.data_dir)?;
        let store = PackageStore::open(&config.data_dir)?;
        let stored = {
            let store = store.clone();
            crate::blocking(move || store.load_all()).await?
        };
        tracing::info!(
            peer_id = %keypair.public().to_peer_id(),
            packages = stored.len(),
            data_dir = %config.data_dir.display(),
            "starting node"
        );

        let mut registry = Registry::default();
        let metrics = Metrics::register(&mut registry);
        let owners = Arc::new(Owners::default());
        let (client, mut events, event_loop) = network::new(
            keypair.clone(),
            &config.network,
            &mut registry,
            metrics.clone(),
            Arc::new(RecordRules::new(Arc::clone(&owners))),
        )?;
        let (stop, stopped) = watch::channel(false);
        let event_loop = tokio::spawn(event_loop.run(stopped.clone()));

        let market = Marketplace::new(
            keypair,
            client,
            store,
            stored,
            owners,
            metrics,
            config.deadlines,
        );
        let inbound = {
            let market = Arc::clone(&market);
            tokio::spawn(async move {
                while let Some(event) = events.recv().await {
                    market.handle_event(event).await;
                }
            })
        };

        let listener = tokio::net::TcpListener::bind(config.api_addr)
            .await
            .map_err(|source| StartError::BindApi {
                addr: config.api_addr,
                source,
            })?;
        let api_addr = listener
            .local_addr()
            .map_err(|source| StartError::BindApi {
                addr: config.api_addr,
                source,
            })?;
        let state = AppState {
            market: Arc::clone(&market),
            registry: MetricsRegistry::new(registry),
            token: config.api_token.map(Arc::from),
        };
        let mut stopped = stopped;
        let router = api::router(state.clone());
        let header_timeout = config.api_header_timeout;
        let server = tokio::spawn(async move {
            let stop = async move {
                let _ = stopped.wait_for(|s| *s).await;
            };
            api::serve(listener, router, header_timeout, stop).await
        });

        let listen_addrs = wait_for_listen_addrs(&market).await?;
        tracing::info!(%api_addr, ?listen_addrs, "node ready");
        if !config.bootstrap.is_empty() {
            tokio::spawn(bootstrap_with_retries(
                Arc::clone(&market),
                config.bootstrap,
            ));
        }
        Ok(Self {
            market,
            api_addr,
            listen_addrs,
            state,
            stop,
            server,
            inbound,
            event_loop,
        })
    }

    pub fn market(&self) -> &Arc<Marketplace> {
        &self.market
    }

    pub fn api_addr(&self) -> SocketAddr {
        self.api_addr
    }

    pub fn api_url(&self) -> String {
        format!("http://{}", self.api_addr)
    }

    /// The API as a `Router`, to call without a socket (`tower::ServiceExt::oneshot`).
    pub fn api_router(&self) -> axum::Router {
        api::router(self.state.clone())
    }

    /// Listen addresses with the `/p2p/<peer id>` suffix, ready to give to other peers.
    pub fn listen_addrs(&self) -> &[Multiaddr] {
        &self.listen_addrs
    }

    /// Runs until `signal` resolves or the API server fails, then shuts down.
    pub async fn run_until(mut self, signal: impl Future<Output = ()>) -> std::io::Result<()> {
        let outcome = tokio::select! {
            () = signal => Ok(()),
            served = &mut self.server => served.unwrap_or_else(|e| Err(std::io::Error::other(e))),
        };
        self.shutdown().await;
        outcome
    }

    /// Stops the API (letting in-flight requests finish for up to 5 s), then the network.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        if tokio::time::timeout(SHUTDOWN_DEADLINE, self.server)
            .await
            .is_err()
        {
            tracing::warn!("API requests still running at shutdown; abandoned");
        }
        self.inbound.abort();
        let _ = self.inbound.await;
        // The event loop ends once every network client is gone; the marketplace holds one.
        drop(self.state);
        drop(self.market);
        let abort = self.event_loop.abort_handle();
        if tokio::time::timeout(SHUTDOWN_DEADLINE, self.event_loop)
            .await
            .is_err()
        {
            abort.abort();
        }
        tracing::info!("node stopped");
    }
}

async fn wait_for_listen_addrs(market: &Marketplace) -> Result<Vec<Multiaddr>, StartError> {
    let peer = market.peer_id();
    let poll = async {
        loop {
            let status = market.network().status().await?;
            let addrs: Vec<Multiaddr> = status
                .listen_addrs
                .iter()
                .filter_map(|a| a.parse::<Multiaddr>().ok())
                .map(|a| {
                    a.with_p2p(peer)
                        .expect("our own addresses carry no other peer id")
                })
                .collect();
            if !addrs.is_empty() {
                return Ok::<_, StartError>(addrs);
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    tokio::time::timeout(LISTEN_DEADLINE, poll)
        .await
        .unwrap_or(Err(StartError::NoListenAddress(LISTEN_DEADLINE)))
}

/// The start-up bootstrap: peers given on the command line may not be up yet.
async fn bootstrap_with_retries(market: Arc<Marketplace>, peers: Vec<Multiaddr>) {
    let mut pause = Duration::from_millis(500);
    for attempt in 1..=BOOTSTRAP_ATTEMPTS {
        match market
            .network()
            .bootstrap(peers.clone(), Duration::from_secs(60))
            .await
        {
            Ok(outcome) => {
                tracing::info!(
                    duration_s = outcome.duration_s,
                    routing_table = outcome.routing_table_size,
                    "bootstrap finished"
                );
                return;
            }
            Err(e) => tracing::warn!(
                attempt,
                error = p2p_api::error::chain(&e),
                "bootstrap failed"
            ),
        }
        tokio::time::sleep(pause).await;
        pause *= 2;
    }
    tracing::error!("bootstrap gave up after {BOOTSTRAP_ATTEMPTS} attempts");
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = ctrl_c => tracing::info!("Ctrl-C received, shutting down"),
        () = terminate => tracing::info!("SIGTERM received, shutting down"),
    }
}
