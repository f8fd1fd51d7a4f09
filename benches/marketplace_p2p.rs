//! `cargo bench --bench marketplace_p2p [-- FILTER]`: the marketplace over real libp2p swarms.
//!
//! Every figure comes from real nodes exchanging real messages in this process: libp2p's
//! memory transport for large networks (a thousand TCP nodes would exhaust the process's
//! file descriptors), TCP on loopback up to 50 nodes. Networks are built and bootstrapped
//! outside the measurement. Criterion's `[a b c]` is a confidence interval of the mean; the
//! p50/p95/p99 lines printed after each case come from the raw samples.
//!
//! `P2P_BENCH_QUICK=1` shrinks sizes and samples (CI). `P2P_BENCH_INJECT_REGRESSION=1.3`
//! makes `local_cache_hit` do 30% more real work, to prove regression detection.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput};
use libp2p::identity::Keypair;
use p2p_api::{GossipBench, NodeStatus};
use p2p_benches::network::{start_node, BenchNetwork};
use p2p_benches::scratch::Scratch;
use p2p_benches::{cpu, memory, report, MemoryMetrics};
use p2p_node::network::TransportKind;
use p2p_node::package::{PackageSpec, SearchIndex};
use rand::seq::SliceRandom;
use rand::Rng;
use tokio::runtime::Runtime;

struct Sizes {
    dht: Vec<usize>,
    remote: Vec<usize>,
    gossip: Vec<usize>,
    bootstrap: Vec<usize>,
    concurrent: Vec<usize>,
    memory_packages: Vec<usize>,
    index_packages: usize,
    sla_dht_nodes: usize,
}

fn quick() -> bool {
    std::env::var("P2P_BENCH_QUICK").is_ok_and(|v| v == "1")
}

fn sizes() -> Sizes {
    if quick() {
        Sizes {
            dht: vec![10, 50, 100],
            remote: vec![5, 10],
            gossip: vec![5, 10, 20],
            bootstrap: vec![5, 10],
            concurrent: vec![1, 10, 50],
            memory_packages: vec![10, 50, 100],
            index_packages: 10_000,
            sla_dht_nodes: 100,
        }
    } else {
        Sizes {
            dht: vec![10, 50, 100, 500, 1000],
            remote: vec![5, 10, 20],
            gossip: vec![5, 10, 20, 50],
            bootstrap: vec![5, 10, 20, 50],
            concurrent: vec![1, 10, 50, 100],
            memory_packages: vec![10, 50, 100, 500],
            index_packages: 10_000,
            sla_dht_nodes: 1000,
        }
    }
}

/// TCP on loopback while the process can hold the sockets; memory transport beyond.
fn transport_for(n: usize) -> TransportKind {
    if n <= 50 {
        TransportKind::Tcp
    } else {
        TransportKind::Memory
    }
}

/// The benchmark filter given on the command line, if any (Criterion's own filtering still
/// applies; this only skips building networks for benchmarks that will not run).
fn filter() -> Option<String> {
    const TAKES_VALUE: &[&str] = &[
        "--save-baseline",
        "--baseline",
        "--baseline-lenient",
        "--load-baseline",
        "--sample-size",
        "--warm-up-time",
        "--measurement-time",
        "--nresamples",
        "--noise-threshold",
        "--confidence-level",
        "--significance-level",
        "--profile-time",
        "--output-format",
        "--color",
        "--plotting-backend",
        "--format",
        "--logfile",
    ];
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        if TAKES_VALUE.contains(&arg.as_str()) {
            i += 2;
            continue;
        }
        if !arg.starts_with('-') {
            return Some(arg.clone());
        }
        i += 1;
    }
    None
}

/// Whether Criterion will run benchmark `id`: its filter is a regex searched in the id.
fn wanted(id: &str) -> bool {
    match filter() {
        None => true,
        Some(f) => regex::Regex::new(&f).map_or_else(|_| id.contains(&f), |re| re.is_match(id)),
    }
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

fn extra(pairs: &[(&str, f64)]) -> BTreeMap<String, f64> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
}

fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        0.0
    } else {
        values.iter().sum::<f64>() / values.len() as f64
    }
}

// ---- 1. DHT lookups ------------------------------------------------------------------------

