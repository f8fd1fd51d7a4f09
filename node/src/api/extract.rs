//! Extractors whose rejections are [`ApiError`]s, so malformed input gets a JSON message.

use axum::extract::FromRequest;
use axum::extract::FromRequestParts;

use super::error::ApiError;

/// `axum::Json` with a JSON error body on rejection (malformed JSON, wrong content type,
/// body over the size limit).
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub(crate) struct Json<T>(pub T);

/// `axum::extract::Query` with a JSON error body on rejection.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub(crate) struct Query<T>(pub T);

/// `axum::extract::Path` with a JSON error body on rejection.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub(crate) struct Path<T>(pub T);
