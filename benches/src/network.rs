//! In-process networks of real marketplace nodes.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use libp2p::Multiaddr;
use p2p_api::LookupOutcome;
use p2p_node::daemon::{NodeConfig, RunningNode};
use p2p_node::market::{Deadlines, LookupError};
use p2p_node::network::{NetworkConfig, TransportKind};
use p2p_node::package::PackageSpec;
use rand::seq::SliceRandom;
use rand::Rng;
use tempfile::TempDir;

/// Bootstraps in flight at once while a network forms.
const JOINS: usize = 8;
/// Every wait on the network is bounded by this.
const WAIT: Duration = Duration::from_secs(300);
const WORDS: &[&str] = &[
    "json", "http", "async", "crypto", "image", "codec", "logger", "cli", "database", "cache",
    "queue", "graph", "math", "stats", "plot", "net", "stream", "parser", "client", "server",
];

/// The wire a bench network talks over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    /// TCP + Noise + Yamux on loopback.
    Tcp,
    /// QUIC on loopback.
    Quic,
    /// libp2p's in-process memory transport + Noise + Yamux: for networks of hundreds of
    /// nodes, which sockets would run out of file descriptors for.
    Memory,
}

impl Wire {
    fn kind(self) -> TransportKind {
        match self {
            Self::Tcp | Self::Quic => TransportKind::Ip,
            Self::Memory => TransportKind::Memory,
        }
    }

    fn listen(self) -> &'static str {
        match self {
            Self::Tcp => "/ip4/127.0.0.1/tcp/0",
            Self::Quic => "/ip4/127.0.0.1/udp/0/quic-v1",
            Self::Memory => "/memory/0",
        }
    }
}

/// One DHT lookup of a published package and how long it took.
pub struct TimedLookup {
    pub name: String,
    pub seeker: usize,
    pub elapsed: Duration,
    pub outcome: Result<LookupOutcome, LookupError>,
}

/// A node of the network and its data directory.
pub struct BenchNode {
    pub node: RunningNode,
    _dir: TempDir,
}

pub struct BenchNetwork {
    pub nodes: Vec<BenchNode>,
    /// Published package names and the index of their publisher.
    pub packages: Vec<(String, usize)>,
    transport: Wire,
}

/// Settings for a bench node. The node's connection manager keeps it at 32–64 connected peers
/// (the node's defaults); the hard cap stays at 256, well above that, because one Kademlia
/// bootstrap reaches 130–300 peers within seconds, all inside the manager's grace period, and
/// a cap of 128 had the joining node deny its own dials half-way through its bootstrap.
pub fn node_config(dir: &std::path::Path, transport: Wire, network_size: usize) -> NodeConfig {
    let listen = transport.listen();
    NodeConfig {
        data_dir: dir.to_owned(),
        api_addr: "127.0.0.1:0".parse().expect("valid address"),
        api_token: None,
        api_header_timeout: p2p_node::daemon::HEADER_READ_TIMEOUT,
        network: NetworkConfig {
            transport: transport.kind(),
            listen: vec![listen.parse().expect("valid multiaddr")],
            max_connections: 256,
            idle_timeout: idle_timeout(network_size),
            // One process on two cores stands in for a network of machines: the 5-minute
            // routing-table refresh of every node would fire for all of them within seconds
            // of each other (they start together) and, at a few hundred nodes, stall the
            // network for minutes. Lookups run on the tables the bootstraps built.
            periodic_bootstrap: None,
            ..NetworkConfig::default()
        },
        bootstrap: Vec::new(),
        deadlines: Deadlines::default(),
    }
}

fn idle_timeout(network_size: usize) -> Duration {
    if network_size > 100 {
        Duration::from_secs(10)
    } else {
        Duration::from_secs(60)
    }
}

/// Starts one node, not connected to anything.
pub async fn start_node(transport: Wire, network_size: usize) -> anyhow::Result<BenchNode> {
    let dir = crate::scratch::node_dir()?;
    let node = RunningNode::start(node_config(dir.path(), transport, network_size)).await?;
    Ok(BenchNode { node, _dir: dir })
}

impl BenchNetwork {
    /// Starts `n` nodes and bootstraps each from up to three random nodes that joined before
    /// it; returns once every node has a few routing table entries and a gossip mesh peer.
    pub async fn start(n: usize, transport: Wire) -> anyhow::Result<Self> {
        let mut network = Self {
            nodes: Vec::with_capacity(n),
            packages: Vec::new(),
            transport,
        };
        network.grow(n).await?;
        Ok(network)
    }

