//! The bearer token, when the node was given one: every request that changes the node or
//! makes it use the network needs `Authorization: Bearer <token>` (the scheme in any case).
//! Only reads of the node's own state go without: `/health`, `/status`, `/metrics`, the
//! packages it knows, a local search, the gossip receipts.

use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::Response;
use p2p_api::routes;

use super::error::ApiError;
use super::AppState;

pub(super) async fn require_token(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let Some(token) = state.token.as_deref() else {
        return Ok(next.run(request).await);
    };
    if !needs_token(request.method(), request.uri()) {
        return Ok(next.run(request).await);
    }
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer);
    match given {
        Some(given) if constant_time_eq(given.as_bytes(), token.as_bytes()) => {
            Ok(next.run(request).await)
        }
        Some(_) => Err(ApiError::new(StatusCode::UNAUTHORIZED, "invalid API token")),
        None => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "this node requires an API token: send `Authorization: Bearer <token>`",
        )),
    }
}

/// Whether a request changes the node or makes it touch the network.
fn needs_token(method: &Method, uri: &Uri) -> bool {
    if !matches!(*method, Method::GET | Method::HEAD) {
        return true;
    }
    let path = uri.path();
    match path {
        routes::HEALTH
        | routes::STATUS
        | routes::METRICS
        | routes::PACKAGES
        | routes::BENCH_GOSSIP_RECEIVED => false,
        routes::SEARCH => searches_the_network(uri.query().unwrap_or("")),
        _ if path.starts_with(&format!("{}/", routes::PACKAGES)) => false,
        // DHT lookups, and paths the router does not know.
        _ => true,
    }
}

/// Whether a search's query string asks for `scope=network`.
fn searches_the_network(query: &str) -> bool {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .any(|(k, v)| k == "scope" && v != "local")
}

/// The credentials of an `Authorization` header with the Bearer scheme, in any case (RFC 9110:
/// schemes are case-insensitive).
fn bearer(value: &str) -> Option<&str> {
    let (scheme, credentials) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| credentials.trim())
        .filter(|c| !c.is_empty())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(text: &str) -> Uri {
        text.parse().unwrap()
    }

    #[test]
    fn reads_of_local_state_go_without_the_token() {
        for open in [
            "/health",
            "/status",
            "/metrics",
            "/packages",
            "/packages/x?version=1.0.0",
            "/search?q=a",
            "/search?q=a&scope=local",
            "/bench/gossip/received",
        ] {
            assert!(!needs_token(&Method::GET, &uri(open)), "{open}");
        }
        for guarded in [
            "/lookup/x",
            "/search?q=a&scope=network",
            "/search?scope=NETWORK&q=a",
            "/nowhere",
        ] {
            assert!(needs_token(&Method::GET, &uri(guarded)), "{guarded}");
        }
        assert!(needs_token(&Method::POST, &uri("/bench/rtt")));
        assert!(needs_token(&Method::DELETE, &uri("/bench/gossip/received")));
    }

    #[test]
    fn the_scheme_is_matched_in_any_case() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer abc"), Some("abc"));
        assert_eq!(bearer("BEARER  abc "), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer "), None);
        assert_eq!(bearer("Bearerabc"), None);
    }
}