/// Returns the network of `sizes.sla_dht_nodes` nodes when the SLA group will use it, so that
/// the largest network is formed once (forming 1000 nodes takes over an hour on 2 cores).
fn dht_lookup(c: &mut Criterion, rt: &Runtime, sizes: &Sizes) -> Option<BenchNetwork> {
    let mut group = c.benchmark_group("p2p_dht_lookup");
    // The previous size's network: grown to the next size rather than formed from scratch
    // when its nodes have the same settings (500 to 1000 saves forming 500 nodes again).
    let mut previous: Option<BenchNetwork> = None;
    for &n in &sizes.dht {
        let id = format!("p2p_dht_lookup/lookup_latency/{n}");
        if !wanted(&id) {
            continue;
        }
        let (formed, transport) = (Instant::now(), transport_for(n));
        let (mut net, how) = match previous.take() {
            Some(mut net) if net.grows_like_start(n, transport) => {
                let from = net.len();
                rt.block_on(net.grow(n)).expect("network grows");
                // Lookups ask for packages published in the network as it is now.
                net.packages.clear();
                (net, format!("grown from {from}"))
            }
            other => {
                if let Some(net) = other {
                    rt.block_on(net.shutdown());
                }
                let net = rt
                    .block_on(BenchNetwork::start(n, transport))
                    .expect("network forms");
                (net, "formed".to_owned())
            }
        };
        rt.block_on(net.publish(20, 1024))
            .expect("packages publish");
        println!(
            "{id}: network of {n} nodes {how} and 20 packages published in {:.1?}",
            formed.elapsed()
        );
        let (mut samples, mut kad, mut failures) = (Vec::new(), Vec::new(), 0);
        group.bench_function(BenchmarkId::new("lookup_latency", n), |b| {
            b.iter_custom(|iters| {
                rt.block_on(timed_lookups(
                    &net,
                    iters,
                    &mut samples,
                    &mut kad,
                    &mut failures,
                ))
            })
        });
        let figures = [
            ("kad_requests_mean", mean(&kad)),
            ("success_rate", success_rate(&samples, failures)),
        ];
        report::record(&id, &samples, extra(&figures));
        previous = Some(net);
    }
    group.finish();
    match previous {
        Some(net) if net.len() == sizes.sla_dht_nodes && wanted(&sla_dht_id(sizes)) => Some(net),
        Some(net) => {
            rt.block_on(net.shutdown());
            None
        }
        None => None,
    }
}

/// `iters` lookups, each of a random package from a random node other than its publisher;
/// keeps every latency and Kademlia request count of the successful ones, counts failures
/// (they are findings, not crashes), returns the total time.
async fn timed_lookups(
    net: &BenchNetwork,
    iters: u64,
    samples: &mut Vec<Duration>,
    kad: &mut Vec<f64>,
    failures: &mut u64,
) -> Duration {
    let mut rng = rand::thread_rng();
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let lookup = net.random_lookup(&mut rng).await;
        total += lookup.elapsed;
        match lookup.outcome {
            Ok(found) => {
                samples.push(lookup.elapsed);
                kad.push(f64::from(found.kad_requests));
                black_box(found);
            }
            Err(e) => {
                *failures += 1;
                if *failures <= 3 {
                    eprintln!(
                        "lookup of {} from node {} failed: {e}",
                        lookup.name, lookup.seeker
                    );
                }
            }
        }
    }
    total
}

fn success_rate(samples: &[Duration], failures: u64) -> f64 {
    let total = samples.len() as f64 + failures as f64;
    if total == 0.0 {
        0.0
    } else {
        samples.len() as f64 / total
    }
}

// ---- 2. Search -----------------------------------------------------------------------------

/// An index holding `count` signed packages, and queries to run against it.
fn filled_index(count: usize) -> (SearchIndex, Vec<String>) {
    let key = Keypair::generate_ed25519();
    let mut rng = rand::thread_rng();
    let mut index = SearchIndex::new();
    for i in 0..count {
        let query = BenchNetwork::query(&mut rng);
        let words: Vec<&str> = query.split(' ').collect();
        let name = format!("{}-{i}", words.join("-"));
        let spec = PackageSpec::new(
            &name,
            "1.0.0",
            &format!("a {} package number {i}", words[0]),
            &[words[0].to_owned()],
        )
        .expect("valid package");
        index.insert(
            spec.sign(name.as_bytes(), &key, 0).expect("signs"),
            i % 2 == 0,
        );
    }
    let queries = (0..1000).map(|_| BenchNetwork::query(&mut rng)).collect();
    (index, queries)
}

