//! `p2p_sla`: the seed guide's targets, checked; a miss fails the run.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::network::Wire;

use super::dht::timed_lookups;
use super::search::{filled_index, local_search_samples};
use super::{extra, success_rate, Suite};
use crate::network::BenchNetwork;
use crate::report;
use crate::sizes::Sizes;

const LOCAL_CACHE_HIT: &str = "p2p_sla/local_cache_hit";
const BOOTSTRAP_10: &str = "p2p_sla/bootstrap_10_peers";

pub fn ids(sizes: &Sizes) -> Vec<String> {
    vec![
        dht_id(sizes),
        LOCAL_CACHE_HIT.to_owned(),
        BOOTSTRAP_10.to_owned(),
    ]
}

pub(super) fn dht_id(sizes: &Sizes) -> String {
    format!("p2p_sla/dht_lookup_{}", sizes.sla_dht_nodes)
}

/// `formed` is the DHT group's network of `sizes.sla_dht_nodes` nodes, if it kept one. The
/// DHT case runs first and its network is shut down before the others, which it would slow.
pub fn run(suite: &mut Suite<'_>, formed: Option<BenchNetwork>) {
    let (rt, sizes) = (suite.rt, suite.sizes);
    let mut group = suite.c.benchmark_group("p2p_sla");
    let dht_id = dht_id(sizes);
    if suite.selection.wants(&dht_id) {
        let n = sizes.sla_dht_nodes;
        let net = formed.unwrap_or_else(|| {
            let mut net = rt
                .block_on(BenchNetwork::start(n, Wire::Memory))
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
    if suite.selection.wants(LOCAL_CACHE_HIT) {
        let (index, queries) = filled_index(sizes.index_packages);
        let mut samples = Vec::new();
        group.bench_function("local_cache_hit", |b| {
            b.iter_custom(|iters| local_search_samples(&index, &queries, iters, &mut samples))
        });
        if let Some(p) = report::record(LOCAL_CACHE_HIT, &samples, BTreeMap::new()) {
            report::sla("local cache hit", "p99", p.p99_s, 1e-3);
        }
    }
    if suite.selection.wants(BOOTSTRAP_10) {
        let mut samples = Vec::new();
        group.sample_size(10);
        group.bench_function("bootstrap_10_peers", |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let started = Instant::now();
                        let net = BenchNetwork::start(10, Wire::Tcp)
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
        if let Some(p) = report::record(BOOTSTRAP_10, &samples, BTreeMap::new()) {
            report::sla("bootstrap of 10 peers", "p95", p.p95_s, 2.0);
        }
    }
    group.finish();
}
