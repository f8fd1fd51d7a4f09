//! `p2p_dht_lookup`: timed DHT lookups of published packages, from 10 peers up to 1000.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::BenchmarkId;

use super::{extra, mean, success_rate, Suite};
use crate::network::BenchNetwork;
use crate::report;
use crate::sizes::{transport_for, Sizes};

fn id(n: usize) -> String {
    format!("p2p_dht_lookup/lookup_latency/{n}")
}

pub fn ids(sizes: &Sizes) -> Vec<String> {
    sizes.dht.iter().map(|&n| id(n)).collect()
}

/// Returns the network of `sizes.sla_dht_nodes` nodes when `keep_largest` (the SLA group will
/// use it), so that the largest network is formed once (forming 1000 nodes takes over an hour
/// on 2 cores).
pub fn run(suite: &mut Suite<'_>, keep_largest: bool) -> Option<BenchNetwork> {
    let (rt, sizes) = (suite.rt, suite.sizes);
    let mut group = suite.c.benchmark_group("p2p_dht_lookup");
    // The previous size's network: grown to the next size rather than formed from scratch
    // when its nodes have the same settings (500 to 1000 saves forming 500 nodes again).
    let mut previous: Option<BenchNetwork> = None;
    for &n in &sizes.dht {
        let id = id(n);
        if !suite.selection.wants(&id) {
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
        Some(net) if net.len() == sizes.sla_dht_nodes && keep_largest => Some(net),
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
pub(super) async fn timed_lookups(
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
