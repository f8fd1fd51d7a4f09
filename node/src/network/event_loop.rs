//! The only owner of the `Swarm`: turns commands into swarm calls and swarm events into
//! replies and inbound [`Event`]s.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant, SystemTime};

use futures::StreamExt;
use libp2p::kad::store::RecordStore;
use libp2p::kad::{
    self, GetProvidersOk, GetRecordOk, InboundRequest, QueryId, QueryResult, RecordKey,
};
use libp2p::metrics::Recorder;
use libp2p::multiaddr::Protocol;
use libp2p::request_response::{self, OutboundRequestId, ResponseChannel};
use libp2p::swarm::dial_opts::{DialOpts, PeerCondition};
use libp2p::swarm::{ConnectionId, DialError, SwarmEvent};
use libp2p::{connection_limits, gossipsub, identify, Multiaddr, PeerId, Swarm};
use tokio::sync::{mpsc, watch};

use p2p_api::{BootstrapOutcome, NetworkStatus};

use super::behaviour::{routing_table_size, MarketBehaviour, MarketBehaviourEvent};
use super::bootstraps::{Bootstraps, Purpose};
use super::command::{Command, RecordLookup, Reply};
use super::config::NetworkConfig;
use super::connection_manager::ConnectionManager;
use super::error::{cause, NetworkError};
use super::event::Event;
use super::fetch_retry::FetchRetries;
use super::protocol::{FetchResponse, SearchResponse, ANNOUNCE_TOPIC, KAD_PROTOCOL};
use super::record_put::RecordPuts;
use super::store_guard::StoreGuard;
use crate::metrics::Metrics;

/// A DHT lookup in flight. A record this node holds itself is kept aside: the lookup waits
/// for a copy from the network, so that its latency measures the network, and falls back to
/// the local copy only when no peer has one.
struct PendingLookup {
    reply: Reply<RecordLookup>,
    local: Option<Vec<u8>>,
}

/// A provider lookup in flight: it gathers providers until it has enough to fall back on if
/// one of them fails, or the query ends.
struct PendingProviders {
    reply: Reply<HashSet<PeerId>>,
    found: HashSet<PeerId>,
}

/// A bootstrap waiting for dials to addresses given without a peer id.
struct PendingDials {
    dials: HashSet<ConnectionId>,
    errors: Vec<String>,
    started: Instant,
    reply: Reply<BootstrapOutcome>,
}

/// Providers an install wants before it starts fetching.
const ENOUGH_PROVIDERS: usize = 3;
/// How often the connection manager looks for connections to trim.
const TRIM_INTERVAL: Duration = Duration::from_secs(1);
/// How often the store's quotas forget records that expired.
const RECONCILE_INTERVAL: Duration = Duration::from_secs(60);

pub struct EventLoop {
    swarm: Swarm<MarketBehaviour>,
    commands: mpsc::Receiver<Command>,
    events: mpsc::Sender<Event>,
    metrics: Metrics,
    libp2p_metrics: libp2p::metrics::Metrics,
    topic: gossipsub::IdentTopic,
    connections: ConnectionManager,
    store_guard: StoreGuard,
    bootstraps: Bootstraps,
    pending_bootstrap: HashMap<QueryId, (Instant, Reply<BootstrapOutcome>)>,
    pending_dials: Vec<PendingDials>,
    /// Connections opened to be timed, with when they were dialed.
    pending_connects: HashMap<ConnectionId, (Instant, PeerId, Reply<Duration>)>,
    record_puts: RecordPuts,
    fetch_retries: FetchRetries,
    pending_get_record: HashMap<QueryId, PendingLookup>,
    pending_start_providing: HashMap<QueryId, Reply<()>>,
    pending_get_providers: HashMap<QueryId, PendingProviders>,
    pending_search: HashMap<OutboundRequestId, Reply<SearchResponse>>,
    pending_fetch: HashMap<OutboundRequestId, Reply<FetchResponse>>,
}

