//! `p2p_memory`: resident memory of a node in this process with 0 to 500 packages, and of a
//! real `p2p-node` process idle and holding 100 connections.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::network::Wire;
use criterion::BenchmarkId;
use p2p_api::NodeStatus;
use p2p_node::package::PackageSpec;
use tokio::runtime::Runtime;

use super::{extra, Suite};
use crate::network::{start_node, BenchNetwork};
use crate::selection::Selection;
use crate::sizes::Sizes;
use crate::{memory, report, MemoryMetrics};

const BASELINE: &str = "p2p_memory/single_peer_baseline";
const PROCESS_IDLE: &str = "p2p_memory/process_idle";
const PROCESS_BUSY: &str = "p2p_memory/process_100_connections";

fn packages_id(count: usize) -> String {
    format!("p2p_memory/packages/{count}")
}

pub fn ids(sizes: &Sizes) -> Vec<String> {
    let mut ids = vec![BASELINE.to_owned()];
    ids.extend(sizes.memory_packages.iter().map(|&c| packages_id(c)));
    ids.extend([PROCESS_IDLE.to_owned(), PROCESS_BUSY.to_owned()]);
    ids
}

fn memory_figures(metrics: &MemoryMetrics) -> BTreeMap<String, f64> {
    [
        ("baseline_mb", metrics.baseline_mb()),
        ("current_mb", metrics.current_mb()),
        ("delta_mb", metrics.delta_mb()),
        ("peak_mb", metrics.peak_mb()),
    ]
    .into_iter()
    .filter_map(|(k, v)| Some((k.to_owned(), v?)))
    .collect()
}

/// `p2p-node` next to the bench's `deps/` directory (the runner builds it first).
fn node_binary() -> Option<std::path::PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let candidate = exe.parent()?.parent()?.join("p2p-node");
    candidate.is_file().then_some(candidate)
}

/// A `p2p-node run` process, killed on drop.
struct NodeProcess {
    child: Child,
    api: String,
    listen: String,
    _dir: tempfile::TempDir,
}

