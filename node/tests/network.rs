//! An in-process network of real libp2p nodes on loopback: publish on one node, find and
//! install it from the others, gossip reaches everyone, the store survives a restart.

mod common;

use common::{eventually, shutdown, spec, start_network, start_node, WAIT};
use p2p_node::daemon::RunningNode;
use p2p_node::market::keys;
use p2p_node::market::InstallError;

const NODES: usize = 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_nodes_publish_find_search_install_and_gossip() {
    let nodes = start_network(NODES).await;
    let publisher = nodes[3].node.market();
    let content = b"fn main() { println!(\"hello\") }".to_vec();
    let outcome = publisher
        .publish(
            spec(
                "hello-cli",
                "1.2.0",
                "Prints a friendly greeting",
                &["cli", "demo"],
            ),
            content.clone(),
        )
        .await
        .unwrap();
    assert!(outcome.dht_record_stored, "{:?}", outcome.warnings);
    assert!(
        outcome.providing && outcome.announced,
        "{:?}",
        outcome.warnings
    );

    // The announcement reaches every other node.
    for (i, node) in nodes.iter().enumerate().filter(|(i, _)| *i != 3) {
        eventually(&format!("the announcement at node {i}"), || async {
            node.node
                .market()
                .gossip_log()
                .snapshot()
                .iter()
                .any(|s| s.id == "hello-cli@1.2.0")
        })
        .await;
    }

    // DHT lookup from a node far from the publisher.
    let seeker = nodes[NODES - 1].node.market();
    let found = seeker.lookup("hello-cli", None).await.unwrap();
    assert_eq!(found.package, outcome.package);
    assert!(found.kad_requests >= 1, "the lookup went to the network");

    // Local search answers from what gossip taught the node.
    let local = seeker.search_local("greeting", 10);
    assert_eq!(local.hits.len(), 1);
    assert_eq!(local.hits[0].package.manifest.name, "hello-cli");
    assert!(!local.hits[0].local, "content is not stored on the seeker");

    // Network search on a node that has not heard of a package finds it at its peers.
    let fresh = nodes[7].node.market();
    let only_at_publisher = publisher
        .publish(
            spec("quiet-lib", "0.1.0", "unannounced to node 7", &[]),
            b"q".to_vec(),
        )
        .await
        .unwrap();
    assert!(only_at_publisher.announced);
    let network = fresh
        .search_network("quiet", 10, std::time::Duration::from_secs(3))
        .await
        .unwrap();
    assert!(network.peers_asked > 0 && network.peers_answered > 0);
    assert!(network
        .hits
        .iter()
        .any(|h| h.package.manifest.name == "quiet-lib"));

    // Install from another node: fetched, verified, stored, and then provided.
    let installer = nodes[11].node.market();
    let installed = installer.install("hello-cli", None).await.unwrap();
    assert_eq!(
        installed.provider.as_deref(),
        Some(&*publisher.peer_id().to_base58())
    );
    assert!(!installed.already_installed);
    assert_eq!(installer.status().await.unwrap().packages_stored, 1);
    let again = installer.install("hello-cli", None).await.unwrap();
    assert!(again.already_installed);

    shutdown(nodes).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupted_blob_is_not_served_and_nothing_unverified_is_stored() {
    let nodes = start_network(4).await;
    let publisher = nodes[0].node.market().clone();
    let content = vec![42u8; 4096];
    let published = publisher
        .publish(spec("bytes", "1.0.0", "some bytes", &[]), content.clone())
        .await
        .unwrap()
        .package;

    // The publisher's copy goes bad on disk: it checks its bytes before serving them, so it
    // does not send them, moves the blob aside and no longer counts the package as stored.
    let blob = nodes[0]
        .dir
        .path()
        .join("blobs")
        .join(&published.manifest.sha256);
    std::fs::write(&blob, vec![7u8; 4096]).unwrap();

    let victim = nodes[1].node.market();
    let err = victim.install("bytes", None).await.unwrap_err();
    let InstallError::AllProvidersFailed { rejected, .. } = &err else {
        panic!("expected every provider to fail, got {err}");
    };
    assert!(
        rejected
            .iter()
            .any(|r| r.contains("does not have the content")),
        "{rejected:?}"
    );
    assert!(!blob.exists(), "the bad blob was moved aside");
    assert_eq!(publisher.status().await.unwrap().packages_stored, 0);
    let status = victim.status().await.unwrap();
    assert_eq!(status.packages_stored, 0, "nothing unverified is stored");
    assert!(!nodes[1]
        .dir
        .path()
        .join("blobs")
        .join(&published.manifest.sha256)
        .exists());

    // With a good provider around too, the install succeeds and the bad one is skipped.
    std::fs::write(&blob, &content).unwrap();
    let good = nodes[2].node.market();
    good.install("bytes", None).await.unwrap();
    std::fs::write(&blob, vec![7u8; 4096]).unwrap();
    // The good node announces itself as a provider in the background; wait until it shows.
    let content_key = keys::content(&published.manifest.sha256);
    eventually("the second provider record", || async {
        victim
            .network()
            .get_providers(content_key.clone(), WAIT)
            .await
            .is_ok_and(|p| p.contains(&good.peer_id()))
    })
    .await;
    let retried = victim.install("bytes", None).await.unwrap();
    assert_eq!(
        retried.provider.as_deref(),
        Some(&*nodes[2].node.market().peer_id().to_base58())
    );
    let stored = std::fs::read(
        nodes[1]
            .dir
            .path()
            .join("blobs")
            .join(&published.manifest.sha256),
    )
    .unwrap();
    assert_eq!(stored, content);

    // The node stays healthy.
    assert!(victim.status().await.unwrap().network.connected_peers > 0);
    shutdown(nodes).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstrap_from_an_address_without_peer_id() {
    let seed = start_node().await;
    let joiner = start_node().await;
    let mut plain = seed.node.listen_addrs()[0].clone();
    assert!(matches!(
        plain.pop(),
        Some(libp2p::multiaddr::Protocol::P2p(_))
    ));
    let outcome = joiner
        .node
        .market()
        .network()
        .bootstrap(vec![plain], common::WAIT)
        .await
        .unwrap();
    assert_eq!(
        outcome.routing_table_size, 1,
        "the seed's peer id was learned from the dial"
    );
    let status = joiner.node.market().status().await.unwrap();
    assert_eq!(status.network.connected_peers, 1);
    shutdown(vec![seed, joiner]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_and_identity_survive_a_restart() {
    let first = start_node().await;
    let market = first.node.market().clone();
    market
        .publish(
            spec("durable", "2.0.0", "kept on disk", &["disk"]),
            b"persist me".to_vec(),
        )
        .await
        .unwrap();
    let peer_id = market.peer_id();
    drop(market);
    let dir = first.dir;
    first.node.shutdown().await;

    let restarted = RunningNode::start(common::config(dir.path()))
        .await
        .unwrap();
    let market = restarted.market();
    assert_eq!(market.peer_id(), peer_id);
    let status = market.status().await.unwrap();
    assert_eq!(status.packages_stored, 1);
    let hits = market.search_local("durable", 5).hits;
    assert_eq!(hits.len(), 1);
    assert!(hits[0].local);
    assert_eq!(hits[0].package.manifest.version.to_string(), "2.0.0");
    restarted.shutdown().await;
}

/// Gossipsub keeps every connection to a gossip peer open past the idle timeout
/// (rust-libp2p#5190); the connection manager disconnects the excess down to the low
/// watermark, sparing the gossip mesh.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connection_manager_trims_a_hub_down_to_its_gossip_mesh() {
    const LEAVES: usize = 16;
    let dir = tempfile::tempdir().unwrap();
    let mut config = common::config(dir.path());
    config.network.watermarks = p2p_node::network::Watermarks::new(2, 4, 256).unwrap();
    config.network.connection_grace = std::time::Duration::from_secs(1);
    config.network.idle_timeout = std::time::Duration::from_secs(1);
    let hub = RunningNode::start(config).await.unwrap();
    let seed = hub.listen_addrs().to_vec();
    let mut leaves = Vec::new();
    for _ in 0..LEAVES {
        let leaf = start_node().await;
        leaf.node
            .market()
            .network()
            .bootstrap(seed.clone(), WAIT)
            .await
            .unwrap();
        leaves.push(leaf);
    }
    eventually("the hub trimmed to its gossip mesh", || async {
        let status = hub.market().status().await.unwrap().network;
        // Mesh peers are protected; gossipsub prunes its mesh to 6 once it exceeds 12.
        status.connected_peers < LEAVES && status.connected_peers <= status.gossip_mesh_peers.max(4)
    })
    .await;
    hub.shutdown().await;
    shutdown(leaves).await;
}

/// A connection the node's own limits forbid (here one connection per peer, already used by
/// the bootstrap) is neither a sample nor a network error of `/bench/connect`: it is skipped,
/// named, and a spare peer is timed in its place.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_the_limits_forbid_is_skipped_and_a_spare_is_timed() {
    let (b, c) = (start_node().await, start_node().await);
    let dir = tempfile::tempdir().unwrap();
    let mut config = common::config(dir.path());
    config.network.max_connections_per_peer = 1;
    let a = common::TestNode {
        node: RunningNode::start(config).await.unwrap(),
        dir,
    };
    a.node
        .market()
        .network()
        .bootstrap(b.node.listen_addrs().to_vec(), WAIT)
        .await
        .expect("bootstrap from b");
    let address = |n: &common::TestNode| {
        format!(
            "{}/p2p/{}",
            n.node.listen_addrs()[0],
            n.node.market().peer_id()
        )
    };
    let api = p2p_api::ApiClient::new(&a.node.api_url(), None).unwrap();
    let bench = p2p_api::ConnectBench {
        peers: vec![address(&b), address(&c)],
        timeout_ms: 5_000,
        wanted: Some(1),
    };
    let result = api.connect_bench(&bench).await.unwrap();
    assert_eq!(result.samples.len(), 1, "{result:?}");
    assert!(result.errors.is_empty(), "{result:?}");
    assert_eq!(result.skipped.len(), 1, "{result:?}");
    assert_eq!(
        result.dialed,
        vec![1],
        "c, the spare, was dialed: {result:?}"
    );
    let skipped = &result.skipped[0];
    assert!(
        skipped.contains(&b.node.market().peer_id().to_string())
            && skipped.contains("connection limit exceeded"),
        "{skipped}"
    );

    let beyond = p2p_api::ConnectBench {
        wanted: Some(3),
        ..bench
    };
    let refused = api.connect_bench(&beyond).await.unwrap_err();
    assert!(refused.to_string().contains("wanted"), "{refused}");
    shutdown(vec![a, b, c]).await;
}

/// A publisher that restarted on another port is still installed from: the installer's
/// routing table holds only the old address, the dial fails, and the fetch finds the peer's
/// new address in the DHT (through the peer that knows it) and asks again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_install_finds_a_publisher_that_moved_to_another_port() {
    let hub = start_node().await;
    let hub_addrs = hub.node.listen_addrs().to_vec();
    let publisher = start_node().await;
    let publisher_id = publisher.node.market().peer_id();
    publisher
        .node
        .market()
        .network()
        .bootstrap(hub_addrs.clone(), WAIT)
        .await
        .unwrap();
    let installer = start_node().await;
    let network = installer.node.market().network().clone();
    network.bootstrap(hub_addrs, WAIT).await.unwrap();
    eventually("the installer to meet the publisher", || async {
        network
            .connected_peers()
            .await
            .unwrap()
            .contains(&publisher_id)
    })
    .await;
    publisher
        .node
        .market()
        .publish(
            spec("moved", "1.0.0", "served from a new port", &["move"]),
            b"still here".to_vec(),
        )
        .await
        .unwrap();
    let old_addrs = publisher.node.listen_addrs().to_vec();
    let dir = publisher.dir;
    publisher.node.shutdown().await;
    eventually("the installer to see the publisher go", || async {
        !network
            .connected_peers()
            .await
            .unwrap()
            .contains(&publisher_id)
    })
    .await;

    // Same identity and store, new port; only the hub learns where.
    let restarted = RunningNode::start(common::config(dir.path()))
        .await
        .unwrap();
    assert_ne!(restarted.listen_addrs(), &old_addrs[..]);
    hub.node
        .market()
        .network()
        .bootstrap(restarted.listen_addrs().to_vec(), WAIT)
        .await
        .unwrap();
    let raced = network
        .connected_peers()
        .await
        .unwrap()
        .contains(&publisher_id);
    let installed = installer.node.market().install("moved", None).await;
    let installed = installed.expect("install from the publisher at its new address");
    assert_eq!(
        installed.provider.as_deref(),
        Some(publisher_id.to_string().as_str())
    );
    assert!(
        !raced,
        "the publisher reached the installer before the install; nothing was tested"
    );
    restarted.shutdown().await;
    shutdown(vec![hub, installer]).await;
}
