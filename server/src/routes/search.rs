//! `POST /v1/collections/{name}/search`: by query text or vector; dense, BM25 or hybrid; with a
//! metadata filter; each stage's latency goes to the metrics.

use std::time::Instant;

use axum::extract::State;
use axum::Json;
use pairwise_index::{Filter, Fusion, SearchMode, SearchRequest, SearchTimings};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath};
use crate::metrics::SearchStage;
use crate::routes::collections::blocking_read;
use crate::routes::documents::document_json;
use crate::state::AppState;

/// Hits returned when the request does not say.
const DEFAULT_K: usize = 10;

/// The search body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchBody {
    /// Query text (needed by `bm25` and `hybrid`; embedded for `dense` unless `vector` is given).
    #[serde(default)]
    pub query: Option<String>,
    /// A query embedding of the collection's dimension.
    #[serde(default)]
    pub vector: Option<Vec<f32>>,
    /// `dense`, `bm25` or `hybrid`; default `hybrid` with a query, `dense` with only a vector.
    #[serde(default)]
    pub mode: Option<SearchMode>,
    /// Hits to return (1..=`limits.max_k`, default 10).
    #[serde(default)]
    pub k: Option<usize>,
    /// A metadata filter, e.g. `{"year": {"$gte": 2010}}`.
    #[serde(default)]
    pub filter: Option<Value>,
    /// Hybrid fusion: `{"type": "rrf", "k": 60}` (default) or `{"type": "weighted", "dense_weight": 0.5}`.
    #[serde(default)]
    pub fusion: Option<Fusion>,
    /// Return each hit's document (text, title, metadata) too.
    #[serde(default)]
    pub include_documents: bool,
}

/// One hit.
#[derive(Debug, Serialize)]
pub struct HitJson {
    /// Document id.
    pub id: String,
    /// Score under the mode (cosine, BM25 or fused); higher is better.
    pub score: f32,
    /// The document, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<Value>,
}

/// The search answer.
#[derive(Debug, Serialize)]
pub struct SearchResponse {
    /// Best first.
    pub hits: Vec<HitJson>,
    /// The mode that answered.
    pub mode: SearchMode,
    /// Milliseconds per stage (`encode`, `vector`, `bm25`, `fusion`) and in all.
    pub timings_ms: Value,
}

/// `POST /v1/collections/{name}/search`.
///
/// # Errors
/// 404 unknown collection; 422 for an empty query, a missing query or vector, k out of range,
/// a wrong vector dimension or a filter that does not parse.
pub async fn search(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    ApiJson(body): ApiJson<SearchBody>,
) -> Result<Json<SearchResponse>, ApiError> {
    let start = Instant::now();
    let checked = validate(&state, body)?;
    let slot = state.collection(&name)?;
    let mut encode_ms = None;
    let vector = match (checked.vector, checked.mode) {
        (Some(vector), _) => Some(vector),
        (None, SearchMode::Bm25) => None,
        (None, SearchMode::Dense | SearchMode::Hybrid) => {
            let config = blocking_read(slot.clone(), |_, c| Ok(c.config().clone())).await?;
            let encoder = state.encoder_for(&config).await?;
            let began = Instant::now();
            let query = checked.query.clone().unwrap_or_default();
            let mut rows = encoder.encode(vec![query]).await?;
            let elapsed = began.elapsed();
            state.metrics().observe_stage(SearchStage::Encode, elapsed);
            encode_ms = Some(elapsed.as_secs_f64() * 1e3);
            rows.pop()
        }
    };
    let (mode, k, include) = (checked.mode, checked.k, checked.include_documents);
    let (query, filter, fusion) = (checked.query, checked.filter, checked.fusion);
    let (hits, timings) = blocking_read(slot, move |_, c| {
        let request = SearchRequest {
            vector: vector.as_deref(),
            text: query.as_deref(),
            mode,
            k,
            filter: filter.as_ref(),
            fusion,
        };
        let (hits, timings) = c.search_timed(&request)?;
        let hits = hits
            .into_iter()
            .map(|hit| HitJson {
                document: include
                    .then(|| c.get(&hit.id).map(|d| document_json(d, false)))
                    .flatten(),
                id: hit.id,
                score: hit.score,
            })
            .collect::<Vec<_>>();
        Ok((hits, timings))
    })
    .await?;
    record(&state, &timings);
    let ms = |d: Option<std::time::Duration>| d.map(|d| d.as_secs_f64() * 1e3);
    let timings_ms = serde_json::json!({
        "encode": encode_ms,
        "vector": ms(timings.vector),
        "bm25": ms(timings.bm25),
        "fusion": ms(timings.fusion),
        "total": start.elapsed().as_secs_f64() * 1e3,
    });
    Ok(Json(SearchResponse {
        hits,
        mode,
        timings_ms,
    }))
}

