//! The composed `NetworkBehaviour` and the swarm built around it.

use std::sync::Arc;

use libp2p::core::transport::MemoryTransport;
use libp2p::core::upgrade;
use libp2p::identity::Keypair;
use libp2p::kad::store::{MemoryStore, MemoryStoreConfig};
use libp2p::request_response::{self, cbor, ProtocolSupport};
use libp2p::swarm::NetworkBehaviour;
use libp2p::{
    connection_limits, gossipsub, identify, kad, noise, ping, tcp, yamux, Swarm, Transport,
};
use prometheus_client::registry::Registry;
use sha2::{Digest, Sha256};

use super::config::{NetworkConfig, TransportKind};
use super::error::{cause, NetworkError};
use super::protocol::{
    FetchRequest, FetchResponse, SearchRequest, SearchResponse, ANNOUNCE_TOPIC, FETCH_PROTOCOL,
    IDENTIFY_PROTOCOL, KAD_PROTOCOL, SEARCH_PROTOCOL,
};
use super::tcp_dial::TcpDialFromListenIp;
use p2p_api::limits::MAX_CONTENT_BYTES;

/// DHT messages carry small signed records only, never content (DESIGN.md).
pub(super) const KAD_MAX_PACKET_BYTES: usize = 16 * 1024;
/// Largest gossip message: a signed manifest with room to spare, or a benchmark probe with
/// its largest padding.
const GOSSIP_MAX_BYTES: usize = 128 * 1024;
/// Search responses carry at most a few hundred manifests.
const SEARCH_MAX_RESPONSE_BYTES: u64 = 4 * 1024 * 1024;
/// Requests are a query or a hash: small.
const MAX_REQUEST_BYTES: u64 = 4 * 1024;
/// Inbound request-response streams a connection may hold open at once.
const MAX_CONCURRENT_STREAMS: usize = 32;

#[derive(NetworkBehaviour)]
pub(super) struct MarketBehaviour {
    pub(super) limits: connection_limits::Behaviour,
    pub(super) kad: kad::Behaviour<MemoryStore>,
    pub(super) gossipsub: gossipsub::Behaviour,
    pub(super) identify: identify::Behaviour,
    pub(super) ping: ping::Behaviour,
    pub(super) search: cbor::Behaviour<SearchRequest, SearchResponse>,
    pub(super) fetch: cbor::Behaviour<FetchRequest, FetchResponse>,
}

/// How often an otherwise silent QUIC connection sends a PING.
const QUIC_KEEP_ALIVE: std::time::Duration = std::time::Duration::from_secs(30);
/// How long a QUIC connection lives without receiving a packet: past three keep-alives.
const QUIC_MAX_IDLE: std::time::Duration = std::time::Duration::from_secs(95);

/// How long a pruned peer waits before grafting the same peer again.
const GOSSIP_PRUNE_BACKOFF: std::time::Duration = std::time::Duration::from_secs(5);

impl MarketBehaviour {
    fn new(key: &Keypair, config: &NetworkConfig) -> Result<Self, NetworkError> {
        let peer_id = key.public().to_peer_id();

        let limits = connection_limits::ConnectionLimits::default()
            .with_max_established(Some(config.max_connections))
            .with_max_established_per_peer(Some(config.max_connections_per_peer))
            .with_max_pending_incoming(Some(config.max_connections.min(128)))
            .with_max_pending_outgoing(Some(config.max_connections.min(128)));

        let mut kad_config = kad::Config::new(KAD_PROTOCOL);
        kad_config
            .set_max_packet_size(KAD_MAX_PACKET_BYTES)
            .set_query_timeout(config.query_timeout)
            // The refresh runs on the node's own timer (`bootstraps.rs`).
            .set_periodic_bootstrap_interval(None)
            // Every record and provider record a peer sends comes to the event loop, which
            // checks it against the record policy and the store's quotas before storing it.
            .set_record_filtering(kad::StoreInserts::FilterBoth);
        let store_limits = config.store;
        let store_config = MemoryStoreConfig {
            max_records: store_limits.max_records,
            max_value_bytes: store_limits.max_record_bytes,
            max_provided_keys: store_limits.max_provider_keys,
            max_providers_per_key: store_limits.max_providers_per_key,
        };
        let store = MemoryStore::with_config(peer_id, store_config);
        let mut kad = kad::Behaviour::with_config(peer_id, store, kad_config);
        // A testbed has no confirmed external address: serve the DHT regardless.
        kad.set_mode(Some(kad::Mode::Server));

        // Messages are not signed by gossipsub: what they carry authenticates itself (a
        // package announcement is a manifest its publisher signed, verified once by the
        // marketplace), and a signature per message cost every peer a verification for every
        // copy it received, duplicates included (about six per message with the default
        // mesh), before the duplicates were dropped. Messages are known by a hash of their
        // content, and forwarded only once the marketplace has judged them valid, so junk
        // does not travel further than the first honest peer. Ethereum's consensus layer
        // runs gossipsub the same way (`StrictNoSign`, content-addressed ids).
        let gossip_config = gossipsub::ConfigBuilder::default()
            .heartbeat_interval(config.gossip_heartbeat)
            .validation_mode(gossipsub::ValidationMode::Anonymous)
            .message_id_fn(|message: &gossipsub::Message| {
                let digest = Sha256::digest(&message.data);
                gossipsub::MessageId::new(&digest[..20])
            })
            .validate_messages()
            .max_transmit_size(GOSSIP_MAX_BYTES)
            // After a PRUNE a peer may not GRAFT the pruner again for this long (spec default
            // 60 s). When a new network forms, well-connected peers prune their excess grafts
            // all at once; a peer pruned by every peer it knows was left without a mesh for a
            // minute (seen as a 1-in-10 failure of the 20-node test). Shorter lets meshes heal
            // within a few heartbeats.
            .prune_backoff(GOSSIP_PRUNE_BACKOFF)
            .build()
            .map_err(|e| NetworkError::Build {
                what: "gossipsub config",
                source: cause(e),
            })?;
        let mut gossipsub =
            gossipsub::Behaviour::new(gossipsub::MessageAuthenticity::Anonymous, gossip_config)
                .map_err(|e| NetworkError::Build {
                    what: "gossipsub",
                    source: Arc::from(Box::<dyn std::error::Error + Send + Sync>::from(e)),
                })?;
        gossipsub
            .subscribe(&gossipsub::IdentTopic::new(ANNOUNCE_TOPIC))
            .map_err(|e| NetworkError::Build {
                what: "gossipsub subscription",
                source: cause(e),
            })?;

        // No cache of peers' addresses in identify: it hands every listen address a peer
        // reports to each dial of that peer, loopback ones included, so that nodes in
        // containers dialed 127.0.0.1 and reached themselves ("Unexpected peer ID", 538 dials
        // in one 100-peer run). Kademlia keeps the addresses worth dialing (`on_identify`).
        let identify = identify::Behaviour::new(
            identify::Config::new(IDENTIFY_PROTOCOL.to_owned(), key.public())
                .with_agent_version(format!("p2p-node/{}", env!("CARGO_PKG_VERSION")))
                .with_cache_size(0),
        );

        let rr_config = request_response::Config::default()
            .with_request_timeout(config.request_timeout)
            .with_max_concurrent_streams(MAX_CONCURRENT_STREAMS);
        let search = cbor::Behaviour::with_codec(
            cbor::codec::Codec::default()
                .set_request_size_maximum(MAX_REQUEST_BYTES)
                .set_response_size_maximum(SEARCH_MAX_RESPONSE_BYTES),
            [(SEARCH_PROTOCOL, ProtocolSupport::Full)],
            rr_config.clone(),
        );
        let fetch = cbor::Behaviour::with_codec(
            cbor::codec::Codec::default()
                .set_request_size_maximum(MAX_REQUEST_BYTES)
                .set_response_size_maximum((MAX_CONTENT_BYTES + 64 * 1024) as u64),
            [(FETCH_PROTOCOL, ProtocolSupport::Full)],
            rr_config,
        );

        Ok(Self {
            limits: connection_limits::Behaviour::new(limits),
            kad,
            gossipsub,
            identify,
            ping: ping::Behaviour::new(ping::Config::new().with_interval(config.ping_interval)),
            search,
            fetch,
        })
    }
}

