use axum::extract::State;
use axum::http::StatusCode;

use crate::api::error::ApiError;
use crate::api::extract::Json;
use p2p_api::limits::{
    MAX_PHASE_CONCURRENCY, MAX_PHASE_OPERATIONS, MAX_PROBE_PADDING, MAX_RTT_TIMEOUT_MS,
};
use p2p_api::{
    DhtLookupBench, GossipBench, GossipPublished, GossipReceived, PhaseResult, RttProbe, RttResult,
    SearchBench,
};

use crate::api::AppState;
use crate::network::handshake;

fn check_bounds(what: &str, count: usize, concurrency: usize) -> Result<(), ApiError> {
    if count > MAX_PHASE_OPERATIONS {
        return Err(ApiError::bad_request(format!(
            "{count} {what} asked, at most {MAX_PHASE_OPERATIONS} per request"
        )));
    }
    if concurrency == 0 || concurrency > MAX_PHASE_CONCURRENCY {
        return Err(ApiError::bad_request(format!(
            "concurrency {concurrency} is out of range 1..={MAX_PHASE_CONCURRENCY}"
        )));
    }
    Ok(())
}

pub(crate) async fn dht_lookup(
    State(state): State<AppState>,
    Json(phase): Json<DhtLookupBench>,
) -> Result<axum::Json<PhaseResult>, ApiError> {
    check_bounds("keys", phase.keys.len(), phase.concurrency)?;
    Ok(axum::Json(state.market.dht_lookup_phase(phase).await))
}

pub(crate) async fn search(
    State(state): State<AppState>,
    Json(phase): Json<SearchBench>,
) -> Result<axum::Json<PhaseResult>, ApiError> {
    check_bounds("queries", phase.queries.len(), phase.concurrency)?;
    Ok(axum::Json(state.market.search_phase(phase).await))
}

pub(crate) async fn gossip(
    State(state): State<AppState>,
    Json(phase): Json<GossipBench>,
) -> Result<axum::Json<GossipPublished>, ApiError> {
    check_bounds("messages", phase.count, 1)?;
    if phase.payload_bytes > MAX_PROBE_PADDING {
        return Err(ApiError::bad_request(format!(
            "payload_bytes {} is over the limit of {MAX_PROBE_PADDING}",
            phase.payload_bytes
        )));
    }
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

pub(crate) async fn rtt(Json(phase): Json<RttProbe>) -> Result<axum::Json<RttResult>, ApiError> {
    check_bounds("handshakes", phase.targets.len() * phase.count, 1)?;
    if phase.timeout_ms == 0 || phase.timeout_ms > MAX_RTT_TIMEOUT_MS {
        return Err(ApiError::bad_request(format!(
            "timeout_ms {} is out of range 1..={MAX_RTT_TIMEOUT_MS}",
            phase.timeout_ms
        )));
    }
    let timeout = std::time::Duration::from_millis(phase.timeout_ms);
    let mut targets = Vec::with_capacity(phase.targets.len());
    for target in phase.targets {
        let started = std::time::Instant::now();
        let (samples, errors) =
            handshake::handshake_times(phase.bind, target, phase.count, timeout).await;
        targets.push(PhaseResult {
            samples,
            errors,
            wall_s: started.elapsed().as_secs_f64(),
            kad_requests: Vec::new(),
        });
    }
    Ok(axum::Json(RttResult { targets }))
}
