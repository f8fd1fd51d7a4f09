use std::time::Duration;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use libp2p::Multiaddr;

use crate::api::error::ApiError;
use crate::api::extract::Json;
use p2p_api::limits::{MAX_BOOTSTRAP_PEERS, MAX_MULTIADDR_CHARS};
use p2p_api::{BootstrapOutcome, BootstrapRequest, Health, NodeStatus};

use crate::api::bounds::{chars_at_most, in_range};
use crate::api::AppState;

/// A bootstrap of a large network over slow links can take a while.
const BOOTSTRAP_TIMEOUT: Duration = Duration::from_secs(120);

pub(crate) async fn health(State(state): State<AppState>) -> axum::Json<Health> {
    axum::Json(Health {
        status: "ok".to_owned(),
        peer_id: state.market.peer_id().to_base58(),
    })
}

pub(crate) async fn status(
    State(state): State<AppState>,
) -> Result<axum::Json<NodeStatus>, ApiError> {
    Ok(axum::Json(state.market.status().await?))
}

pub(crate) async fn bootstrap(
    State(state): State<AppState>,
    Json(request): Json<BootstrapRequest>,
) -> Result<axum::Json<BootstrapOutcome>, ApiError> {
    in_range("peers", request.peers.len(), 1, MAX_BOOTSTRAP_PEERS)?;
    let peers = request
        .peers
        .iter()
        .enumerate()
        .map(|(i, p)| {
            chars_at_most(&format!("peers[{i}]"), p, MAX_MULTIADDR_CHARS)?;
            p.parse::<Multiaddr>().map_err(|e| {
                ApiError::bad_request(format!("peers[{i}]: invalid multiaddr {p:?}: {e}"))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let outcome = state
        .market
        .network()
        .bootstrap(peers, BOOTSTRAP_TIMEOUT)
        .await?;
    Ok(axum::Json(outcome))
}

/// OpenMetrics for clients that ask for it (Prometheus does), the classic text format
/// otherwise.
pub(crate) async fn metrics(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    let wants_openmetrics = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/openmetrics-text"));
    let (body, content_type) = if wants_openmetrics {
        (
            state.registry.encode(),
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )
    } else {
        (
            state.registry.encode_prometheus_text(),
            "text/plain; version=0.0.4; charset=utf-8",
        )
    };
    let body = body.map_err(|_| {
        ApiError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "metrics encoding failed",
        )
    })?;
    Ok(([(header::CONTENT_TYPE, content_type)], body))
}