/// Peers in the routing table.
pub(super) fn routing_table_size(kad: &mut kad::Behaviour<MemoryStore>) -> usize {
    kad.kbuckets().map(|bucket| bucket.num_entries()).sum()
}

pub(super) fn build_swarm(
    keypair: Keypair,
    config: &NetworkConfig,
    registry: &mut Registry,
) -> Result<Swarm<MarketBehaviour>, NetworkError> {
    let builder = libp2p::SwarmBuilder::with_existing_identity(keypair).with_tokio();
    // Substreams are opened lazily: the protocol is proposed together with the first
    // message instead of waiting a round trip for the listener to confirm it, so a request
    // on a live connection costs one round trip, not two. A peer that does not speak the
    // protocol fails the stream just the same, only a little later.
    let swarm_config = |c: libp2p::swarm::Config| {
        c.with_idle_connection_timeout(config.idle_timeout)
            .with_substream_upgrade_protocol_override(upgrade::Version::V1Lazy)
    };
    let behaviour = |key: &Keypair| MarketBehaviour::new(key, config).map_err(Box::from);
    fn build_err<E: std::error::Error + Send + Sync + 'static>(
        what: &'static str,
    ) -> impl FnOnce(E) -> NetworkError {
        move |e| NetworkError::Build {
            what,
            source: cause(e),
        }
    }
    let swarm = match config.transport {
        TransportKind::Ip => builder
            .with_quic_config(|quic| {
                // QUIC keeps a connection alive with its own PINGs, every 5 s by default, and
                // closes it after 10 s without a packet. The swarm's idle timeout decides
                // when a connection is no longer wanted; these only have to outlast it
                // without costing an idle network a packet per connection every few
                // seconds (TCP needs no keep-alive at all).
                let mut quic = quic;
                quic.keep_alive_interval = QUIC_KEEP_ALIVE;
                quic.max_idle_timeout = QUIC_MAX_IDLE.as_millis() as u32;
                quic
            })
            .with_other_transport(|key| {
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(
                    TcpDialFromListenIp::new(tcp::Config::default().nodelay(true), &config.listen)
                        .upgrade(upgrade::Version::V1Lazy)
                        .authenticate(noise::Config::new(key)?)
                        .multiplex(yamux::Config::default()),
                )
            })
            .map_err(build_err("transport"))?
            .with_bandwidth_metrics(registry)
            .with_behaviour(behaviour)
            .map_err(build_err("behaviour"))?
            .with_swarm_config(swarm_config)
            .build(),
        TransportKind::Memory => builder
            .with_other_transport(|key| {
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(
                    MemoryTransport::default()
                        .upgrade(upgrade::Version::V1)
                        .authenticate(noise::Config::new(key)?)
                        .multiplex(yamux::Config::default()),
                )
            })
            .map_err(build_err("transport"))?
            .with_bandwidth_metrics(registry)
            .with_behaviour(behaviour)
            .map_err(build_err("behaviour"))?
            .with_swarm_config(swarm_config)
            .build(),
    };
    Ok(swarm)
}