impl NodeProcess {
    fn start(binary: &std::path::Path) -> anyhow::Result<Self> {
        use std::io::BufRead;
        let dir = crate::scratch::node_dir()?;
        let mut child = Command::new(binary)
            .args([
                "run",
                "--listen",
                "/ip4/127.0.0.1/tcp/0",
                "--api-addr",
                "127.0.0.1:0",
                // Keeps the hundred connections of `process_100_connections` untrimmed.
                "--connections-high-water",
                "200",
                "--data-dir",
            ])
            .arg(dir.path())
            .env("MALLOC_ARENA_MAX", "2")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| anyhow::anyhow!("no stdout"))?;
        let (mut api, mut listen) = (None, None);
        for line in std::io::BufReader::new(stdout).lines() {
            let line = line?;
            if let Some(a) = line.strip_prefix("listening ") {
                listen = Some(a.trim().to_owned());
            }
            if let Some(a) = line.strip_prefix("api ") {
                api = Some(a.trim().to_owned());
                break;
            }
        }
        Ok(Self {
            child,
            api: api.ok_or_else(|| anyhow::anyhow!("node printed no API address"))?,
            listen: listen.ok_or_else(|| anyhow::anyhow!("node printed no listen address"))?,
            _dir: dir,
        })
    }

    fn rss_mb(&self) -> Option<(f64, f64)> {
        memory::read_status(Some(self.child.id()))
            .map(|(rss, hwm)| (rss as f64 / 1048576.0, hwm as f64 / 1048576.0))
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn run(suite: &mut Suite<'_>) {
    let (rt, sizes) = (suite.rt, suite.sizes);
    let mut group = suite.c.benchmark_group("p2p_memory");
    let mut rng = rand::thread_rng();
    if suite.selection.wants(BASELINE) {
        let metrics = MemoryMetrics::start();
        let node = rt
            .block_on(start_node(Wire::Tcp, 1))
            .expect("a node starts");
        println!("{}", metrics.describe(BASELINE));
        report::record_memory(BASELINE, memory_figures(&metrics));
        let market = node.node.market().clone();
        group.bench_function("single_peer_baseline", |b| {
            b.iter(|| black_box(market.search_local("json", 20)))
        });
        drop(market);
        rt.block_on(node.node.shutdown());
    }
    for &count in &sizes.memory_packages {
        let id = packages_id(count);
        if !suite.selection.wants(&id) {
            continue;
        }
        let metrics = MemoryMetrics::start();
        let node = rt
            .block_on(start_node(Wire::Tcp, 1))
            .expect("a node starts");
        let market = node.node.market().clone();
        rt.block_on(async {
            for i in 0..count {
                let query = BenchNetwork::query(&mut rng);
                let name = format!("{}-{i}", query.replace(' ', "-"));
                let spec = PackageSpec::new(&name, "1.0.0", &format!("memory case {query}"), &[])
                    .expect("valid");
                market
                    .publish(spec, vec![7u8; 4096])
                    .await
                    .expect("publish");
            }
        });
        println!("{}", metrics.describe(&id));
        report::record_memory(&id, memory_figures(&metrics));
        group.bench_function(BenchmarkId::new("packages", count), |b| {
            b.iter(|| black_box(market.search_local("json", 20)))
        });
        drop(market);
        rt.block_on(node.node.shutdown());
    }
    process_memory(&mut group, rt, suite.selection);
    group.finish();
}

/// Resident memory of a real `p2p-node` process, idle and holding 100 connections.
fn process_memory(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    rt: &Runtime,
    selection: &Selection,
) {
    let want_idle = selection.wants(PROCESS_IDLE);
    let want_busy = selection.wants(PROCESS_BUSY);
    if !(want_idle || want_busy) {
        return;
    }
    let Some(binary) = node_binary() else {
        println!("p2p_memory/process_*: skipped: build p2p-node first (cargo build --release --bin p2p-node); the runner script does");
        return;
    };
    let http =
        p2p_api::client::http_client(p2p_api::client::DEFAULT_TIMEOUT).expect("an HTTP client");
    let process = NodeProcess::start(&binary).expect("p2p-node starts");
    let health = format!("{}/health", process.api);
    std::thread::sleep(Duration::from_millis(500));
    if want_idle {
        if let Some((rss, hwm)) = process.rss_mb() {
            println!("p2p_memory/process_idle: p2p-node RSS {rss:.1} MiB (peak {hwm:.1} MiB)");
            report::record_memory(PROCESS_IDLE, extra(&[("rss_mb", rss), ("peak_mb", hwm)]));
        }
        group.bench_function("process_idle", |b| {
            b.iter(|| {
                rt.block_on(async { black_box(http.get(&health).send().await.expect("health")) })
            })
        });
    }
    if want_busy {
        let target: libp2p::Multiaddr = process.listen.parse().expect("a multiaddr");
        // A hundred in-process peers, each allowed one connection: the one to the target.
        let peers: Vec<_> = rt.block_on(async {
            let mut peers = Vec::new();
            for _ in 0..100 {
                let dir = crate::scratch::node_dir().expect("a node directory");
                let mut config = crate::network::node_config(dir.path(), Wire::Tcp, 1);
                config.network.max_connections = 1;
                config.network.watermarks =
                    p2p_node::network::Watermarks::new(1, 1, 1).expect("valid watermarks");
                let node = p2p_node::daemon::RunningNode::start(config)
                    .await
                    .expect("a node starts");
                let _ = node
                    .market()
                    .network()
                    .bootstrap(vec![target.clone()], Duration::from_secs(30))
                    .await;
                peers.push((node, dir));
            }
            peers
        });
        let status = format!("{}/status", process.api);
        let connected = rt.block_on(async {
            for _ in 0..100 {
                if let Ok(r) = http.get(&status).send().await {
                    if let Ok(s) = r.json::<NodeStatus>().await {
                        if s.network.connected_peers >= 100 {
                            return s.network.connected_peers;
                        }
                    }
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            0
        });
        if let Some((rss, hwm)) = process.rss_mb() {
            println!("p2p_memory/process_100_connections: p2p-node RSS {rss:.1} MiB (peak {hwm:.1} MiB) with {connected} peers connected");
            report::record_memory(
                PROCESS_BUSY,
                extra(&[
                    ("rss_mb", rss),
                    ("peak_mb", hwm),
                    ("connected_peers", connected as f64),
                ]),
            );
        }
        group.bench_function("process_100_connections", |b| {
            b.iter(|| {
                rt.block_on(async { black_box(http.get(&health).send().await.expect("health")) })
            })
        });
        rt.block_on(async {
            for (node, _dir) in peers {
                node.shutdown().await;
            }
        });
    }
}