/// Timed local searches; `P2P_BENCH_INJECT_REGRESSION` adds real extra searches.
fn local_search_samples(
    index: &SearchIndex,
    queries: &[String],
    iters: u64,
    samples: &mut Vec<Duration>,
) -> Duration {
    let factor: f64 = std::env::var("P2P_BENCH_INJECT_REGRESSION")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1.0);
    let mut owed = 0.0;
    let mut total = Duration::ZERO;
    for i in 0..iters as usize {
        let query = &queries[i % queries.len()];
        let started = Instant::now();
        black_box(index.search(black_box(query), 20));
        owed += factor - 1.0;
        while owed >= 1.0 {
            black_box(index.search(black_box(query), 20));
            owed -= 1.0;
        }
        let elapsed = started.elapsed();
        total += elapsed;
        samples.push(elapsed);
    }
    total
}

fn package_search(c: &mut Criterion, rt: &Runtime, sizes: &Sizes) {
    let mut group = c.benchmark_group("p2p_package_search");
    let id = "p2p_package_search/local_cache_hit";
    if wanted(id) {
        let (index, queries) = filled_index(sizes.index_packages);
        let mut samples = Vec::new();
        group.bench_function("local_cache_hit", |b| {
            b.iter_custom(|iters| local_search_samples(&index, &queries, iters, &mut samples))
        });
        report::record(
            id,
            &samples,
            extra(&[("index_packages", sizes.index_packages as f64)]),
        );
    }
    for &peers in &sizes.remote {
        let id = format!("p2p_package_search/remote/{peers}");
        if !wanted(&id) {
            continue;
        }
        let mut net = rt
            .block_on(BenchNetwork::start(peers, transport_for(peers)))
            .expect("network forms");
        rt.block_on(net.publish(peers * 3, 512))
            .expect("packages publish");
        let (mut samples, mut answered) = (Vec::new(), Vec::new());
        let mut rng = rand::thread_rng();
        group.bench_function(BenchmarkId::new("remote", peers), |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let node = &net.nodes[rng.gen_range(0..net.len())];
                        let query = BenchNetwork::query(&mut rng);
                        let started = Instant::now();
                        let outcome = node
                            .node
                            .market()
                            .search_network(&query, 20, Duration::from_secs(5))
                            .await
                            .expect("network search");
                        let elapsed = started.elapsed();
                        total += elapsed;
                        samples.push(elapsed);
                        answered.push(
                            outcome.peers_answered as f64 / outcome.peers_asked.max(1) as f64,
                        );
                        black_box(outcome);
                    }
                    total
                })
            })
        });
        report::record(
            &id,
            &samples,
            extra(&[("answered_fraction", mean(&answered))]),
        );
        rt.block_on(net.shutdown());
    }
    group.finish();
}

// ---- 3. Gossip -----------------------------------------------------------------------------

fn gossip(c: &mut Criterion, rt: &Runtime, sizes: &Sizes) {
    let mut group = c.benchmark_group("p2p_gossipsub");
    for &n in &sizes.gossip {
        let id = format!("p2p_gossipsub/propagation/{n}");
        if !wanted(&id) {
            continue;
        }
        let net = rt
            .block_on(BenchNetwork::start(n, transport_for(n)))
            .expect("network forms");
        let (mut samples, mut coverage) = (Vec::new(), Vec::new());
        group.bench_function(BenchmarkId::new("propagation", n), |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let (elapsed, reached) = propagate_once(&net).await;
                        total += elapsed;
                        samples.push(elapsed);
                        coverage.push(reached);
                    }
                    total
                })
            })
        });
        report::record(&id, &samples, extra(&[("coverage", mean(&coverage))]));
        rt.block_on(net.shutdown());
    }
    group.finish();
}

