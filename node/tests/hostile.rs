//! A hostile peer: a rust-libp2p swarm in this test that speaks each of the node's protocols
//! (Kademlia, gossipsub, request-response) and sends what an attacker or a broken peer would:
//! malformed and oversized frames, forged and conflicting manifests and records, floods. The
//! node must not panic or abort, must keep serving honest peers, and must store nothing
//! invalid.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{eventually, shutdown, spec, start_network, start_node, TestNode, WAIT};
use futures::{AsyncReadExt, AsyncWriteExt, StreamExt};
use libp2p::identity::Keypair;
use libp2p::kad::store::{MemoryStore, MemoryStoreConfig};
use libp2p::kad::{self, Quorum, Record, RecordKey};
use libp2p::request_response::{self, cbor, ProtocolSupport};
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{gossipsub, identify, noise, tcp, yamux, Multiaddr, PeerId, StreamProtocol, Swarm};
use p2p_api::SignedManifest;
use p2p_node::market::{keys, InstallError, MAX_REMOTE_NAMES};
use p2p_node::network::protocol::{
    FetchRequest, FetchResponse, GossipMessage, ANNOUNCE_TOPIC, FETCH_PROTOCOL, KAD_PROTOCOL,
    SEARCH_PROTOCOL,
};
use p2p_node::package::{PackageSpec, MAX_REMOTE_PACKAGES};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

/// Request-response with raw bytes: whatever the hostile peer wants to send.
#[derive(Debug, Clone, Default)]
struct RawCodec;

impl request_response::Codec for RawCodec {
    type Protocol = StreamProtocol;
    type Request = Vec<u8>;
    type Response = Vec<u8>;

    async fn read_request<T: futures::AsyncRead + Unpin + Send>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
    ) -> std::io::Result<Vec<u8>> {
        let mut buf = Vec::new();
        io.take(1 << 20).read_to_end(&mut buf).await?;
        Ok(buf)
    }

    async fn read_response<T: futures::AsyncRead + Unpin + Send>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
    ) -> std::io::Result<Vec<u8>> {
        let mut buf = Vec::new();
        io.take(16 << 20).read_to_end(&mut buf).await?;
        Ok(buf)
    }

    async fn write_request<T: futures::AsyncWrite + Unpin + Send>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        req: Vec<u8>,
    ) -> std::io::Result<()> {
        io.write_all(&req).await?;
        io.close().await
    }

    async fn write_response<T: futures::AsyncWrite + Unpin + Send>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        res: Vec<u8>,
    ) -> std::io::Result<()> {
        io.write_all(&res).await?;
        io.close().await
    }
}

#[derive(NetworkBehaviour)]
struct HostileBehaviour {
    kad: libp2p::swarm::behaviour::toggle::Toggle<kad::Behaviour<MemoryStore>>,
    gossipsub: gossipsub::Behaviour,
    identify: identify::Behaviour,
    /// Answers the node's fetches, with whatever bytes the test chose.
    fetch: cbor::Behaviour<FetchRequest, FetchResponse>,
    /// Sends raw frames on the node's request-response protocols.
    raw: request_response::Behaviour<RawCodec>,
}

type Action = Box<dyn FnOnce(&mut Swarm<HostileBehaviour>) + Send>;

/// What the hostile peer saw, for the test to wait on.
#[derive(Debug, Default)]
struct Seen {
    raw_outcomes: usize,
    puts_answered: usize,
    fetches_answered: usize,
    connected_to: Vec<PeerId>,
}

/// A hostile peer driven by a task of its own; the test hands it actions.
struct Hostile {
    key: Keypair,
    peer_id: PeerId,
    actions: mpsc::Sender<Action>,
    seen: Arc<Mutex<Seen>>,
    /// The content it answers fetches with.
    answer: Arc<Mutex<Vec<u8>>>,
}

