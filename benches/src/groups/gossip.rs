//! `p2p_gossipsub`: how long one announcement takes to reach every node.

use std::time::{Duration, Instant};

use criterion::BenchmarkId;
use p2p_api::GossipBench;

use super::{extra, mean, Suite};
use crate::network::BenchNetwork;
use crate::report;
use crate::sizes::{transport_for, Sizes};

fn id(n: usize) -> String {
    format!("p2p_gossipsub/propagation/{n}")
}

pub fn ids(sizes: &Sizes) -> Vec<String> {
    sizes.gossip.iter().map(|&n| id(n)).collect()
}

pub fn run(suite: &mut Suite<'_>) {
    let (rt, sizes) = (suite.rt, suite.sizes);
    let mut group = suite.c.benchmark_group("p2p_gossipsub");
    for &n in &sizes.gossip {
        let id = id(n);
        if !suite.selection.wants(&id) {
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