/// Node 0 publishes one probe; the result is the time until the last node received it (from
/// the receivers' own timestamps) and the fraction of nodes that did within 10 s.
async fn propagate_once(net: &BenchNetwork) -> (Duration, f64) {
    let sender = net.nodes[0].node.market();
    let published = sender
        .gossip_phase(GossipBench {
            count: 1,
            payload_bytes: 256,
            interval_ms: 0,
        })
        .await;
    let id = published
        .ids
        .first()
        .expect("the probe was published")
        .clone();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut latest = 0.0f64;
    let mut reached = 0;
    for node in &net.nodes[1..] {
        loop {
            let found = node
                .node
                .market()
                .gossip_log()
                .snapshot()
                .into_iter()
                .find(|s| s.id == id);
            if let Some(sample) = found {
                latest = latest.max(sample.latency_s);
                reached += 1;
                break;
            }
            if Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
    }
    (
        Duration::from_secs_f64(latest),
        reached as f64 / (net.len() - 1) as f64,
    )
}

// ---- 4. Bootstrap --------------------------------------------------------------------------

fn bootstrap(c: &mut Criterion, rt: &Runtime, sizes: &Sizes) {
    let mut group = c.benchmark_group("p2p_bootstrap");
    for &n in &sizes.bootstrap {
        let id = format!("p2p_bootstrap/connection/{n}");
        if !wanted(&id) {
            continue;
        }
        let transport = transport_for(n);
        let net = rt
            .block_on(BenchNetwork::start(n - 1, transport))
            .expect("network forms");
        let mut samples = Vec::new();
        group.bench_function(BenchmarkId::new("connection", n), |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let fresh = start_node(transport, n).await.expect("a node starts");
                        let seeds = net.seeds(3);
                        let started = Instant::now();
                        fresh
                            .node
                            .market()
                            .network()
                            .bootstrap(seeds, Duration::from_secs(60))
                            .await
                            .expect("bootstrap finishes");
                        let elapsed = started.elapsed();
                        total += elapsed;
                        samples.push(elapsed);
                        fresh.node.shutdown().await;
                    }
                    total
                })
            })
        });
        report::record(&id, &samples, BTreeMap::new());
        rt.block_on(net.shutdown());
    }
    group.finish();
}

// ---- 5. Concurrent searches ----------------------------------------------------------------

fn concurrent(c: &mut Criterion, rt: &Runtime, sizes: &Sizes) {
    let ids: Vec<String> = sizes
        .concurrent
        .iter()
        .map(|l| format!("p2p_concurrent/searches/{l}"))
        .collect();
    if !ids.iter().any(|id| wanted(id)) {
        return;
    }
    let mut net = rt
        .block_on(BenchNetwork::start(10, TransportKind::Tcp))
        .expect("network forms");
    rt.block_on(net.publish(30, 512)).expect("packages publish");
    let mut group = c.benchmark_group("p2p_concurrent");
    for (&level, id) in sizes.concurrent.iter().zip(&ids) {
        if !wanted(id) {
            continue;
        }
        group.throughput(Throughput::Elements(level as u64));
        let mut samples = Vec::new();
        group.bench_function(BenchmarkId::new("searches", level), |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let started = Instant::now();
                        let searches = (0..level).map(|_| {
                            let mut rng = rand::thread_rng();
                            let node = net.nodes[rng.gen_range(0..net.len())].node.market();
                            let query = BenchNetwork::query(&mut rng);
                            async move {
                                let t = Instant::now();
                                node.search_network(&query, 20, Duration::from_secs(5))
                                    .await
                                    .expect("search");
                                t.elapsed()
                            }
                        });
                        samples.extend(futures::future::join_all(searches).await);
                        total += started.elapsed();
                    }
                    total
                })
            })
        });
        report::record(id, &samples, BTreeMap::new());
    }
    group.finish();
    rt.block_on(net.shutdown());
}

// ---- 6. Memory -----------------------------------------------------------------------------

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
        let dir = p2p_benches::scratch::node_dir()?;
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