fn record(state: &AppState, timings: &SearchTimings) {
    let stages = [
        (SearchStage::Vector, timings.vector),
        (SearchStage::Bm25, timings.bm25),
        (SearchStage::Fusion, timings.fusion),
    ];
    for (stage, elapsed) in stages {
        if let Some(elapsed) = elapsed {
            state.metrics().observe_stage(stage, elapsed);
        }
    }
}

/// A search body whose values have been checked.
struct Checked {
    query: Option<String>,
    vector: Option<Vec<f32>>,
    mode: SearchMode,
    k: usize,
    filter: Option<Filter>,
    fusion: Fusion,
    include_documents: bool,
}

fn validate(state: &AppState, body: SearchBody) -> Result<Checked, ApiError> {
    let limits = &state.config().limits;
    let invalid = |m: String| Err(ApiError::Unprocessable(m));
    if let Some(query) = &body.query {
        if query.trim().is_empty() {
            return invalid("the query is empty".to_owned());
        }
        if query.len() > limits.max_text_bytes {
            return invalid(format!(
                "the query is longer than {} bytes",
                limits.max_text_bytes
            ));
        }
    }
    let mode = match (body.mode, &body.query, &body.vector) {
        (Some(mode), _, _) => mode,
        (None, Some(_), _) => SearchMode::Hybrid,
        (None, None, Some(_)) => SearchMode::Dense,
        (None, None, None) => return invalid("give a query or a vector".to_owned()),
    };
    match (mode, &body.query, &body.vector) {
        (SearchMode::Dense, None, None) => {
            return invalid("dense search needs a query or a vector".to_owned())
        }
        (SearchMode::Bm25 | SearchMode::Hybrid, None, _) => {
            return invalid("bm25 and hybrid search need a query text".to_owned())
        }
        _ => {}
    }
    if let Some((i, v)) = body
        .vector
        .iter()
        .flatten()
        .enumerate()
        .find(|(_, v)| !v.is_finite())
    {
        return invalid(format!("vector component {i} is not finite ({v})"));
    }
    let k = body.k.unwrap_or(DEFAULT_K);
    if k == 0 || k > limits.max_k {
        return invalid(format!("k must lie in 1..={}, got {k}", limits.max_k));
    }
    let filter = body.filter.as_ref().map(Filter::from_json).transpose()?;
    let fusion = body.fusion.unwrap_or_default();
    match fusion {
        Fusion::Rrf { k } if !(k.is_finite() && k >= 0.0) => {
            return invalid(format!("fusion k must be finite and >= 0, got {k}"))
        }
        Fusion::Weighted { dense_weight } if !(0.0..=1.0).contains(&dense_weight) => {
            return invalid(format!(
                "dense_weight must lie in [0, 1], got {dense_weight}"
            ))
        }
        Fusion::Rrf { .. } | Fusion::Weighted { .. } => {}
    }
    Ok(Checked {
        query: body.query,
        vector: body.vector,
        mode,
        k,
        filter,
        fusion,
        include_documents: body.include_documents,
    })
}
