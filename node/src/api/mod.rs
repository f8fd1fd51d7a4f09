//! The HTTP control API (axum): node status, packages, search, install, benchmark phases and
//! `/metrics`. Every error is a JSON body `{"error": "..."}` with a fitting status code. The
//! routes, bodies and limits are the contract in `p2p_api`.

mod auth;
mod bounds;
mod error;
mod extract;
mod handlers;
mod server;

pub(crate) use server::serve;

pub use error::ApiError;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;

use p2p_api::limits::MAX_BODY_BYTES;
use p2p_api::routes;

use crate::market::Marketplace;
use crate::metrics::MetricsRegistry;

#[derive(Debug, Clone)]
pub struct AppState {
    pub market: Arc<Marketplace>,
    pub registry: MetricsRegistry,
    /// When set, mutating requests must carry it as a bearer token.
    pub token: Option<Arc<str>>,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route(routes::HEALTH, get(handlers::node::health))
        .route(routes::STATUS, get(handlers::node::status))
        .route(routes::BOOTSTRAP, post(handlers::node::bootstrap))
        .route(routes::METRICS, get(handlers::node::metrics))
        .route(
            routes::PACKAGES,
            get(handlers::packages::list).post(handlers::packages::publish),
        )
        .route(routes::PACKAGE, get(handlers::packages::get))
        .route(routes::LOOKUP, get(handlers::packages::lookup))
        .route(routes::SEARCH, get(handlers::packages::search))
        .route(routes::INSTALL, post(handlers::packages::install))
        .route(routes::BENCH_DHT_LOOKUP, post(handlers::phases::dht_lookup))
        .route(routes::BENCH_SEARCH, post(handlers::phases::search))
        .route(routes::BENCH_GOSSIP, post(handlers::phases::gossip))
        .route(routes::BENCH_RTT, post(handlers::phases::rtt))
        .route(routes::BENCH_CONNECT, post(handlers::phases::connect))
        .route(
            routes::BENCH_GOSSIP_RECEIVED,
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
