//! The one error type of the API: bad input is a 4xx with a JSON message; internal faults are
//! a 500 with a generic message, the detail going to the log.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use p2p_api::ErrorBody;

use crate::market::{InstallError, LookupError, NameTaken, PublishError};
use crate::network::NetworkError;
use crate::package::{ManifestError, StoreError};
use p2p_api::error::chain;

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(%detail, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error; see the node's log",
        )
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: self.message,
        };
        (self.status, Json(body)).into_response()
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        Self::new(rejection.status(), rejection.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::new(rejection.status(), rejection.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        Self::new(rejection.status(), rejection.body_text())
    }
}

impl From<ManifestError> for ApiError {
    fn from(e: ManifestError) -> Self {
        Self::bad_request(chain(&e))
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Rejected { .. } => Self::bad_request(chain(&e)),
            StoreError::Conflict { .. } => Self::new(StatusCode::CONFLICT, chain(&e)),
            e => Self::internal(chain(&e)),
        }
    }
}

impl From<NameTaken> for ApiError {
    fn from(e: NameTaken) -> Self {
        Self::new(StatusCode::CONFLICT, e.to_string())
    }
}

impl From<NetworkError> for ApiError {
    fn from(e: NetworkError) -> Self {
        let status = match &e {
            NetworkError::NoKnownPeers => StatusCode::CONFLICT,
            NetworkError::RecordNotFound => StatusCode::NOT_FOUND,
            NetworkError::Timeout { .. } => StatusCode::GATEWAY_TIMEOUT,
            NetworkError::EventLoopGone
            | NetworkError::Build { .. }
            | NetworkError::Settings(_)
            | NetworkError::Listen { .. } => return Self::internal(chain(&e)),
            NetworkError::ConnectionLimit { .. } => StatusCode::CONFLICT,
            NetworkError::Unreachable(_)
            | NetworkError::Dial { .. }
            | NetworkError::Kademlia { .. }
            | NetworkError::Request { .. }
            | NetworkError::Publish(_) => StatusCode::BAD_GATEWAY,
        };
        Self::new(status, chain(&e))
    }
}

impl From<PublishError> for ApiError {
    fn from(e: PublishError) -> Self {
        match e {
            PublishError::Invalid(e) => e.into(),
            PublishError::Conflict { .. } => Self::new(StatusCode::CONFLICT, e.to_string()),
            PublishError::NameTaken(e) => e.into(),
            PublishError::Store(e) => e.into(),
        }
    }
}

impl From<LookupError> for ApiError {
    fn from(e: LookupError) -> Self {
        match e {
            LookupError::InvalidName(e) => e.into(),
            LookupError::NotFound(_) => Self::not_found(e.to_string()),
            LookupError::InvalidRecord { .. } => Self::new(StatusCode::BAD_GATEWAY, chain(&e)),
            LookupError::NameTaken(e) => e.into(),
            LookupError::Network(e) => e.into(),
        }
    }
}

impl From<InstallError> for ApiError {
    fn from(e: InstallError) -> Self {
        match e {
            InstallError::Lookup(e) => e.into(),
            InstallError::NoProviders { .. } => Self::not_found(e.to_string()),
            InstallError::AllProvidersFailed { .. } => {
                Self::new(StatusCode::BAD_GATEWAY, chain(&e))
            }
            InstallError::Store(e) => e.into(),
        }
    }
}
