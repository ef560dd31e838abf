//! `POST /v1/embed`: texts in, vectors out, batched with concurrent requests.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::AppState;

/// The embed body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmbedRequest {
    /// 1..=`limits.max_embed_texts` non-empty texts.
    pub texts: Vec<String>,
    /// A model named in the server config's `[models]`, or `default` (the default).
    #[serde(default)]
    pub model: Option<String>,
}

/// The embed answer.
#[derive(Debug, Serialize)]
pub struct EmbedResponse {
    /// The model folder used.
    pub model: String,
    /// The vectors' width.
    pub dim: usize,
    /// One vector per text, in order (L2-normalised when the model normalises).
    pub vectors: Vec<Vec<f32>>,
}

/// `POST /v1/embed`.
///
/// # Errors
/// 422 for no text, an empty or over-long text or an unknown model; 413 for too many texts.
pub async fn embed(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<EmbedRequest>,
) -> Result<Json<EmbedResponse>, ApiError> {
    let limits = &state.config().limits;
    if request.texts.is_empty() {
        return Err(ApiError::Unprocessable("texts is empty".to_owned()));
    }
    if request.texts.len() > limits.max_embed_texts {
        return Err(ApiError::PayloadTooLarge(format!(
            "{} texts in one request; the limit is {}",
            request.texts.len(),
            limits.max_embed_texts
        )));
    }
    if let Some(i) = request.texts.iter().position(|t| t.trim().is_empty()) {
        return Err(ApiError::Unprocessable(format!("text {i} is empty")));
    }
    if let Some(i) = request
        .texts
        .iter()
        .position(|t| t.len() > limits.max_text_bytes)
    {
        return Err(ApiError::Unprocessable(format!(
            "text {i} is longer than {} bytes",
            limits.max_text_bytes
        )));
    }
    let model = match request.model.as_deref() {
        None | Some("default") => None,
        Some(name) => Some(
            state
                .config()
                .models
                .get(name)
                .cloned()
                .ok_or_else(|| ApiError::Unprocessable(format!("unknown model {name:?}")))?,
        ),
    };
    let encoder = state.encoder(model.as_deref()).await?;
    let vectors = encoder.encode(request.texts).await?;
    Ok(Json(EmbedResponse {
        model: encoder.model().display().to_string(),
        dim: encoder.dim(),
        vectors,
    }))
}
