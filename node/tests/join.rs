//! Peers that join at the same moment find each other. Before nodes dialed from their own
//! address, two joiners that found each other at once dialed each other from their listen
//! ports, and the TCP simultaneous open that made failed both dials: 6-peer runs then waited
//! for routing tables that never filled.

mod common;

use std::time::Duration;

use common::{shutdown, start_node, WAIT};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peers_that_join_together_meet() {
    let runs: usize = std::env::var("JOIN_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let mut failures = 0;
    for run in 0..runs {
        let mut nodes = Vec::new();
        for _ in 0..6 {
            nodes.push(start_node().await);
        }
        let seeds: Vec<_> = nodes[..3]
            .iter()
            .flat_map(|n| n.node.listen_addrs().to_vec())
            .collect();
        for i in 1..3 {
            let earlier: Vec<_> = nodes[..i]
                .iter()
                .flat_map(|n| n.node.listen_addrs().to_vec())
                .collect();
            nodes[i]
                .node
                .market()
                .network()
                .bootstrap(earlier, WAIT)
                .await
                .unwrap();
        }
        let joins = nodes[3..].iter().map(|n| {
            let seeds = seeds.clone();
            async move { n.node.market().network().bootstrap(seeds, WAIT).await }
        });
        for r in futures::future::join_all(joins).await {
            r.unwrap();
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        let mut sizes = Vec::new();
        while tokio::time::Instant::now() < deadline {
            sizes.clear();
            for n in &nodes {
                sizes.push(
                    n.node
                        .market()
                        .status()
                        .await
                        .unwrap()
                        .network
                        .routing_table_size,
                );
            }
            if sizes.iter().all(|&s| s == 5) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        if sizes.iter().any(|&s| s < 5) {
            failures += 1;
            eprintln!("run {run}: routing table sizes {sizes:?}");
        }
        shutdown(nodes).await;
    }
    assert_eq!(failures, 0, "{failures} of {runs} runs left peers apart");
}
