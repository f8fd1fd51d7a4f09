//! `p2p_bootstrap`: a fresh node joining a formed network through three seeds.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use criterion::BenchmarkId;

use super::Suite;
use crate::network::{start_node, BenchNetwork};
use crate::report;
use crate::sizes::{transport_for, Sizes};

fn id(n: usize) -> String {
    format!("p2p_bootstrap/connection/{n}")
}

pub fn ids(sizes: &Sizes) -> Vec<String> {
    sizes.bootstrap.iter().map(|&n| id(n)).collect()
}

pub fn run(suite: &mut Suite<'_>) {
    let (rt, sizes) = (suite.rt, suite.sizes);
    let mut group = suite.c.benchmark_group("p2p_bootstrap");
    for &n in &sizes.bootstrap {
        let id = id(n);
        if !suite.selection.wants(&id) {
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
