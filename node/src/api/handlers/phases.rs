//! The benchmark endpoints under `/bench`. Every count, concurrency, size and duration a
//! request gives is checked against `p2p_api::limits` before any work starts.

use axum::extract::State;
use axum::http::StatusCode;
use p2p_api::limits::{
    MAX_CONNECT_PEERS, MAX_GOSSIP_DURATION_MS, MAX_GOSSIP_INTERVAL_MS, MAX_GOSSIP_PROBES,
    MAX_PHASE_CONCURRENCY, MAX_PHASE_OPERATIONS, MAX_PROBE_PADDING, MAX_QUERY_CHARS, MAX_RTT_COUNT,
    MAX_RTT_INTERVAL_MS, MAX_RTT_TARGETS, MAX_RTT_TIMEOUT_MS, MAX_SEARCH_LIMIT,
    MAX_SEARCH_TIMEOUT_MS,
};
use p2p_api::{
    ConnectBench, DhtLookupBench, GossipBench, GossipPublished, GossipReceived, PhaseResult,
    RttProbe, RttResult, SearchBench,
};

use libp2p::multiaddr::Protocol;
use libp2p::Multiaddr;

use crate::api::bounds::{at_most, chars_at_most, in_range, product_at_most};
use crate::api::error::ApiError;
use crate::api::extract::Json;
use crate::api::AppState;
use crate::network::{round_trip, NetworkError};
use crate::package::validate_name;

/// The longest an RTT probe may keep a node busy in all (targets × count × timeout).
const MAX_RTT_BUDGET_MS: u64 = 600_000;

fn concurrency(value: usize) -> Result<usize, ApiError> {
    in_range("concurrency", value, 1, MAX_PHASE_CONCURRENCY)
}

pub(crate) async fn dht_lookup(
    State(state): State<AppState>,
    Json(phase): Json<DhtLookupBench>,
) -> Result<axum::Json<PhaseResult>, ApiError> {
    at_most("keys", phase.keys.len(), MAX_PHASE_OPERATIONS)?;
    concurrency(phase.concurrency)?;
    for (i, key) in phase.keys.iter().enumerate() {
        validate_name(key).map_err(|e| ApiError::bad_request(format!("keys[{i}]: {e}")))?;
    }
    Ok(axum::Json(state.market.dht_lookup_phase(phase).await))
}

pub(crate) async fn search(
    State(state): State<AppState>,
    Json(phase): Json<SearchBench>,
) -> Result<axum::Json<PhaseResult>, ApiError> {
    at_most("queries", phase.queries.len(), MAX_PHASE_OPERATIONS)?;
    concurrency(phase.concurrency)?;
    for (i, query) in phase.queries.iter().enumerate() {
        chars_at_most(&format!("queries[{i}]"), query, MAX_QUERY_CHARS)?;
    }
    if let Some(limit) = phase.limit {
        at_most("limit", limit, MAX_SEARCH_LIMIT)?;
    }
    if let Some(timeout) = phase.timeout_ms {
        in_range("timeout_ms", timeout, 1, MAX_SEARCH_TIMEOUT_MS)?;
    }
    Ok(axum::Json(state.market.search_phase(phase).await))
}

pub(crate) async fn gossip(
    State(state): State<AppState>,
    Json(phase): Json<GossipBench>,
) -> Result<axum::Json<GossipPublished>, ApiError> {
    in_range("count", phase.count, 1, MAX_GOSSIP_PROBES)?;
    at_most("payload_bytes", phase.payload_bytes, MAX_PROBE_PADDING)?;
    in_range("interval_ms", phase.interval_ms, 0, MAX_GOSSIP_INTERVAL_MS)?;
    product_at_most(
        "count × interval_ms",
        phase.count as u64,
        phase.interval_ms,
        MAX_GOSSIP_DURATION_MS,
    )?;
    Ok(axum::Json(state.market.gossip_phase(phase).await))
}

pub(crate) async fn gossip_received(State(state): State<AppState>) -> axum::Json<GossipReceived> {
    axum::Json(GossipReceived {
        samples: state.market.gossip_log().snapshot(),
    })
}

