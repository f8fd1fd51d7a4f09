//! `p2p_market`: a publish (sign, store, DHT records, provider record, announcement) and an
//! install (lookup, providers, fetch, verify, store) on a formed 10-node network, the two
//! operations whose validation a node must not skimp on.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::network::Wire;
use criterion::BenchmarkId;
use p2p_node::package::PackageSpec;
use rand::Rng;

use super::Suite;
use crate::network::BenchNetwork;
use crate::report;

/// Nodes of the network both cases use.
const NODES: usize = 10;
/// Bytes of each package's content.
const CONTENT_BYTES: usize = 4096;

fn id(operation: &str) -> String {
    format!("p2p_market/{operation}/{NODES}")
}

pub fn ids() -> Vec<String> {
    vec![id("publish"), id("install")]
}

pub fn run(suite: &mut Suite<'_>) {
    let (publish_id, install_id) = (id("publish"), id("install"));
    let (want_publish, want_install) = (
        suite.selection.wants(&publish_id),
        suite.selection.wants(&install_id),
    );
    if !(want_publish || want_install) {
        return;
    }
    let rt = suite.rt;
    let net = rt
        .block_on(BenchNetwork::start(NODES, Wire::Tcp))
        .expect("network forms");
    let mut group = suite.c.benchmark_group("p2p_market");
    let mut published = 0usize;
    if want_publish {
        let mut samples = Vec::new();
        group.bench_function(BenchmarkId::new("publish", NODES), |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let (publisher, spec, content) = next_package(&net, &mut published);
                        let started = Instant::now();
                        net.nodes[publisher]
                            .node
                            .market()
                            .publish(spec, content)
                            .await
                            .expect("publish");
                        let elapsed = started.elapsed();
                        total += elapsed;
                        samples.push(elapsed);
                    }
                    total
                })
            })
        });
        report::record(&publish_id, &samples, BTreeMap::new());
    }
    if want_install {
        let mut samples = Vec::new();
        group.bench_function(BenchmarkId::new("install", NODES), |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        // A fresh package each time, published outside the measurement, so
                        // that every install fetches over the network.
                        let (publisher, spec, content) = next_package(&net, &mut published);
                        let name = spec.name().to_owned();
                        net.nodes[publisher]
                            .node
                            .market()
                            .publish(spec, content)
                            .await
                            .expect("publish");
                        let installer =
                            (publisher + 1 + rand::thread_rng().gen_range(0..NODES - 1)) % NODES;
                        let started = Instant::now();
                        net.nodes[installer]
                            .node
                            .market()
                            .install(&name, None)
                            .await
                            .expect("install");
                        let elapsed = started.elapsed();
                        total += elapsed;
                        samples.push(elapsed);
                    }
                    total
                })
            })
        });
        report::record(&install_id, &samples, BTreeMap::new());
    }
    group.finish();
    rt.block_on(net.shutdown());
}

/// A new package for a random publisher.
fn next_package(net: &BenchNetwork, published: &mut usize) -> (usize, PackageSpec, Vec<u8>) {
    let mut rng = rand::thread_rng();
    *published += 1;
    let name = format!(
        "{}-{published}",
        BenchNetwork::query(&mut rng).replace(' ', "-")
    );
    let spec = PackageSpec::new(&name, "1.0.0", "a package of the market group", &[])
        .expect("a valid package");
    let mut content = vec![0u8; CONTENT_BYTES];
    rng.fill(&mut content[..]);
    (rng.gen_range(0..net.len()), spec, content)
}
