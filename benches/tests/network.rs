//! The bench harness's networks: a grown network is one network, not two.

use p2p_benches::network::Wire;
use p2p_benches::BenchNetwork;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grown_network_finds_what_its_first_nodes_published() {
    let mut net = BenchNetwork::start(4, Wire::Memory)
        .await
        .expect("network forms");
    net.publish(3, 256).await.expect("packages publish");
    assert!(net.grows_like_start(8, Wire::Memory));
    assert!(!net.grows_like_start(8, Wire::Tcp));

    net.grow(8).await.expect("network grows");
    assert_eq!(net.len(), 8);
    for seeker in 4..8 {
        for (name, _) in &net.packages {
            let found = net.nodes[seeker].node.market().lookup(name, None).await;
            assert!(
                found.is_ok(),
                "node {seeker}, which joined when the network grew, did not find {name}: {:?}",
                found.err()
            );
        }
    }
    net.shutdown().await;
}