impl EventLoop {
    pub(super) fn new(
        swarm: Swarm<MarketBehaviour>,
        commands: mpsc::Receiver<Command>,
        events: mpsc::Sender<Event>,
        metrics: Metrics,
        libp2p_metrics: libp2p::metrics::Metrics,
        config: &NetworkConfig,
        store_guard: StoreGuard,
    ) -> Self {
        Self {
            swarm,
            connections: ConnectionManager::new(config.watermarks, config.connection_grace),
            store_guard,
            bootstraps: Bootstraps::new(config.periodic_bootstrap),
            commands,
            events,
            metrics,
            libp2p_metrics,
            topic: gossipsub::IdentTopic::new(ANNOUNCE_TOPIC),
            pending_bootstrap: HashMap::new(),
            pending_dials: Vec::new(),
            pending_connects: HashMap::new(),
            record_puts: RecordPuts::default(),
            fetch_retries: FetchRetries::default(),
            pending_get_record: HashMap::new(),
            pending_start_providing: HashMap::new(),
            pending_get_providers: HashMap::new(),
            pending_search: HashMap::new(),
            pending_fetch: HashMap::new(),
        }
    }

    /// Runs until `stop` turns true or every [`Client`](super::Client) has been dropped.
    pub async fn run(mut self, mut stop: watch::Receiver<bool>) {
        let mut trim = tokio::time::interval(TRIM_INTERVAL);
        trim.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut reconcile = tokio::time::interval(RECONCILE_INTERVAL);
        reconcile.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = stop.wait_for(|stopped| *stopped) => break,
                _ = trim.tick() => self.trim_connections(),
                _ = reconcile.tick() => {
                    let store = self.swarm.behaviour_mut().kad.store_mut();
                    self.store_guard.reconcile(store);
                }
                _ = self.bootstraps.refresh_due() => self.refresh_routing_table(),
                event = self.swarm.select_next_some() => {
                    self.on_swarm_event(event);
                    let kad = &mut self.swarm.behaviour_mut().kad;
                    let cut = self.bootstraps.cut_others(kad);
                    self.metrics.bootstraps_cut.inc_by(cut);
                }
                command = self.commands.recv() => match command {
                    Some(command) => self.on_command(command),
                    None => break,
                },
            }
        }
        tracing::debug!("network event loop stopped");
    }

    fn on_swarm_event(&mut self, event: SwarmEvent<MarketBehaviourEvent>) {
        self.metrics.swarm_events.inc();
        self.libp2p_metrics.record(&event);
        match event {
            SwarmEvent::Behaviour(MarketBehaviourEvent::Kad(e)) => {
                self.libp2p_metrics.record(&e);
                self.on_kad(e);
            }
            SwarmEvent::Behaviour(MarketBehaviourEvent::Gossipsub(e)) => {
                self.libp2p_metrics.record(&e);
                self.on_gossipsub(e);
            }
            SwarmEvent::Behaviour(MarketBehaviourEvent::Identify(e)) => {
                self.libp2p_metrics.record(&e);
                self.on_identify(e);
            }
            SwarmEvent::Behaviour(MarketBehaviourEvent::Ping(e)) => self.libp2p_metrics.record(&e),
            SwarmEvent::Behaviour(MarketBehaviourEvent::Search(e)) => {
                self.touch_request_peer(&e);
                on_request_response(
                    e,
                    &mut self.pending_search,
                    &self.events,
                    |peer, request, channel| Event::InboundSearch {
                        peer,
                        request,
                        channel,
                    },
                );
            }
            SwarmEvent::Behaviour(MarketBehaviourEvent::Fetch(e)) => {
                self.touch_request_peer(&e);
                let kad = &mut self.swarm.behaviour_mut().kad;
                let Some(e) = self.fetch_retries.on_event(e, &mut self.pending_fetch, kad) else {
                    return;
                };
                on_request_response(
                    e,
                    &mut self.pending_fetch,
                    &self.events,
                    |peer, request, channel| Event::InboundFetch {
                        peer,
                        request,
                        channel,
                    },
                );
            }
            SwarmEvent::Behaviour(MarketBehaviourEvent::Limits(never)) => match never {},
            SwarmEvent::ConnectionEstablished {
                peer_id,
                connection_id,
                endpoint,
                ..
            } => {
                let peers = self.swarm.network_info().num_peers();
                self.metrics.connected_peers.set(peers as i64);
                self.connections.connected(peer_id, Instant::now());
                if let Some((dialed, _, reply)) = self.pending_connects.remove(&connection_id) {
                    let _ = reply.send(Ok(dialed.elapsed()));
                    self.swarm.close_connection(connection_id);
                }
                let address = endpoint.get_remote_address().clone();
                self.on_dial_done(connection_id, Ok((peer_id, address)));
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                cause,
                num_established,
                ..
            } => {
                tracing::debug!(local = %self.swarm.local_peer_id(), %peer_id, ?cause, "connection closed");
                if num_established == 0 {
                    self.connections.disconnected(&peer_id);
                }
                let peers = self.swarm.network_info().num_peers();
                self.metrics.connected_peers.set(peers as i64);
            }
            SwarmEvent::NewListenAddr { address, .. } => {
                tracing::info!(%address, "listening");
            }
            SwarmEvent::OutgoingConnectionError {
                peer_id,
                connection_id,
                error,
            } => {
                tracing::debug!(local = %self.swarm.local_peer_id(), ?peer_id, %error, "dial failed");
                let message = error.to_string();
                if let Some((_, peer, reply)) = self.pending_connects.remove(&connection_id) {
                    let _ = reply.send(Err(connect_error(peer, error)));
                }
                self.on_dial_done(connection_id, Err(message));
            }
            _ => {}
        }
    }

    fn on_kad(&mut self, event: kad::Event) {
        match event {
            kad::Event::OutboundQueryProgressed {
                id,
                result,
                stats,
                step,
            } => self.on_query_progress(id, result, &stats, step),
            kad::Event::RoutingUpdated { .. } => {
                let size = self.routing_table_size();
                self.metrics.routing_table_peers.set(size as i64);
            }
            kad::Event::InboundRequest { request } => self.on_inbound_kad(request),
            _ => {}
        }
    }

    /// A record or provider record a peer asks this node to store: checked against the record
    /// policy and the store's quotas; what fails is counted and dropped.
    fn on_inbound_kad(&mut self, request: InboundRequest) {
        let outcome = match request {
            InboundRequest::PutRecord {
                source,
                record: Some(record),
                ..
            } => {
                self.connections.touch(&source, Instant::now());
                let store = self.swarm.behaviour_mut().kad.store_mut();
                self.store_guard.put(store, record)
            }
            InboundRequest::AddProvider {
                record: Some(record),
            } => {
                let store = self.swarm.behaviour_mut().kad.store_mut();
                self.store_guard.add_provider(store, record)
            }
            _ => Ok(()),
        };
        if let Err(refusal) = outcome {
            self.metrics.rejected("dht", refusal.as_str());
        }
    }

    fn on_query_progress(
        &mut self,
        id: QueryId,
        result: QueryResult,
        stats: &kad::QueryStats,
        step: kad::ProgressStep,
    ) {
        let last = step.last;
        fn kad_err<E: std::error::Error + Send + Sync + 'static>(
            op: &'static str,
            e: E,
        ) -> NetworkError {
            NetworkError::Kademlia {
                op,
                source: cause(e),
            }
        }
        match result {
            // A bootstrap is a lookup of this node's own id, which fills the routing table
            // with its neighbourhood and makes this node known to it, followed by a lookup per
            // farther bucket. The node has joined once the first one is done: the refreshes
            // go on in the background and are not waited for.
            QueryResult::Bootstrap(result) => {
                let kad = &mut self.swarm.behaviour_mut().kad;
                self.bootstraps.progressed(id, last, kad);
                if !(step.count.get() == 1 || last || result.is_err()) {
                    return;
                }
                if let Some((started, reply)) = self.pending_bootstrap.remove(&id) {
                    let outcome = result
                        .map(|_| {
                            let elapsed = started.elapsed();
                            self.metrics.bootstrap.observe(elapsed.as_secs_f64());
                            BootstrapOutcome {
                                duration_s: elapsed.as_secs_f64(),
                                routing_table_size: self.routing_table_size(),
                            }
                        })
                        .map_err(|e| kad_err("bootstrap", e));
                    let _ = reply.send(outcome);
                }
            }
            QueryResult::GetRecord(Ok(GetRecordOk::FoundRecord(found))) => {
                let Some(pending) = self.pending_get_record.get_mut(&id) else {
                    return;
                };
                if found.peer.is_none() {
                    pending.local = Some(found.record.value);
                    return;
                }
                // A record from a peer is taken only if the policy accepts it; the query goes
                // on past one it refuses.
                if let Err(refusal) = self.store_guard.check_found(&found.record) {
                    tracing::debug!(peer = ?found.peer, refusal = refusal.as_str(), "refused a record found by a lookup");
                    self.metrics.rejected("dht", refusal.as_str());
                    return;
                }
                if let Some(pending) = self.pending_get_record.remove(&id) {
                    let _ = pending.reply.send(Ok(RecordLookup {
                        value: found.record.value,
                        kad_requests: stats.num_requests(),
                    }));
                }
                if let Some(mut query) = self.swarm.behaviour_mut().kad.query_mut(&id) {
                    query.finish();
                }
            }
            QueryResult::GetRecord(other) => {
                let finished = last || other.is_err();
                if !finished {
                    return;
                }
                if let Some(pending) = self.pending_get_record.remove(&id) {
                    let answer = match (pending.local, other) {
                        (Some(value), _) => Ok(RecordLookup {
                            value,
                            kad_requests: stats.num_requests(),
                        }),
                        (None, Ok(_)) | (None, Err(kad::GetRecordError::NotFound { .. })) => {
                            Err(NetworkError::RecordNotFound)
                        }
                        (None, Err(e)) => Err(kad_err("get record", e)),
                    };
                    let _ = pending.reply.send(answer);
                }
            }
            QueryResult::PutRecord(result) => {
                if let Err(e) = &result {
                    tracing::debug!(error = %e, "a record write failed");
                }
                self.record_puts.on_write(id, result);
            }
            QueryResult::GetClosestPeers(result) => {
                let behaviour = self.swarm.behaviour_mut();
                if !self.fetch_retries.on_closest_peers(
                    id,
                    &result,
                    &mut behaviour.fetch,
                    &mut self.pending_fetch,
                ) {
                    self.record_puts
                        .on_closest_peers(&mut behaviour.kad, id, result);
                }
            }
            QueryResult::StartProviding(result) => {
                if let Some(reply) = self.pending_start_providing.remove(&id) {
                    let _ = reply.send(
                        result
                            .map(|_| ())
                            .map_err(|e| kad_err("start providing", e)),
                    );
                }
            }
            QueryResult::GetProviders(result) => {
                let Some(pending) = self.pending_get_providers.get_mut(&id) else {
                    return;
                };
                match result {
                    Ok(GetProvidersOk::FoundProviders { providers, .. }) => {
                        let local_peer = *self.swarm.local_peer_id();
                        pending
                            .found
                            .extend(providers.into_iter().filter(|p| *p != local_peer));
                        if pending.found.len() < ENOUGH_PROVIDERS && !last {
                            return;
                        }
                    }
                    Ok(GetProvidersOk::FinishedWithNoAdditionalRecord { .. }) => {}
                    Err(e) => {
                        if pending.found.is_empty() {
                            if let Some(pending) = self.pending_get_providers.remove(&id) {
                                let _ = pending.reply.send(Err(kad_err("get providers", e)));
                            }
                            return;
                        }
                    }
                }
                if let Some(pending) = self.pending_get_providers.remove(&id) {
                    let _ = pending.reply.send(Ok(pending.found));
                }
                if let Some(mut query) = self.swarm.behaviour_mut().kad.query_mut(&id) {
                    query.finish();
                }
            }
            _ => {}
        }
    }

    fn on_gossipsub(&mut self, event: gossipsub::Event) {
        if let gossipsub::Event::Message {
            propagation_source,
            message_id,
            message,
        } = event
        {
            self.connections.touch(&propagation_source, Instant::now());
            let event = Event::Gossip {
                id: message_id,
                propagation_source,
                data: message.data,
                received_at: SystemTime::now(),
            };
            forward(&self.events, event);
        }
    }

    fn on_identify(&mut self, event: identify::Event) {
        let identify::Event::Received { peer_id, info, .. } = event else {
            return;
        };
        self.connections.touch(&peer_id, Instant::now());
        let kad = &mut self.swarm.behaviour_mut().kad;
        // Only peers that speak this node's Kademlia protocol belong in its routing table: a
        // peer that does not would be handed out to others and dialed for nothing.
        if !info.protocols.contains(&KAD_PROTOCOL) {
            kad.remove_peer(&peer_id);
            return;
        }
        // Loopback addresses are only reachable when this node itself talks over loopback
        // (the local runtime); in a container they would point back at ourselves.
        let on_loopback = is_loopback(&info.observed_addr);
        for addr in info.listen_addrs {
            if on_loopback || !is_loopback(&addr) {
                kad.add_address(&peer_id, addr);
            }
        }
    }

    /// A request or response from or to `peer` counts as activity on its connection.
    fn touch_request_peer<Req, Resp>(&mut self, event: &request_response::Event<Req, Resp>) {
        let peer = match event {
            request_response::Event::Message { peer, .. }
            | request_response::Event::OutboundFailure { peer, .. }
            | request_response::Event::InboundFailure { peer, .. }
            | request_response::Event::ResponseSent { peer, .. } => *peer,
        };
        self.connections.touch(&peer, Instant::now());
    }

    /// Disconnects the peers the connection manager picks; gossip mesh peers are protected.
    fn trim_connections(&mut self) {
        let gossipsub = &self.swarm.behaviour().gossipsub;
        let trim = self.connections.to_trim(Instant::now(), || {
            gossipsub.all_mesh_peers().copied().collect()
        });
        if trim.is_empty() {
            return;
        }
        tracing::debug!(
            connected = self.connections.connected_peers(),
            trimmed = trim.len(),
            "trimming connections"
        );
        for peer in trim {
            let _ = self.swarm.disconnect_peer_id(peer);
        }
    }

    fn on_command(&mut self, command: Command) {
        let behaviour = self.swarm.behaviour_mut();
        match command {
            Command::Status { reply } => {
                let _ = reply.send(self.status());
            }
            Command::ConnectedPeers { reply } => {
                let _ = reply.send(self.swarm.connected_peers().copied().collect());
            }
            Command::Bootstrap { peers, reply } => {
                let local_peer = *self.swarm.local_peer_id();
                let (mut dials, mut errors) = (HashSet::new(), Vec::new());
                for addr in peers {
                    match peer_of(&addr) {
                        Some(peer) if peer == local_peer => {}
                        Some(peer) => {
                            self.swarm.behaviour_mut().kad.add_address(&peer, addr);
                        }
                        // No peer id given: dial, and learn it from the connection.
                        None => {
                            let opts = DialOpts::unknown_peer_id().address(addr.clone()).build();
                            let id = opts.connection_id();
                            match self.swarm.dial(opts) {
                                Ok(()) => {
                                    dials.insert(id);
                                }
                                Err(e) => errors.push(format!("{addr}: {e}")),
                            }
                        }
                    }
                }
                let started = Instant::now();
                if dials.is_empty() {
                    self.start_bootstrap(started, reply, errors);
                } else {
                    self.pending_dials.push(PendingDials {
                        dials,
                        errors,
                        started,
                        reply,
                    });
                }
            }
            Command::Connect { peer, addr, reply } => {
                // A connection of its own even when one to the peer exists already.
                let opts = DialOpts::peer_id(peer)
                    .addresses(vec![addr])
                    .condition(PeerCondition::Always)
                    .build();
                let id = opts.connection_id();
                match self.swarm.dial(opts) {
                    Ok(()) => {
                        self.pending_connects
                            .insert(id, (Instant::now(), peer, reply));
                    }
                    Err(e) => {
                        let _ = reply.send(Err(connect_error(peer, e)));
                    }
                }
            }
            Command::PutRecord { key, value, reply } => {
                let local_peer = *self.swarm.local_peer_id();
                let kad = &mut self.swarm.behaviour_mut().kad;
                self.record_puts.start(kad, local_peer, &key, value, reply);
            }
            Command::GetRecord { key, reply } => {
                let id = behaviour.kad.get_record(RecordKey::new(&key));
                self.pending_get_record
                    .insert(id, PendingLookup { reply, local: None });
            }
            Command::StartProviding { key, reply } => {
                match behaviour.kad.start_providing(RecordKey::new(&key)) {
                    Ok(id) => {
                        self.pending_start_providing.insert(id, reply);
                    }
                    Err(e) => {
                        let _ = reply.send(Err(NetworkError::Kademlia {
                            op: "start providing",
                            source: cause(e),
                        }));
                    }
                }
            }
            Command::GetProviders { key, reply } => {
                let id = behaviour.kad.get_providers(RecordKey::new(&key));
                self.pending_get_providers.insert(
                    id,
                    PendingProviders {
                        reply,
                        found: HashSet::new(),
                    },
                );
            }
            Command::Gossip { data, reply } => {
                let result = behaviour
                    .gossipsub
                    .publish(self.topic.clone(), data)
                    .map(|_| ())
                    .map_err(|e| NetworkError::Publish(cause(e)));
                let _ = reply.send(result);
            }
            Command::Search {
                peer,
                request,
                reply,
            } => {
                self.connections.touch(&peer, Instant::now());
                let id = behaviour.search.send_request(&peer, request);
                self.pending_search.insert(id, reply);
            }
            Command::Fetch {
                peer,
                request,
                reply,
            } => {
                self.connections.touch(&peer, Instant::now());
                let id = behaviour.fetch.send_request(&peer, request.clone());
                self.pending_fetch.insert(id, reply);
                self.fetch_retries.sent(id, request);
            }
            Command::RespondSearch { channel, response } => {
                if behaviour.search.send_response(channel, response).is_err() {
                    tracing::debug!("search requester went away before the response");
                }
            }
            Command::RespondFetch { channel, response } => {
                if behaviour.fetch.send_response(channel, response).is_err() {
                    tracing::debug!("fetch requester went away before the response");
                }
            }
            Command::JudgeGossip {
                id,
                propagation_source,
                valid,
            } => {
                let acceptance = if valid {
                    gossipsub::MessageAcceptance::Accept
                } else {
                    gossipsub::MessageAcceptance::Reject
                };
                // `false` only when the message left the cache meanwhile: nothing to do.
                let _ = behaviour.gossipsub.report_message_validation_result(
                    &id,
                    &propagation_source,
                    acceptance,
                );
            }
        }
    }

    /// A dial made for a bootstrap finished: learn the peer, and start the Kademlia bootstrap
    /// once every dial of that request is done.
    fn on_dial_done(
        &mut self,
        connection: ConnectionId,
        outcome: Result<(PeerId, Multiaddr), String>,
    ) {
        let Some(pos) = self
            .pending_dials
            .iter()
            .position(|p| p.dials.contains(&connection))
        else {
            return;
        };
        let pending = &mut self.pending_dials[pos];
        pending.dials.remove(&connection);
        match outcome {
            Ok((peer, address)) => {
                self.swarm.behaviour_mut().kad.add_address(&peer, address);
            }
            Err(e) => pending.errors.push(e),
        }
        if self.pending_dials[pos].dials.is_empty() {
            let done = self.pending_dials.remove(pos);
            self.start_bootstrap(done.started, done.reply, done.errors);
        }
    }

    fn start_bootstrap(
        &mut self,
        started: Instant,
        reply: Reply<BootstrapOutcome>,
        errors: Vec<String>,
    ) {
        match self
            .bootstraps
            .start(&mut self.swarm.behaviour_mut().kad, Purpose::Join)
        {
            Ok(id) => {
                self.pending_bootstrap.insert(id, (started, reply));
            }
            Err(_) if errors.is_empty() => {
                let _ = reply.send(Err(NetworkError::NoKnownPeers));
            }
            Err(_) => {
                let _ = reply.send(Err(NetworkError::Unreachable(errors)));
            }
        }
    }

    /// A refresh: a full bootstrap no one waits for.
    fn refresh_routing_table(&mut self) {
        if self
            .bootstraps
            .start(&mut self.swarm.behaviour_mut().kad, Purpose::Refresh)
            .is_err()
        {
            tracing::debug!("no known peers: routing table refresh skipped");
        }
    }

    fn status(&mut self) -> NetworkStatus {
        let info = self.swarm.network_info();
        let mesh = self
            .swarm
            .behaviour()
            .gossipsub
            .mesh_peers(&self.topic.hash())
            .count();
        NetworkStatus {
            peer_id: self.swarm.local_peer_id().to_base58(),
            listen_addrs: self.swarm.listeners().map(|a| a.to_string()).collect(),
            connected_peers: info.num_peers(),
            connections: info.connection_counters().num_established() as usize,
            routing_table_size: self.routing_table_size(),
            gossip_mesh_peers: mesh,
            dht_records: self.swarm.behaviour_mut().kad.store_mut().records().count(),
            dht_provider_keys: self.store_guard.provider_keys(),
        }
    }

    fn routing_table_size(&mut self) -> usize {
        routing_table_size(&mut self.swarm.behaviour_mut().kad)
    }
}