fn memory_group(c: &mut Criterion, rt: &Runtime, sizes: &Sizes) {
    let mut group = c.benchmark_group("p2p_memory");
    let mut rng = rand::thread_rng();
    if wanted("p2p_memory/single_peer_baseline") {
        let metrics = MemoryMetrics::start();
        let node = rt
            .block_on(start_node(TransportKind::Tcp, 1))
            .expect("a node starts");
        println!("{}", metrics.describe("p2p_memory/single_peer_baseline"));
        report::record_memory("p2p_memory/single_peer_baseline", memory_figures(&metrics));
        let market = node.node.market().clone();
        group.bench_function("single_peer_baseline", |b| {
            b.iter(|| black_box(market.search_local("json", 20)))
        });
        drop(market);
        rt.block_on(node.node.shutdown());
    }
    for &count in &sizes.memory_packages {
        let id = format!("p2p_memory/packages/{count}");
        if !wanted(&id) {
            continue;
        }
        let metrics = MemoryMetrics::start();
        let node = rt
            .block_on(start_node(TransportKind::Tcp, 1))
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
    process_memory(&mut group, rt);
    group.finish();
}

/// Resident memory of a real `p2p-node` process, idle and holding 100 connections.
fn process_memory(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    rt: &Runtime,
) {
    let want_idle = wanted("p2p_memory/process_idle");
    let want_busy = wanted("p2p_memory/process_100_connections");
    if !(want_idle || want_busy) {
        return;
    }
    let Some(binary) = node_binary() else {
        println!("p2p_memory/process_*: skipped: build p2p-node first (cargo build --release -p p2p-node); the runner script does");
        return;
    };
    let http = reqwest::Client::new();
    let process = NodeProcess::start(&binary).expect("p2p-node starts");
    let health = format!("{}/health", process.api);
    std::thread::sleep(Duration::from_millis(500));
    if want_idle {
        if let Some((rss, hwm)) = process.rss_mb() {
            println!("p2p_memory/process_idle: p2p-node RSS {rss:.1} MiB (peak {hwm:.1} MiB)");
            report::record_memory(
                "p2p_memory/process_idle",
                extra(&[("rss_mb", rss), ("peak_mb", hwm)]),
            );
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
                let dir = p2p_benches::scratch::node_dir().expect("a node directory");
                let mut config =
                    p2p_benches::network::node_config(dir.path(), TransportKind::Tcp, 1);
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
                "p2p_memory/process_100_connections",
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

// ---- 7. CPU --------------------------------------------------------------------------------

fn cpu_group(c: &mut Criterion, rt: &Runtime) {
    let id = "p2p_cpu/event_processing";
    if !wanted(id) {
        return;
    }
    if cpu::process_cpu_time().is_none() {
        println!("{id}: skipped: no process CPU-time clock on this platform");
        return;
    }
    let mut net = rt
        .block_on(BenchNetwork::start(10, TransportKind::Tcp))
        .expect("network forms");
    rt.block_on(net.publish(20, 512)).expect("packages publish");
    let events = |net: &BenchNetwork| -> u64 {
        net.nodes
            .iter()
            .map(|n| n.node.market().metrics().swarm_events.get())
            .sum()
    };
    let mut per_event = Vec::new();
    let mut group = c.benchmark_group("p2p_cpu");
    group.bench_function("event_processing", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let (cpu0, events0) = (cpu::process_cpu_time().expect("cpu time"), events(&net));
                let mut rng = rand::thread_rng();
                // Real work for the swarms: lookups and gossip, until enough events happened.
                while events(&net) - events0 < iters {
                    let (name, publisher) =
                        net.packages.choose(&mut rng).expect("packages").clone();
                    let seeker = (publisher + 1 + rng.gen_range(0..net.len() - 1)) % net.len();
                    let _ = net.nodes[seeker].node.market().lookup(&name, None).await;
                    let _ = net.nodes[seeker]
                        .node
                        .market()
                        .gossip_phase(GossipBench {
                            count: 1,
                            payload_bytes: 64,
                            interval_ms: 0,
                        })
                        .await;
                }
                let cpu = cpu::process_cpu_time().expect("cpu time") - cpu0;
                let handled = (events(&net) - events0).max(1);
                let each = cpu.as_secs_f64() / handled as f64;
                per_event.push(Duration::from_secs_f64(each));
                Duration::from_secs_f64(each * iters as f64)
            })
        })
    });
    group.finish();
    report::record(id, &per_event, BTreeMap::new());
    rt.block_on(net.shutdown());
}

// ---- 8. SLA --------------------------------------------------------------------------------

fn sla_dht_id(sizes: &Sizes) -> String {
    format!("p2p_sla/dht_lookup_{}", sizes.sla_dht_nodes)
}

