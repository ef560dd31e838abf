//! [`ApiError`]: every failure a request can meet, and its HTTP status and JSON body.
//!
//! A 4xx body says what was wrong: `{"error": {"code": "...", "message": "..."}}`. A 5xx body
//! is generic (`internal`); the details go to the log, never to the client.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use pairwise_index::IndexError;
use pairwise_trainer::TrainError;
use serde::Serialize;

/// A request that failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A body that is not valid JSON, or a malformed path or query string.
    #[error("{0}")]
    BadRequest(String),
    /// A write (or, when configured, a read) without an `Authorization: Bearer` key.
    #[error("this route needs an API key (Authorization: Bearer <key>)")]
    Unauthorized,
    /// A key that is not one of the configured ones.
    #[error("the API key is not valid")]
    Forbidden,
    /// A collection, document, report or route that does not exist.
    #[error("{0}")]
    NotFound(String),
    /// A route that exists, called with another method.
    #[error("method not allowed on this route")]
    MethodNotAllowed,
    /// A collection that already exists, or is open elsewhere.
    #[error("{0}")]
    Conflict(String),
    /// A body or batch over the configured limits.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// A body that is not declared as `application/json`.
    #[error("expected a body with Content-Type: application/json")]
    UnsupportedMediaType,
    /// Well-formed JSON whose values are not acceptable (types, ranges, dimensions, NaN, …).
    #[error("{0}")]
    Unprocessable(String),
    /// The encoder's queue is full.
    #[error("the server is overloaded; retry later")]
    Overloaded,
    /// The request ran past the configured timeout.
    #[error("the request timed out")]
    Timeout,
    /// Collections or the default model are still loading.
    #[error("the server is starting; retry later")]
    NotReady,
    /// A collection's model cannot be loaded.
    #[error("{0}")]
    ModelUnavailable(String),
    /// Anything else: a bug or an IO failure. Logged; the client sees a generic message.
    #[error("internal error: {0}")]
    Internal(String),
}

/// The JSON body of an error.
#[derive(Debug, Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Debug, Serialize)]
struct ErrorDetail<'a> {
    code: &'a str,
    message: String,
}