/// Why a dial of `/bench/connect` failed: this node's own connection limit (most often the
/// two connections it keeps at most to one peer, reached when both ends dialed each other at
/// once), or the dial itself, with every cause.
fn connect_error(peer: PeerId, error: DialError) -> NetworkError {
    let limited = matches!(&error, DialError::Denied { cause }
        if cause.downcast_ref::<connection_limits::Exceeded>().is_some());
    let source = cause(error);
    if limited {
        NetworkError::ConnectionLimit { peer, source }
    } else {
        NetworkError::Dial { peer, source }
    }
}

/// Inbound requests go to the marketplace; responses and failures answer pending requests.
fn on_request_response<Req, Resp>(
    event: request_response::Event<Req, Resp>,
    pending: &mut HashMap<OutboundRequestId, Reply<Resp>>,
    events: &mpsc::Sender<Event>,
    inbound: impl FnOnce(PeerId, Req, ResponseChannel<Resp>) -> Event,
) {
    match event {
        request_response::Event::Message { peer, message, .. } => match message {
            request_response::Message::Request {
                request, channel, ..
            } => forward(events, inbound(peer, request, channel)),
            request_response::Message::Response {
                request_id,
                response,
            } => {
                if let Some(reply) = pending.remove(&request_id) {
                    let _ = reply.send(Ok(response));
                }
            }
        },
        request_response::Event::OutboundFailure {
            peer,
            request_id,
            error,
            ..
        } => {
            if let Some(reply) = pending.remove(&request_id) {
                let _ = reply.send(Err(NetworkError::Request {
                    peer,
                    source: cause(error),
                }));
            }
        }
        request_response::Event::InboundFailure { peer, error, .. } => {
            tracing::debug!(%peer, %error, "inbound request failed");
        }
        request_response::Event::ResponseSent { .. } => {}
    }
}

/// Hands an event to the marketplace without ever blocking the swarm: when the marketplace
/// is that far behind, the event is dropped (the remote request then times out).
fn forward(events: &mpsc::Sender<Event>, event: Event) {
    if let Err(e) = events.try_send(event) {
        tracing::warn!(error = %e, "marketplace is not keeping up: inbound event dropped");
    }
}

fn peer_of(addr: &Multiaddr) -> Option<PeerId> {
    match addr.iter().last()? {
        Protocol::P2p(peer) => Some(peer),
        _ => None,
    }
}

fn is_loopback(addr: &Multiaddr) -> bool {
    addr.iter().any(|p| match p {
        Protocol::Ip4(ip) => ip.is_loopback(),
        Protocol::Ip6(ip) => ip.is_loopback(),
        _ => false,
    })
}