pub(crate) async fn gossip_clear(State(state): State<AppState>) -> StatusCode {
    state.market.gossip_log().clear();
    StatusCode::NO_CONTENT
}

pub(crate) async fn rtt(Json(probe): Json<RttProbe>) -> Result<axum::Json<RttResult>, ApiError> {
    in_range("targets", probe.targets.len(), 1, MAX_RTT_TARGETS)?;
    in_range("count", probe.count, 1, MAX_RTT_COUNT)?;
    in_range("timeout_ms", probe.timeout_ms, 1, MAX_RTT_TIMEOUT_MS)?;
    in_range("interval_ms", probe.interval_ms, 0, MAX_RTT_INTERVAL_MS)?;
    let handshakes = product_at_most(
        "targets × count",
        probe.targets.len() as u64,
        probe.count as u64,
        MAX_PHASE_OPERATIONS as u64,
    )?;
    product_at_most(
        "targets × count × (timeout_ms + interval_ms)",
        handshakes,
        probe.timeout_ms + probe.interval_ms,
        MAX_RTT_BUDGET_MS,
    )?;
    let timeout = std::time::Duration::from_millis(probe.timeout_ms);
    let interval = std::time::Duration::from_millis(probe.interval_ms);
    let mut targets = Vec::with_capacity(probe.targets.len());
    for target in probe.targets {
        let started = std::time::Instant::now();
        let (samples, errors) = round_trip::round_trips(
            probe.transport,
            probe.bind,
            target,
            probe.count,
            round_trip::Pace { timeout, interval },
        )
        .await;
        targets.push(PhaseResult {
            samples,
            errors,
            wall_s: started.elapsed().as_secs_f64(),
            ..PhaseResult::default()
        });
    }
    Ok(axum::Json(RttResult { targets }))
}

/// Times new connections to the given peers, one after the other (`ConnectBench`).
pub(crate) async fn connect(
    State(state): State<AppState>,
    Json(bench): Json<ConnectBench>,
) -> Result<axum::Json<PhaseResult>, ApiError> {
    in_range("peers", bench.peers.len(), 1, MAX_CONNECT_PEERS)?;
    in_range("timeout_ms", bench.timeout_ms, 1, MAX_RTT_TIMEOUT_MS)?;
    product_at_most(
        "peers × timeout_ms",
        bench.peers.len() as u64,
        bench.timeout_ms,
        MAX_RTT_BUDGET_MS,
    )?;
    let mut targets = Vec::with_capacity(bench.peers.len());
    for (i, text) in bench.peers.iter().enumerate() {
        let addr: Multiaddr = text
            .parse()
            .map_err(|e| ApiError::bad_request(format!("peers[{i}]: {e}")))?;
        let Some(Protocol::P2p(peer)) = addr.iter().last() else {
            return Err(ApiError::bad_request(format!(
                "peers[{i}]: {text} does not end in /p2p/<peer id>"
            )));
        };
        targets.push((peer, addr));
    }
    let wanted = bench.wanted.unwrap_or(targets.len());
    in_range("wanted", wanted, 1, targets.len())?;
    let timeout = std::time::Duration::from_millis(bench.timeout_ms);
    let started = std::time::Instant::now();
    let mut result = PhaseResult::default();
    for (i, (peer, addr)) in targets.into_iter().enumerate() {
        if result.dialed.len() == wanted {
            break;
        }
        match state.market.network().connect(peer, addr, timeout).await {
            Ok(elapsed) => result.samples.push(elapsed.as_secs_f64()),
            Err(e @ NetworkError::ConnectionLimit { .. }) => {
                result.skipped.push(p2p_api::error::chain(&e));
                continue;
            }
            Err(e) => result
                .errors
                .push(format!("{peer}: {}", p2p_api::error::chain(&e))),
        }
        result.dialed.push(i);
    }
    result.wall_s = started.elapsed().as_secs_f64();
    Ok(axum::Json(result))
}
