//! `/v1/collections`: create, list, get and delete collections.

use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use pairwise_index::{Bm25Config, Collection, CollectionConfig, Distance, VectorIndexConfig};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath};
use crate::state::{AppState, CollectionSlot};

/// `POST /v1/collections` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateCollection {
    /// 1-64 letters, digits, `-` or `_`.
    pub name: String,
    /// `cosine` (default) or `dot`.
    #[serde(default)]
    pub distance: Option<Distance>,
    /// A model named in the server config's `[models]`, or `default`.
    #[serde(default)]
    pub model: Option<String>,
    /// The vectors' width; must match the model's when given.
    #[serde(default)]
    pub dim: Option<usize>,
    /// `{"type": "hnsw", "m", "ef_construction", "ef_search"}` (default) or `{"type": "flat"}`.
    #[serde(default)]
    pub index: Option<VectorIndexConfig>,
    /// BM25 settings.
    #[serde(default)]
    pub bm25: Option<Bm25Config>,
}

/// What the API says about a collection.
#[derive(Debug, Serialize)]
pub struct CollectionInfo {
    /// Its name.
    pub name: String,
    /// Live documents.
    pub count: usize,
    /// Vector width.
    pub dim: usize,
    /// How vectors compare.
    pub distance: Distance,
    /// The model folder its texts are embedded with.
    pub model: Option<String>,
    /// Its vector index settings.
    pub index: VectorIndexConfig,
    /// The live snapshot's manifest.
    pub manifest: Value,
}

impl CollectionInfo {
    fn of(name: &str, collection: &Collection) -> Self {
        let config = collection.config();
        Self {
            name: name.to_owned(),
            count: collection.count(),
            dim: config.dim,
            distance: config.distance,
            model: config.model_id.clone(),
            index: config.vector_index.clone(),
            manifest: serde_json::to_value(collection.manifest()).unwrap_or(Value::Null),
        }
    }
}

/// `GET /v1/collections` answer.
#[derive(Debug, Serialize)]
pub struct CollectionList {
    /// Every open collection, by name.
    pub collections: Vec<CollectionInfo>,
}

/// `POST /v1/collections`: 201 with the new collection.
///
/// # Errors
/// 422 for a bad name, model or setting; 409 when the name is taken.
pub async fn create(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<CreateCollection>,
) -> Result<(StatusCode, Json<CollectionInfo>), ApiError> {
    let model = resolve_model(&state, request.model.as_deref())?;
    let encoder = state.encoder(Some(&model)).await?;
    if let Some(dim) = request.dim.filter(|&d| d != encoder.dim()) {
        return Err(ApiError::Unprocessable(format!(
            "dim {dim} differs from the model's {}",
            encoder.dim()
        )));
    }
    let config = CollectionConfig {
        dim: encoder.dim(),
        distance: request.distance.unwrap_or(Distance::Cosine),
        model_id: Some(model.display().to_string()),
        vector_index: request.index.unwrap_or_default(),
        bm25: request.bm25.unwrap_or_default(),
        ..CollectionConfig::default()
    };
    let name = request.name;
    let info = tokio::task::spawn_blocking(move || {
        let slot = state.create_collection(&name, config)?;
        slot.read(|c| Ok(CollectionInfo::of(slot.name(), c)))
    })
    .await??;
    Ok((StatusCode::CREATED, Json(info)))
}

/// The model folder a create request names.
fn resolve_model(state: &AppState, name: Option<&str>) -> Result<PathBuf, ApiError> {
    let dir = match name {
        None | Some("default") => state.default_model().to_path_buf(),
        Some(name) => state.config().models.get(name).cloned().ok_or_else(|| {
            let known: Vec<&str> = state.config().models.keys().map(String::as_str).collect();
            ApiError::Unprocessable(format!(
                "unknown model {name:?}; known: default {}",
                known.join(" ")
            ))
        })?,
    };
    Ok(fs_err::canonicalize(&dir).unwrap_or(dir))
}

/// `GET /v1/collections`.
///
/// # Errors
/// 503 while loading.
pub async fn list(State(state): State<AppState>) -> Result<Json<CollectionList>, ApiError> {
    let slots = state.collections()?;
    let collections = tokio::task::spawn_blocking(move || {
        slots
            .iter()
            .filter_map(|slot| slot.read(|c| Ok(CollectionInfo::of(slot.name(), c))).ok())
            .collect()
    })
    .await?;
    Ok(Json(CollectionList { collections }))
}

/// `GET /v1/collections/{name}`.
///
/// # Errors
/// 404 for an unknown collection.
pub async fn get(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<CollectionInfo>, ApiError> {
    let slot = state.collection(&name)?;
    let info = blocking_read(slot, |slot, c| Ok(CollectionInfo::of(slot.name(), c))).await?;
    Ok(Json(info))
}

/// `DELETE /v1/collections/{name}`: removes the collection and its folder.
///
/// # Errors
/// 404 for an unknown collection.
pub async fn delete(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    state.collection(&name)?;
    let deleted = name.clone();
    tokio::task::spawn_blocking(move || state.delete_collection(&name)).await??;
    Ok(Json(serde_json::json!({"deleted": deleted})))
}

/// Runs `f` under the collection's read lock on a blocking thread.
pub(crate) async fn blocking_read<T: Send + 'static>(
    slot: Arc<CollectionSlot>,
    f: impl FnOnce(&CollectionSlot, &Collection) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(move || slot.read(|c| f(&slot, c))).await?
}

/// Runs `f` under the collection's write lock on a blocking thread.
pub(crate) async fn blocking_write<T: Send + 'static>(
    slot: Arc<CollectionSlot>,
    f: impl FnOnce(&mut Collection) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(move || slot.write(f)).await?
}