impl Hostile {
    /// A hostile peer; `with_dht` false leaves Kademlia out, as an unrelated libp2p node would.
    fn start(with_dht: bool) -> Self {
        let key = Keypair::generate_ed25519();
        let peer_id = key.public().to_peer_id();
        let mut swarm = libp2p::SwarmBuilder::with_existing_identity(key.clone())
            .with_tokio()
            .with_tcp(
                tcp::Config::default(),
                noise::Config::new,
                yamux::Config::default,
            )
            .unwrap()
            .with_behaviour(|key| {
                let kad = with_dht.then(|| {
                    let mut config = kad::Config::new(KAD_PROTOCOL);
                    // It must be able to send records larger than the node accepts.
                    config.set_max_packet_size(64 * 1024);
                    let store = MemoryStore::with_config(
                        key.public().to_peer_id(),
                        MemoryStoreConfig {
                            max_value_bytes: 64 * 1024,
                            ..MemoryStoreConfig::default()
                        },
                    );
                    let mut kad =
                        kad::Behaviour::with_config(key.public().to_peer_id(), store, config);
                    kad.set_mode(Some(kad::Mode::Server));
                    kad
                });
                // The network's gossip dialect: unsigned messages known by their content.
                let gossip_config = gossipsub::ConfigBuilder::default()
                    .heartbeat_interval(Duration::from_millis(200))
                    .max_transmit_size(1 << 20)
                    .validation_mode(gossipsub::ValidationMode::Anonymous)
                    .message_id_fn(|m: &gossipsub::Message| {
                        gossipsub::MessageId::new(&Sha256::digest(&m.data))
                    })
                    .build()
                    .unwrap();
                let mut gossipsub = gossipsub::Behaviour::new(
                    gossipsub::MessageAuthenticity::Anonymous,
                    gossip_config,
                )
                .unwrap();
                gossipsub
                    .subscribe(&gossipsub::IdentTopic::new(ANNOUNCE_TOPIC))
                    .unwrap();
                HostileBehaviour {
                    kad: kad.into(),
                    gossipsub,
                    identify: identify::Behaviour::new(identify::Config::new(
                        "/market/1.0.0".into(),
                        key.public(),
                    )),
                    fetch: cbor::Behaviour::new(
                        [(FETCH_PROTOCOL, ProtocolSupport::Inbound)],
                        request_response::Config::default(),
                    ),
                    raw: request_response::Behaviour::new(
                        [
                            (SEARCH_PROTOCOL, ProtocolSupport::Outbound),
                            (FETCH_PROTOCOL, ProtocolSupport::Outbound),
                        ],
                        request_response::Config::default()
                            .with_request_timeout(Duration::from_secs(5)),
                    ),
                }
            })
            .unwrap()
            .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
            .build();
        swarm
            .listen_on("/ip4/127.0.0.1/tcp/0".parse().unwrap())
            .unwrap();
        let (actions, mut inbox) = mpsc::channel::<Action>(64);
        let seen = Arc::new(Mutex::new(Seen::default()));
        let answer = Arc::new(Mutex::new(b"not the real content".to_vec()));
        let (seen_task, answer_task) = (Arc::clone(&seen), Arc::clone(&answer));
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    action = inbox.recv() => match action {
                        Some(action) => action(&mut swarm),
                        None => break,
                    },
                    event = swarm.select_next_some() => {
                        on_event(&mut swarm, event, &seen_task, &answer_task);
                    }
                }
            }
        });
        Self {
            key,
            peer_id,
            actions,
            seen,
            answer,
        }
    }

    async fn act(&self, action: impl FnOnce(&mut Swarm<HostileBehaviour>) + Send + 'static) {
        self.actions.send(Box::new(action)).await.unwrap();
    }

    /// Dials the node and waits until the connection stands and gossip subscriptions had
    /// time to cross.
    async fn connect(&self, node: &TestNode) {
        let addr: Multiaddr = node.node.listen_addrs()[0].clone();
        let peer = node.node.market().peer_id();
        self.act(move |swarm| {
            if let Some(kad) = swarm.behaviour_mut().kad.as_mut() {
                kad.add_address(&peer, addr.clone());
            }
            swarm.dial(addr).unwrap();
        })
        .await;
        let seen = Arc::clone(&self.seen);
        eventually("the hostile peer's connection", || {
            let seen = Arc::clone(&seen);
            async move { seen.lock().unwrap().connected_to.contains(&peer) }
        })
        .await;
        tokio::time::sleep(Duration::from_millis(600)).await;
    }

    async fn gossip(&self, data: Vec<u8>) {
        self.act(move |swarm| {
            let topic = gossipsub::IdentTopic::new(ANNOUNCE_TOPIC);
            // Errors (a duplicate, no peer yet) do not matter to an attacker.
            let _ = swarm.behaviour_mut().gossipsub.publish(topic, data);
        })
        .await;
    }

    async fn put_record(&self, node: PeerId, record: Record) {
        self.act(move |swarm| {
            if let Some(kad) = swarm.behaviour_mut().kad.as_mut() {
                kad.put_record_to(record, std::iter::once(node), Quorum::One);
            }
        })
        .await;
    }

    /// Sends raw bytes as a request on the node's search protocol.
    async fn raw_request(&self, node: PeerId, bytes: Vec<u8>) {
        self.act(move |swarm| {
            swarm.behaviour_mut().raw.send_request(&node, bytes);
        })
        .await;
    }

    /// A manifest of `name` signed by this peer's key.
    fn manifest(&self, name: &str, version: &str, content: &[u8]) -> SignedManifest {
        PackageSpec::new(name, version, "a hostile package", &[])
            .unwrap()
            .sign(content, &self.key, 0)
            .unwrap()
    }

    async fn wait_for(&self, what: &str, check: impl Fn(&Seen) -> bool) {
        let deadline = tokio::time::Instant::now() + WAIT;
        while !check(&self.seen.lock().unwrap()) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for {what}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn on_event(
    swarm: &mut Swarm<HostileBehaviour>,
    event: SwarmEvent<HostileBehaviourEvent>,
    seen: &Mutex<Seen>,
    answer: &Mutex<Vec<u8>>,
) {
    match event {
        SwarmEvent::ConnectionEstablished { peer_id, .. } => {
            seen.lock().unwrap().connected_to.push(peer_id);
        }
        SwarmEvent::Behaviour(HostileBehaviourEvent::Raw(
            request_response::Event::Message {
                message: request_response::Message::Response { .. },
                ..
            }
            | request_response::Event::OutboundFailure { .. },
        )) => seen.lock().unwrap().raw_outcomes += 1,
        SwarmEvent::Behaviour(HostileBehaviourEvent::Kad(
            kad::Event::OutboundQueryProgressed {
                result: kad::QueryResult::PutRecord(_),
                ..
            },
        )) => seen.lock().unwrap().puts_answered += 1,
        SwarmEvent::Behaviour(HostileBehaviourEvent::Fetch(request_response::Event::Message {
            message: request_response::Message::Request { channel, .. },
            ..
        })) => {
            let content = answer.lock().unwrap().clone();
            let _ = swarm.behaviour_mut().fetch.send_response(
                channel,
                FetchResponse {
                    content: Some(serde_bytes::ByteBuf::from(content)),
                },
            );
            seen.lock().unwrap().fetches_answered += 1;
        }
        _ => {}
    }
}

fn record_of(key: Vec<u8>, value: Vec<u8>) -> Record {
    Record::new(RecordKey::new(&key), value)
}

fn announce(package: &SignedManifest) -> Vec<u8> {
    serde_json::to_vec(&GossipMessage::Announce {
        package: package.clone(),
        sent_unix_nanos: 0,
    })
    .unwrap()
}

async fn rejections(node: &TestNode, source: &'static str, reason: &'static str) -> u64 {
    node.node.market().metrics().rejections(source, reason)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_oversized_frames_do_not_hurt_the_node() {
    let nodes = start_network(2).await;
    let (honest, target) = (&nodes[0], &nodes[1]);
    let published = honest
        .node
        .market()
        .publish(
            spec("honest", "1.0.0", "a real package", &[]),
            b"real".to_vec(),
        )
        .await
        .unwrap();
    assert!(published.dht_record_stored);
    let hostile = Hostile::start(true);
    hostile.connect(target).await;
    let node = target.node.market().peer_id();
    let frames: Vec<Vec<u8>> = vec![
        Vec::new(),
        b"\xff\xff\xff garbage".to_vec(),
        // A CBOR map claiming 2^64 entries.
        vec![0xbb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        vec![0x42; 1 << 20],
    ];
    let sent = frames.len();
    for frame in frames {
        hostile.raw_request(node, frame).await;
    }
    hostile
        .wait_for("answers to the raw frames", |s| s.raw_outcomes >= sent)
        .await;
    // Still serving honest peers.
    let status = target.node.market().status().await.unwrap();
    assert!(status.network.connected_peers >= 1);
    let found = target.node.market().lookup("honest", None).await.unwrap();
    assert_eq!(found.package, published.package);
    let installed = target.node.market().install("honest", None).await.unwrap();
    assert!(installed.provider.is_some());
    shutdown(nodes).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_invalid_and_conflicting_records_are_refused_and_counted() {
    let nodes = start_network(3).await;
    let (owner, target, other) = (&nodes[0], &nodes[1], &nodes[2]);
    let published = owner
        .node
        .market()
        .publish(
            spec("owned", "1.0.0", "the owner's package", &[]),
            b"mine".to_vec(),
        )
        .await
        .unwrap()
        .package;
    eventually("the owner's record at the target", || async {
        target.node.market().owners().owner("owned") == Some(owner.node.market().peer_id())
    })
    .await;
    let hostile = Hostile::start(true);
    hostile.connect(target).await;
    let node = target.node.market().peer_id();

    let theirs = hostile.manifest("owned", "1.0.0", b"theirs");
    let later = hostile.manifest("owned", "9.9.9", b"theirs");
    let v1 = semver::Version::new(1, 0, 0);
    let mut forged = hostile.manifest("forged", "1.0.0", b"x");
    forged.manifest.description = "changed after signing".into();
    let elsewhere = hostile.manifest("elsewhere", "1.0.0", b"x");
    let mut huge = hostile.manifest("huge", "1.0.0", b"x");
    huge.signature = "ab".repeat(6 * 1024);
    let records = [
        // Another key's manifests of a name the owner holds.
        record_of(
            keys::version_record("owned", &v1),
            serde_json::to_vec(&theirs).unwrap(),
        ),
        record_of(
            keys::latest_record("owned"),
            serde_json::to_vec(&later).unwrap(),
        ),
        // A signature that does not verify.
        record_of(
            keys::latest_record("forged"),
            serde_json::to_vec(&forged).unwrap(),
        ),
        // A valid manifest under the key of another name.
        record_of(
            keys::latest_record("misnamed"),
            serde_json::to_vec(&elsewhere).unwrap(),
        ),
        // Too large for a record.
        record_of(
            keys::latest_record("huge"),
            serde_json::to_vec(&huge).unwrap(),
        ),
        // Not a manifest; and not a key of ours.
        record_of(keys::latest_record("garbage"), b"{{{{".to_vec()),
        record_of(b"/other/key".to_vec(), b"x".to_vec()),
    ];
    let count = records.len();
    for record in records {
        hostile.put_record(node, record).await;
    }
    hostile
        .wait_for("the node's answers to the puts", |s| {
            s.puts_answered >= count
        })
        .await;
    eventually("the refusals counted", || async {
        rejections(target, "dht", "conflict").await >= 2
            && rejections(target, "dht", "invalid").await >= 5
    })
    .await;

    for seeker in [target, other] {
        let found = seeker.node.market().lookup("owned", None).await.unwrap();
        assert_eq!(
            found.package, published,
            "the owner's record is what a lookup finds"
        );
        assert_eq!(
            seeker
                .node
                .market()
                .lookup("owned", Some(&v1))
                .await
                .unwrap()
                .package,
            published
        );
    }
    for name in ["forged", "misnamed", "huge", "garbage"] {
        assert!(
            target.node.market().lookup(name, None).await.is_err(),
            "{name}"
        );
    }
    let status = target.node.market().status().await.unwrap();
    assert_eq!(
        status.network.dht_records, 2,
        "only the owner's two records"
    );
    shutdown(nodes).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_and_conflicting_gossip_is_refused_and_counted() {
    let nodes = start_network(2).await;
    let (owner, target) = (&nodes[0], &nodes[1]);
    owner
        .node
        .market()
        .publish(spec("owned", "1.0.0", "the owner's", &[]), b"mine".to_vec())
        .await
        .unwrap();
    eventually("the announcement at the target", || async {
        target.node.market().known("owned", None).is_some()
    })
    .await;
    let hostile = Hostile::start(true);
    hostile.connect(target).await;

    let mut forged = hostile.manifest("forged", "1.0.0", b"x");
    forged.manifest.size = 2;
    hostile.gossip(b"not json at all".to_vec()).await;
    hostile.gossip(announce(&forged)).await;
    hostile
        .gossip(announce(&hostile.manifest("owned", "9.9.9", b"theirs")))
        .await;
    hostile
        .gossip(br#"{"kind":"announce","package":{"name":"x"},"sent_unix_nanos":1}"#.to_vec())
        .await;
    eventually("the refusals counted", || async {
        rejections(target, "gossip", "invalid").await >= 3
            && rejections(target, "gossip", "conflict").await >= 1
    })
    .await;
    let known = target.node.market().known("owned", None).unwrap();
    assert_eq!(
        known.package.manifest.version,
        semver::Version::new(1, 0, 0)
    );
    assert!(target.node.market().known("forged", None).is_none());
    assert_eq!(
        target.node.market().status().await.unwrap().packages_known,
        1
    );
    shutdown(nodes).await;
}

/// Gossip is judged before it is forwarded: what the first honest peer refuses goes no
/// further, what it accepts reaches the rest of the network.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_gossip_stops_at_the_first_honest_peer() {
    let nodes = start_network(2).await;
    let (first, beyond) = (&nodes[0], &nodes[1]);
    // No DHT: the hostile peer stays unknown to the peer beyond.
    let hostile = Hostile::start(false);
    hostile.connect(first).await;
    eventually("the hostile peer in the first peer's mesh", || async {
        first
            .node
            .market()
            .status()
            .await
            .unwrap()
            .network
            .gossip_mesh_peers
            >= 2
    })
    .await;

    let junk: Vec<Vec<u8>> = vec![
        b"not json at all".to_vec(),
        br#"{"kind":"probe","origin":"not a peer id","id":1,"sent_unix_nanos":1,"padding":""}"#
            .to_vec(),
        {
            let mut forged = hostile.manifest("forged-gossip", "1.0.0", b"x");
            forged.manifest.size = 2;
            announce(&forged)
        },
    ];
    for message in junk {
        hostile.gossip(message).await;
    }
    let valid = serde_json::to_vec(&GossipMessage::Probe {
        origin: hostile.peer_id.to_base58(),
        id: 42,
        sent_unix_nanos: 0,
        padding: String::new(),
    })
    .unwrap();
    hostile.gossip(valid).await;

    let wanted = format!("{}/42", hostile.peer_id.to_base58());
    eventually("the junk refused and the valid probe beyond", || async {
        rejections(first, "gossip", "invalid").await >= 3
            && beyond
                .node
                .market()
                .gossip_log()
                .snapshot()
                .iter()
                .any(|s| s.id == wanted)
    })
    .await;
    assert_eq!(
        rejections(beyond, "gossip", "invalid").await,
        0,
        "junk was forwarded past the peer that refused it"
    );
    shutdown(nodes).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_announces_and_records_stays_within_the_caps() {
    let target = start_node().await;
    let hostile = Hostile::start(true);
    hostile.connect(&target).await;
    let node = target.node.market().peer_id();

    // More valid-looking announcements than the index keeps of packages stored elsewhere.
    let flood = MAX_REMOTE_PACKAGES + 500;
    for batch in 0..flood / 500 {
        for i in 0..500 {
            let m = hostile.manifest(&format!("flood-{batch}-{i}"), "1.0.0", b"x");
            hostile.gossip(announce(&m)).await;
        }
        // Let gossipsub drain its queue before the next batch.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eventually("the flood to arrive", || async {
        let status = target.node.market().status().await.unwrap();
        status.packages_known >= MAX_REMOTE_PACKAGES
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let status = target.node.market().status().await.unwrap();
    assert!(
        status.packages_known <= MAX_REMOTE_PACKAGES,
        "{} packages known",
        status.packages_known
    );
    assert!(target.node.market().owners().len() <= MAX_REMOTE_NAMES);

    // More records from one key than its share of the DHT store.
    let per_owner = p2p_node::network::StoreLimits::default().max_records_per_owner;
    for i in 0..per_owner + 50 {
        let m = hostile.manifest(&format!("rec-{i}"), "1.0.0", b"x");
        let record = record_of(
            keys::latest_record(&m.manifest.name),
            serde_json::to_vec(&m).unwrap(),
        );
        hostile.put_record(node, record).await;
    }
    hostile
        .wait_for("the node's answers to the puts", |s| {
            s.puts_answered >= per_owner + 50
        })
        .await;
    let status = target.node.market().status().await.unwrap();
    assert_eq!(status.network.dht_records, per_owner);
    assert!(rejections(&target, "dht", "limit").await >= 50);
    assert!(target.node.market().status().await.is_ok());
    target.node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_peers_that_speak_the_dht_enter_the_routing_table() {
    let target = start_node().await;
    let stranger = Hostile::start(false);
    stranger.connect(&target).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let status = target.node.market().status().await.unwrap();
    assert!(status.network.connected_peers >= 1);
    assert_eq!(
        status.network.routing_table_size, 0,
        "a peer without the DHT was added"
    );

    let peer = Hostile::start(true);
    peer.connect(&target).await;
    eventually("the DHT peer in the routing table", || async {
        target
            .node
            .market()
            .status()
            .await
            .unwrap()
            .network
            .routing_table_size
            == 1
    })
    .await;
    target.node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_that_sends_wrong_bytes_is_rejected_and_nothing_is_stored() {
    let mut nodes = start_network(3).await;
    let content = b"the real content".to_vec();
    let published = nodes[0]
        .node
        .market()
        .publish(spec("fetched", "1.0.0", "", &[]), content.clone())
        .await
        .unwrap()
        .package;
    let hostile = Hostile::start(true);
    hostile.connect(&nodes[1]).await;
    hostile.connect(&nodes[2]).await;
    *hostile.answer.lock().unwrap() = vec![0u8; content.len()];
    // The hostile peer claims to provide the content, and the real publisher goes away.
    let key = RecordKey::new(&keys::content(&published.manifest.sha256));
    hostile
        .act(move |swarm| {
            if let Some(kad) = swarm.behaviour_mut().kad.as_mut() {
                kad.start_providing(key).unwrap();
            }
        })
        .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let publisher = nodes.remove(0);
    publisher.node.shutdown().await;

    let victim = nodes[1].node.market();
    let err = victim.install("fetched", None).await.unwrap_err();
    let InstallError::AllProvidersFailed { rejected, .. } = &err else {
        panic!("expected every provider to fail, got {err}");
    };
    assert!(
        rejected
            .iter()
            .any(|r| r.contains(&hostile.peer_id.to_base58()) && r.contains("checksum mismatch")),
        "{rejected:?}"
    );
    assert_eq!(victim.status().await.unwrap().packages_stored, 0);
    assert!(!nodes[1]
        .dir
        .path()
        .join("blobs")
        .join(&published.manifest.sha256)
        .exists());
    shutdown(nodes).await;
}
