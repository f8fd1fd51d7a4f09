//! `p2p_package_search`: searches of a local index of 10,000 packages, and network searches
//! that ask the connected peers.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::BenchmarkId;
use libp2p::identity::Keypair;
use p2p_node::package::{PackageSpec, SearchIndex};
use rand::Rng;

use super::{extra, mean, Suite};
use crate::network::BenchNetwork;
use crate::report;
use crate::sizes::{transport_for, Sizes};

const LOCAL_CACHE_HIT: &str = "p2p_package_search/local_cache_hit";

fn remote_id(peers: usize) -> String {
    format!("p2p_package_search/remote/{peers}")
}

pub fn ids(sizes: &Sizes) -> Vec<String> {
    let mut ids = vec![LOCAL_CACHE_HIT.to_owned()];
    ids.extend(sizes.remote.iter().map(|&p| remote_id(p)));
    ids
}

/// An index holding `count` signed packages, and queries to run against it.
pub(super) fn filled_index(count: usize) -> (SearchIndex, Vec<String>) {
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
pub(super) fn local_search_samples(
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

pub fn run(suite: &mut Suite<'_>) {
    let (rt, sizes) = (suite.rt, suite.sizes);
    let mut group = suite.c.benchmark_group("p2p_package_search");
    let id = LOCAL_CACHE_HIT;
    if suite.selection.wants(id) {
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
        let id = remote_id(peers);
        if !suite.selection.wants(&id) {
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
