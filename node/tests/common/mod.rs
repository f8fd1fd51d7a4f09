//! Helpers shared by the integration tests: in-process nodes on loopback.

#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::time::Duration;

use p2p_node::daemon::{NodeConfig, RunningNode};
use p2p_node::market::Deadlines;
use p2p_node::network::NetworkConfig;
use p2p_node::package::PackageSpec;
use tempfile::TempDir;

/// Every network wait in the tests is bounded by this.
pub const WAIT: Duration = Duration::from_secs(30);

pub struct TestNode {
    pub node: RunningNode,
    pub dir: TempDir,
}

pub fn config(dir: &std::path::Path) -> NodeConfig {
    NodeConfig {
        data_dir: dir.to_owned(),
        api_addr: "127.0.0.1:0".parse().unwrap(),
        api_token: None,
        api_header_timeout: p2p_node::daemon::HEADER_READ_TIMEOUT,
        network: NetworkConfig {
            listen: vec!["/ip4/127.0.0.1/tcp/0".parse().unwrap()],
            gossip_heartbeat: Duration::from_millis(200),
            ..NetworkConfig::default()
        },
        bootstrap: Vec::new(),
        deadlines: Deadlines {
            dht: Duration::from_secs(10),
            request: Duration::from_secs(5),
            network_search: Duration::from_secs(3),
        },
    }
}

pub async fn start_node() -> TestNode {
    let dir = tempfile::tempdir().unwrap();
    let node = RunningNode::start(config(dir.path())).await.unwrap();
    TestNode { node, dir }
}

/// Starts `n` nodes; every node after the first bootstraps from the first. Returns once every
/// node has at least one gossip mesh peer.
pub async fn start_network(n: usize) -> Vec<TestNode> {
    let mut nodes = Vec::with_capacity(n);
    nodes.push(start_node().await);
    let seed = nodes[0].node.listen_addrs().to_vec();
    for _ in 1..n {
        let node = start_node().await;
        node.node
            .market()
            .network()
            .bootstrap(seed.clone(), WAIT)
            .await
            .expect("bootstrap from the seed node");
        nodes.push(node);
    }
    let deadline = tokio::time::Instant::now() + WAIT;
    for (i, node) in nodes.iter().enumerate() {
        loop {
            let status = node.node.market().status().await.unwrap().network;
            if status.gossip_mesh_peers > 0 {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "node {i} has no gossip mesh peer after {WAIT:?}: {status:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    nodes
}

/// Polls `check` every 50 ms until it holds; panics naming `what` after [`WAIT`].
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + WAIT;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {WAIT:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub fn spec(name: &str, version: &str, description: &str, tags: &[&str]) -> PackageSpec {
    let tags: Vec<String> = tags.iter().map(|t| t.to_string()).collect();
    PackageSpec::new(name, version, description, &tags).unwrap()
}

pub async fn shutdown(nodes: Vec<TestNode>) {
    for n in nodes {
        n.node.shutdown().await;
    }
}