    /// Adds nodes until there are `n`, each joining exactly as in [`start`](Self::start).
    /// Where [`grows_like_start`](Self::grows_like_start) holds, the result is the network
    /// `start(n)` would form, without forming its first nodes again.
    pub async fn grow(&mut self, n: usize) -> anyhow::Result<()> {
        let first = self.nodes.len();
        for _ in first..n {
            self.nodes.push(start_node(self.transport, n).await?);
        }
        let mut rng = rand::thread_rng();
        let plans: Vec<(usize, Vec<Multiaddr>)> = (first.max(1)..n)
            .map(|i| {
                let mut earlier: Vec<usize> = (0..i).collect();
                earlier.shuffle(&mut rng);
                let seeds = earlier
                    .iter()
                    .take(3)
                    .flat_map(|&j| self.nodes[j].node.listen_addrs().to_vec())
                    .collect();
                (i, seeds)
            })
            .collect();
        let nodes_ref = &self.nodes;
        let done = AtomicUsize::new(first.max(1));
        let (done_ref, started) = (&done, Instant::now());
        let joined: Vec<anyhow::Result<()>> = futures::stream::iter(plans)
            .map(|(i, seeds)| async move {
                let t = Instant::now();
                let outcome = nodes_ref[i]
                    .node
                    .market()
                    .network()
                    .bootstrap(seeds, WAIT)
                    .await;
                if t.elapsed() > Duration::from_secs(30) {
                    eprintln!(
                        "  node {i}: bootstrap took {:.1?} ({})",
                        t.elapsed(),
                        outcome
                            .as_ref()
                            .map_or_else(|e| e.to_string(), |_| "ok".into())
                    );
                }
                outcome?;
                let joined = done_ref.fetch_add(1, Ordering::Relaxed) + 1;
                if n >= 100 && joined % (n / 10) == 0 {
                    eprintln!(
                        "  {joined}/{n} nodes joined after {:.1?}",
                        started.elapsed()
                    );
                }
                Ok(())
            })
            .buffered(JOINS)
            .collect()
            .await;
        joined.into_iter().collect::<anyhow::Result<Vec<()>>>()?;
        self.wait_until_formed().await
    }

    /// Whether nodes started for an `n`-node network over `transport` get the settings this
    /// network's nodes have, so that [`grow`](Self::grow) to `n` forms what `start(n)` would.
    pub fn grows_like_start(&self, n: usize, transport: Wire) -> bool {
        transport == self.transport && idle_timeout(n) == idle_timeout(self.nodes.len())
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    pub fn transport(&self) -> Wire {
        self.transport
    }

    /// Listen addresses of `count` random nodes, for a newcomer to bootstrap from.
    pub fn seeds(&self, count: usize) -> Vec<Multiaddr> {
        let mut indices: Vec<usize> = (0..self.nodes.len()).collect();
        indices.shuffle(&mut rand::thread_rng());
        indices
            .into_iter()
            .take(count)
            .flat_map(|i| self.nodes[i].node.listen_addrs().to_vec())
            .collect()
    }

    /// Waits until every node has a few routing table entries and a gossip mesh peer. A node
    /// that lags is bootstrapped again from fresh random seeds, as Kademlia's periodic
    /// bootstrap would do, only sooner.
    async fn wait_until_formed(&self) -> anyhow::Result<()> {
        let wanted = (self.nodes.len() - 1).min(5);
        let started = Instant::now();
        for (i, n) in self.nodes.iter().enumerate() {
            let mut last_bootstrap = Instant::now();
            loop {
                let status = n.node.market().status().await?;
                if status.network.routing_table_size >= wanted
                    && status.network.gossip_mesh_peers > 0
                {
                    break;
                }
                anyhow::ensure!(
                    started.elapsed() < WAIT,
                    "node {i} never joined: {status:?}"
                );
                if last_bootstrap.elapsed() > Duration::from_secs(2) {
                    eprintln!(
                        "  node {i} lags ({} routing entries, {} mesh peers): bootstrapping \
                         it again",
                        status.network.routing_table_size, status.network.gossip_mesh_peers
                    );
                    let _ = n
                        .node
                        .market()
                        .network()
                        .bootstrap(self.seeds(3), WAIT)
                        .await;
                    last_bootstrap = Instant::now();
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        Ok(())
    }

    /// Publishes `count` packages of `size` bytes from random nodes.
    pub async fn publish(&mut self, count: usize, size: usize) -> anyhow::Result<()> {
        let mut rng = rand::thread_rng();
        let offset = self.packages.len();
        for i in 0..count {
            let (a, b) = (
                WORDS[rng.gen_range(0..WORDS.len())],
                WORDS[rng.gen_range(0..WORDS.len())],
            );
            let name = format!("{a}-{b}-{}", offset + i);
            let spec = PackageSpec::new(
                &name,
                "1.0.0",
                &format!("A {a} library for {b}"),
                &[a.to_owned()],
            )?;
            let publisher = rng.gen_range(0..self.nodes.len());
            let mut content = vec![0u8; size];
            rng.fill(&mut content[..]);
            self.nodes[publisher]
                .node
                .market()
                .publish(spec, content)
                .await?;
            self.packages.push((name, publisher));
        }
        Ok(())
    }

    /// Looks up a random published package from a random node other than its publisher.
    pub async fn random_lookup(&self, rng: &mut impl Rng) -> TimedLookup {
        let n = self.nodes.len();
        let (name, publisher) = self.packages.choose(rng).expect("packages").clone();
        let seeker = (publisher + 1 + rng.gen_range(0..n - 1)) % n;
        let started = Instant::now();
        let outcome = self.nodes[seeker].node.market().lookup(&name, None).await;
        TimedLookup {
            name,
            seeker,
            elapsed: started.elapsed(),
            outcome,
        }
    }

    /// A random query of one or two words.
    pub fn query(rng: &mut impl Rng) -> String {
        let a = WORDS[rng.gen_range(0..WORDS.len())];
        if rng.gen_bool(0.5) {
            a.to_owned()
        } else {
            format!("{a} {}", WORDS[rng.gen_range(0..WORDS.len())])
        }
    }

    pub async fn shutdown(self) {
        for n in self.nodes {
            n.node.shutdown().await;
        }
    }
}
