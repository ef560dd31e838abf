//! [`app`]: the router, its middleware and its route groups.

use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

use crate::auth::{require_read_key, require_write_key};
use crate::error::ApiError;
use crate::metrics::track_metrics;
use crate::routes::{collections, documents, embed, eval, health, openapi, reports, search};
use crate::state::AppState;

/// The whole HTTP API over `state` (tests call it with `tower::ServiceExt::oneshot`).
pub fn app(state: AppState) -> Router {
    let reads = Router::new()
        .route("/v1/collections", get(collections::list))
        .route("/v1/collections/{name}", get(collections::get))
        .route("/v1/collections/{name}/documents/{id}", get(documents::get))
        .route("/v1/collections/{name}/search", post(search::search))
        .route("/v1/embed", post(embed::embed))
        .route("/v1/reports/{id}", get(reports::report_json))
        .route("/reports/{id}", get(reports::report_html))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            require_read_key,
        ));
    let writes = Router::new()
        .route("/v1/collections", post(collections::create))
        .route("/v1/collections/{name}", delete(collections::delete))
        .route("/v1/collections/{name}/documents", put(documents::upsert))
        .route(
            "/v1/collections/{name}/documents/{id}",
            delete(documents::delete_one),
        )
        .route(
            "/v1/collections/{name}/documents/delete",
            post(documents::delete_many),
        )
        .route(
            "/v1/collections/{name}/diagnostics",
            post(eval::diagnostics),
        )
        .route("/v1/eval/roc", post(eval::roc))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            require_write_key,
        ));
    let public = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route("/openapi.json", get(openapi::document));
    let body_limit = state.config().limits.max_body_bytes;
    public
        .merge(reads)
        .merge(writes)
        .route_layer(middleware::from_fn_with_state(state.clone(), track_metrics))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(middleware::from_fn_with_state(state.clone(), timeout))
        // 5xx answers are logged where they arise (`ApiError`); a 503 from /readyz while
        // loading is no failure worth an error line.
        .layer(TraceLayer::new_for_http().on_failure(()))
        .layer(CatchPanicLayer::custom(panic_response))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::NotFound("no such route".to_owned())
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// Answers 503 `timeout` for requests running past `limits.request_timeout_ms`. Work already
/// handed to a blocking thread finishes in the background (an upsert may still be applied;
/// upserts are idempotent by id, so a retry is safe).
async fn timeout(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let limit: Duration = state.config().limits.request_timeout();
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::Timeout.into_response(),
    }
}

/// A handler panic is a bug: log it, answer a generic 500, keep serving.
#[expect(
    clippy::needless_pass_by_value,
    reason = "CatchPanicLayer hands over the payload by value"
)]
fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default();
    ApiError::Internal(format!("handler panicked: {message}")).into_response()
}
