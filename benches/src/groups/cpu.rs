//! `p2p_cpu`: CPU time per swarm event while the swarms do real work.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::network::Wire;
use p2p_api::GossipBench;
use rand::seq::SliceRandom;
use rand::Rng;

use super::Suite;
use crate::cpu::process_cpu_time;
use crate::network::BenchNetwork;
use crate::report;

const EVENT_PROCESSING: &str = "p2p_cpu/event_processing";

pub fn ids() -> Vec<String> {
    vec![EVENT_PROCESSING.to_owned()]
}

pub fn run(suite: &mut Suite<'_>) {
    let rt = suite.rt;
    let id = EVENT_PROCESSING;
    if !suite.selection.wants(id) {
        return;
    }
    if process_cpu_time().is_none() {
        println!("{id}: skipped: no process CPU-time clock on this platform");
        return;
    }
    let mut net = rt
        .block_on(BenchNetwork::start(10, Wire::Tcp))
        .expect("network forms");
    rt.block_on(net.publish(20, 512)).expect("packages publish");
    let events = |net: &BenchNetwork| -> u64 {
        net.nodes
            .iter()
            .map(|n| n.node.market().metrics().swarm_events.get())
            .sum()
    };
    let mut per_event = Vec::new();
    let mut group = suite.c.benchmark_group("p2p_cpu");
    group.bench_function("event_processing", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let (cpu0, events0) = (process_cpu_time().expect("cpu time"), events(&net));
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
                let cpu = process_cpu_time().expect("cpu time") - cpu0;
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
