//! Bearer-token check for mutating requests, when the node was given a token.

use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

use super::error::ApiError;
use super::AppState;

/// Lets reads through; a POST, PUT or DELETE needs `Authorization: Bearer <token>` when a
/// token is configured.
pub(super) async fn require_token(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let Some(token) = state.token.as_deref() else {
        return Ok(next.run(request).await);
    };
    if !matches!(
        *request.method(),
        Method::POST | Method::PUT | Method::DELETE
    ) {
        return Ok(next.run(request).await);
    }
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
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

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
