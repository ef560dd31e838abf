//! `/healthz` (the process answers), `/readyz` (collections and model loaded) and `/metrics`.

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::state::AppState;

/// `GET /healthz`: 200 while the process runs.
pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// `GET /readyz`: 200 once collections and the default model are loaded, else 503.
///
/// # Errors
/// [`ApiError::NotReady`] while loading.
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    if state.is_ready() {
        Ok(Json(json!({"status": "ready"})))
    } else {
        Err(ApiError::NotReady)
    }
}

/// `GET /metrics`: the Prometheus text format.
///
/// # Errors
/// [`ApiError::Internal`] when the metrics cannot be encoded.
pub async fn metrics(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let body = state.metrics().render()?;
    Ok(([(CONTENT_TYPE, "text/plain; version=0.0.4")], body))
}