impl ApiError {
    /// The HTTP status and the stable machine-readable code.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Self::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            Self::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            Self::Forbidden => (StatusCode::FORBIDDEN, "forbidden"),
            Self::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            Self::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            Self::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            Self::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            Self::UnsupportedMediaType => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            Self::Unprocessable(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_input"),
            Self::Overloaded => (StatusCode::SERVICE_UNAVAILABLE, "overloaded"),
            Self::Timeout => (StatusCode::SERVICE_UNAVAILABLE, "timeout"),
            Self::NotReady => (StatusCode::SERVICE_UNAVAILABLE, "not_ready"),
            Self::ModelUnavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "model_unavailable"),
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }

    /// A 404 naming a collection.
    pub(crate) fn no_collection(name: &str) -> Self {
        Self::NotFound(format!("no collection named {name:?}"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let message = if status.is_server_error() && matches!(self, Self::Internal(_)) {
            tracing::error!(error = %self, "request failed");
            "internal error; see the server log".to_owned()
        } else {
            self.to_string()
        };
        let body = ErrorBody {
            error: ErrorDetail { code, message },
        };
        let mut response = (status, axum::Json(body)).into_response();
        if matches!(self, Self::Unauthorized) {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

impl From<IndexError> for ApiError {
    fn from(error: IndexError) -> Self {
        let message = error.to_string();
        match error {
            IndexError::DimMismatch { .. }
            | IndexError::NonFinite { .. }
            | IndexError::InvalidParameter(_)
            | IndexError::EmptyQuery
            | IndexError::InvalidFilter(_)
            | IndexError::InvalidDocument { .. }
            | IndexError::InvalidQuery(_) => Self::Unprocessable(message),
            IndexError::TooLarge { .. } => Self::PayloadTooLarge(message),
            IndexError::AlreadyExists(_) | IndexError::Locked(_) => Self::Conflict(message),
            IndexError::NotFound(_) => Self::NotFound(message),
            IndexError::Io(_)
            | IndexError::Corrupt { .. }
            | IndexError::UnsupportedVersion { .. }
            | IndexError::InvalidJson { .. }
            | IndexError::WalPoisoned { .. }
            | IndexError::Incompatible { .. }
            | IndexError::BrokenInvariant(_)
            | IndexError::Tantivy(_)
            | IndexError::DocOutOfSequence { .. }
            | IndexError::Json(_)
            | IndexError::Hnsw(_) => Self::Internal(message),
        }
    }
}

impl From<TrainError> for ApiError {
    fn from(error: TrainError) -> Self {
        Self::Internal(format!("encoder: {error}"))
    }
}

impl From<pairwise_eval::EvalError> for ApiError {
    fn from(error: pairwise_eval::EvalError) -> Self {
        Self::Unprocessable(error.to_string())
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let text = rejection.body_text();
        match rejection {
            JsonRejection::JsonDataError(_) => Self::Unprocessable(text),
            JsonRejection::JsonSyntaxError(_) => Self::BadRequest(text),
            JsonRejection::MissingJsonContentType(_) => Self::UnsupportedMediaType,
            JsonRejection::BytesRejection(_) => {
                if rejection_is_too_large(rejection.status()) {
                    Self::PayloadTooLarge("the request body is over the size limit".to_owned())
                } else {
                    Self::BadRequest(text)
                }
            }
            other => Self::BadRequest(other.body_text()),
        }
    }
}

fn rejection_is_too_large(status: StatusCode) -> bool {
    status == StatusCode::PAYLOAD_TOO_LARGE
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        Self::BadRequest(rejection.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::BadRequest(rejection.body_text())
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(error: tokio::task::JoinError) -> Self {
        Self::Internal(format!("a blocking task failed: {error}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body_of(error: ApiError) -> (StatusCode, serde_json::Value) {
        let response = error.into_response();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn every_variant_has_its_status_and_a_json_body() {
        let cases = [
            (ApiError::BadRequest("x".into()), 400, "bad_request"),
            (ApiError::Unauthorized, 401, "unauthorized"),
            (ApiError::Forbidden, 403, "forbidden"),
            (ApiError::NotFound("x".into()), 404, "not_found"),
            (ApiError::MethodNotAllowed, 405, "method_not_allowed"),
            (ApiError::Conflict("x".into()), 409, "conflict"),
            (
                ApiError::PayloadTooLarge("x".into()),
                413,
                "payload_too_large",
            ),
            (
                ApiError::UnsupportedMediaType,
                415,
                "unsupported_media_type",
            ),
            (ApiError::Unprocessable("x".into()), 422, "invalid_input"),
            (ApiError::Overloaded, 503, "overloaded"),
            (ApiError::Timeout, 503, "timeout"),
            (ApiError::NotReady, 503, "not_ready"),
            (
                ApiError::ModelUnavailable("x".into()),
                503,
                "model_unavailable",
            ),
            (ApiError::Internal("secret path".into()), 500, "internal"),
        ];
        for (error, status, code) in cases {
            let (got, body) = body_of(error).await;
            assert_eq!(got.as_u16(), status);
            assert_eq!(body["error"]["code"], code);
            assert!(body["error"]["message"].is_string());
            assert!(
                !body.to_string().contains("secret"),
                "5xx details leak: {body}"
            );
        }
    }

    #[test]
    fn index_errors_from_bad_input_are_4xx() {
        let bad_input = [
            IndexError::DimMismatch {
                expected: 3,
                got: 2,
            },
            IndexError::NonFinite {
                position: 0,
                value: f32::NAN,
            },
            IndexError::EmptyQuery,
            IndexError::InvalidFilter("x".into()),
            IndexError::InvalidQuery("x".into()),
            IndexError::AlreadyExists("d".into()),
        ];
        for error in bad_input {
            let (status, _) = ApiError::from(error).status_and_code();
            assert!(status.is_client_error(), "{status}");
        }
    }
}
