use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use base64::Engine;

use crate::api::error::ApiError;
use crate::api::extract::{Json, Path, Query};
use p2p_api::limits::{
    DEFAULT_SEARCH_LIMIT, MAX_QUERY_CHARS, MAX_SEARCH_LIMIT, MAX_SEARCH_TIMEOUT_MS,
};
use p2p_api::{
    InstallOutcome, InstallRequest, LookupOutcome, PublishOutcome, PublishRequest, Scope,
    SearchHit, SearchOutcome, SearchParams, SignedManifest, VersionParam,
};

use crate::api::bounds::{at_most, chars_at_most, in_range};
use crate::api::AppState;
use crate::package::{parse_version, PackageSpec};

pub(crate) async fn publish(
    State(state): State<AppState>,
    Json(request): Json<PublishRequest>,
) -> Result<(StatusCode, axum::Json<PublishOutcome>), ApiError> {
    let spec = PackageSpec::new(
        &request.name,
        &request.version,
        &request.description,
        &request.tags,
    )?;
    let content = base64::engine::general_purpose::STANDARD
        .decode(request.content_base64.as_bytes())
        .map_err(|e| ApiError::bad_request(format!("content_base64 is not valid base64: {e}")))?;
    let outcome = state.market.publish(spec, content).await?;
    Ok((StatusCode::CREATED, axum::Json(outcome)))
}

pub(crate) async fn list(State(state): State<AppState>) -> axum::Json<Vec<SignedManifest>> {
    axum::Json(state.market.local_packages())
}

/// A package this node knows of, from its index (no network).
pub(crate) async fn get(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(params): Query<VersionParam>,
) -> Result<axum::Json<SearchHit>, ApiError> {
    let version = params.version.as_deref().map(parse_version).transpose()?;
    state
        .market
        .known(&name, version.as_ref())
        .map(axum::Json)
        .ok_or_else(|| ApiError::not_found(format!("package {name} is not known to this node")))
}

/// Resolves a package's record in the DHT.
pub(crate) async fn lookup(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(params): Query<VersionParam>,
) -> Result<axum::Json<LookupOutcome>, ApiError> {
    let version = params.version.as_deref().map(parse_version).transpose()?;
    Ok(axum::Json(
        state.market.lookup(&name, version.as_ref()).await?,
    ))
}

pub(crate) async fn search(
    State(state): State<AppState>,
    Query(params): Query<SearchParams>,
) -> Result<axum::Json<SearchOutcome>, ApiError> {
    if params.q.trim().is_empty() {
        return Err(ApiError::bad_request("q: the query is empty"));
    }
    chars_at_most("q", &params.q, MAX_QUERY_CHARS)?;
    let limit = at_most(
        "limit",
        params.limit.unwrap_or(DEFAULT_SEARCH_LIMIT),
        MAX_SEARCH_LIMIT,
    )?;
    let timeout_ms = params
        .timeout_ms
        .map(|t| in_range("timeout_ms", t, 1, MAX_SEARCH_TIMEOUT_MS))
        .transpose()?;
    let outcome = match params.scope {
        Scope::Local => state.market.search_local(&params.q, limit),
        Scope::Network => {
            let deadline = timeout_ms.map_or(
                state.market.deadlines().network_search,
                Duration::from_millis,
            );
            state
                .market
                .search_network(&params.q, limit, deadline)
                .await?
        }
    };
    Ok(axum::Json(outcome))
}

pub(crate) async fn install(
    State(state): State<AppState>,
    Json(request): Json<InstallRequest>,
) -> Result<axum::Json<InstallOutcome>, ApiError> {
    let version = request.version.as_deref().map(parse_version).transpose()?;
    Ok(axum::Json(
        state
            .market
            .install(&request.name, version.as_ref())
            .await?,
    ))
}
