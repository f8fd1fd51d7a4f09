//! The HTTP control API (axum): node status, packages, search, install, benchmark phases and
//! `/metrics`. Every error is a JSON body `{"error": "..."}` with a fitting status code.

mod auth;
mod error;
mod extract;
mod handlers;
pub mod types;

pub use error::ApiError;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;

use crate::market::Marketplace;
use crate::metrics::MetricsRegistry;
use crate::package::MAX_CONTENT_BYTES;

/// Largest request body: a package at its size limit, base64-encoded, plus its metadata.
pub const MAX_BODY_BYTES: usize = MAX_CONTENT_BYTES / 3 * 4 + 64 * 1024;

#[derive(Debug, Clone)]
pub struct AppState {
    pub market: Arc<Marketplace>,
    pub registry: MetricsRegistry,
    /// When set, mutating requests must carry it as a bearer token.
    pub token: Option<Arc<str>>,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(handlers::node::health))
        .route("/status", get(handlers::node::status))
        .route("/bootstrap", post(handlers::node::bootstrap))
        .route("/metrics", get(handlers::node::metrics))
        .route(
            "/packages",
            get(handlers::packages::list).post(handlers::packages::publish),
        )
        .route("/packages/{name}", get(handlers::packages::get))
        .route("/lookup/{name}", get(handlers::packages::lookup))
        .route("/search", get(handlers::packages::search))
        .route("/install", post(handlers::packages::install))
        .route("/bench/dht-lookup", post(handlers::phases::dht_lookup))
        .route("/bench/search", post(handlers::phases::search))
        .route("/bench/gossip", post(handlers::phases::gossip))
        .route("/bench/rtt", post(handlers::phases::rtt))
        .route(
            "/bench/gossip/received",
            get(handlers::phases::gossip_received).delete(handlers::phases::gossip_clear),
        )
        .fallback(|| async { ApiError::not_found("no such route") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method not allowed on this route",
            )
        })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_token,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}