/// `formed` is the DHT group's network of `sizes.sla_dht_nodes` nodes, if it kept one. The
/// DHT case runs first and its network is shut down before the others, which it would slow.
fn sla(c: &mut Criterion, rt: &Runtime, sizes: &Sizes, formed: Option<BenchNetwork>) {
    let mut group = c.benchmark_group("p2p_sla");
    let dht_id = sla_dht_id(sizes);
    if wanted(&dht_id) {
        let n = sizes.sla_dht_nodes;
        let net = formed.unwrap_or_else(|| {
            let mut net = rt
                .block_on(BenchNetwork::start(n, TransportKind::Memory))
                .expect("network forms");
            rt.block_on(net.publish(20, 1024))
                .expect("packages publish");
            net
        });
        let (mut samples, mut kad, mut failures) = (Vec::new(), Vec::new(), 0);
        group.bench_function(format!("dht_lookup_{n}"), |b| {
            b.iter_custom(|iters| {
                rt.block_on(timed_lookups(
                    &net,
                    iters,
                    &mut samples,
                    &mut kad,
                    &mut failures,
                ))
            })
        });
        let rate = success_rate(&samples, failures);
        if let Some(p) = report::record(&dht_id, &samples, extra(&[("success_rate", rate)])) {
            report::sla(&format!("DHT lookup ({n} peers)"), "p95", p.p95_s, 0.5);
        }
        rt.block_on(net.shutdown());
    }
    if wanted("p2p_sla/local_cache_hit") {
        let (index, queries) = filled_index(sizes.index_packages);
        let mut samples = Vec::new();
        group.bench_function("local_cache_hit", |b| {
            b.iter_custom(|iters| local_search_samples(&index, &queries, iters, &mut samples))
        });
        if let Some(p) = report::record("p2p_sla/local_cache_hit", &samples, BTreeMap::new()) {
            report::sla("local cache hit", "p99", p.p99_s, 1e-3);
        }
    }
    if wanted("p2p_sla/bootstrap_10_peers") {
        let mut samples = Vec::new();
        group.sample_size(10);
        group.bench_function("bootstrap_10_peers", |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let started = Instant::now();
                        let net = BenchNetwork::start(10, TransportKind::Tcp)
                            .await
                            .expect("network forms");
                        let elapsed = started.elapsed();
                        total += elapsed;
                        samples.push(elapsed);
                        net.shutdown().await;
                    }
                    total
                })
            })
        });
        if let Some(p) = report::record("p2p_sla/bootstrap_10_peers", &samples, BTreeMap::new()) {
            report::sla("bootstrap of 10 peers", "p95", p.p95_s, 2.0);
        }
    }
    group.finish();
}

/// Criterion draws its HTML report with plotters, which has no system fonts in a static
/// build: give it the font the orchestrator embeds.
fn register_font() {
    const FONT: &[u8] = include_bytes!("../orchestrator/assets/DejaVuSans.ttf");
    use plotters::style::FontStyle;
    for style in [
        FontStyle::Normal,
        FontStyle::Bold,
        FontStyle::Italic,
        FontStyle::Oblique,
    ] {
        if plotters::style::register_font("sans-serif", style, FONT).is_err() {
            eprintln!("the embedded font did not load; Criterion's plots may fail");
        }
    }
}

fn main() {
    register_font();
    let base = if quick() {
        Criterion::default()
            .sample_size(10)
            .warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_secs(2))
    } else {
        Criterion::default()
            .sample_size(20)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(8))
    };
    let mut c = base.configure_from_args();
    let rt = runtime();
    let scratch = Scratch::install(&rt).expect("a scratch directory for the nodes");
    let sizes = sizes();
    // Memory first: the allocator keeps what large networks freed, which would hide the
    // deltas of the in-process cases.
    memory_group(&mut c, &rt, &sizes);
    // The SLA group right after the DHT group: it reuses the DHT group's largest network.
    let formed = dht_lookup(&mut c, &rt, &sizes);
    sla(&mut c, &rt, &sizes, formed);
    package_search(&mut c, &rt, &sizes);
    gossip(&mut c, &rt, &sizes);
    bootstrap(&mut c, &rt, &sizes);
    concurrent(&mut c, &rt, &sizes);
    cpu_group(&mut c, &rt);
    c.final_summary();
    let passed = report::finish();
    drop(scratch);
    if !passed {
        std::process::exit(1);
    }
}
