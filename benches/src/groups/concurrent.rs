//! `p2p_concurrent`: network searches in flight at once on a 10-node network.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::network::Wire;
use criterion::{BenchmarkId, Throughput};
use rand::Rng;

use super::Suite;
use crate::network::BenchNetwork;
use crate::report;
use crate::sizes::Sizes;

pub fn ids(sizes: &Sizes) -> Vec<String> {
    sizes
        .concurrent
        .iter()
        .map(|l| format!("p2p_concurrent/searches/{l}"))
        .collect()
}

pub fn run(suite: &mut Suite<'_>) {
    let (rt, sizes) = (suite.rt, suite.sizes);
    let ids = ids(sizes);
    if !ids.iter().any(|id| suite.selection.wants(id)) {
        return;
    }
    let mut net = rt
        .block_on(BenchNetwork::start(10, Wire::Tcp))
        .expect("network forms");
    rt.block_on(net.publish(30, 512)).expect("packages publish");
    let mut group = suite.c.benchmark_group("p2p_concurrent");
    for (&level, id) in sizes.concurrent.iter().zip(&ids) {
        if !suite.selection.wants(id) {
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
