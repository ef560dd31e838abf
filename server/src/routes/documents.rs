//! `/v1/collections/{name}/documents`: upsert a batch (embedding texts that come without a
//! vector), get one, delete one or many. Writes are answered once they are durable (the
//! collection fsyncs its write-ahead log before it returns).

use axum::extract::State;
use axum::Json;
use pairwise_index::Document;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::routes::collections::{blocking_read, blocking_write};
use crate::state::AppState;

/// One document of an upsert.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewDocument {
    /// The caller's id; an existing id is replaced.
    pub id: String,
    /// The body text.
    pub text: String,
    /// An optional title.
    #[serde(default)]
    pub title: Option<String>,
    /// A JSON object that filters can test.
    #[serde(default)]
    pub metadata: Value,
    /// A precomputed embedding; the collection's model embeds the text when absent.
    #[serde(default)]
    pub vector: Option<Vec<f32>>,
}

/// `PUT /v1/collections/{name}/documents` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpsertRequest {
    /// The batch, applied atomically.
    pub documents: Vec<NewDocument>,
}

/// `PUT /v1/collections/{name}/documents` answer.
#[derive(Debug, Serialize)]
pub struct UpsertResponse {
    /// Documents written.
    pub upserted: usize,
    /// Live documents afterwards.
    pub count: usize,
}

/// `PUT /v1/collections/{name}/documents`: 200 once the batch is durable.
///
/// # Errors
/// 404 unknown collection; 413 too many documents; 422 invalid documents (nothing is written).
pub async fn upsert(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    ApiJson(request): ApiJson<UpsertRequest>,
) -> Result<Json<UpsertResponse>, ApiError> {
    let limits = &state.config().limits;
    if request.documents.len() > limits.max_batch_docs {
        return Err(ApiError::PayloadTooLarge(format!(
            "{} documents in one batch; the limit is {}",
            request.documents.len(),
            limits.max_batch_docs
        )));
    }
    for doc in &request.documents {
        if doc.text.len() > limits.max_text_bytes {
            return Err(ApiError::Unprocessable(format!(
                "document {:?}: text is longer than {} bytes",
                doc.id, limits.max_text_bytes
            )));
        }
        if doc.text.trim().is_empty() {
            return Err(ApiError::Unprocessable(format!(
                "document {:?}: text is empty",
                doc.id
            )));
        }
    }
    let slot = state.collection(&name)?;
    let config = blocking_read(slot.clone(), |_, c| Ok(c.config().clone())).await?;
    let to_embed: Vec<String> = request
        .documents
        .iter()
        .filter(|d| d.vector.is_none())
        .map(|d| embed_text(d.title.as_deref(), &d.text))
        .collect();
    let mut embedded = if to_embed.is_empty() {
        Vec::new()
    } else {
        state.encoder_for(&config).await?.encode(to_embed).await?
    }
    .into_iter();
    let mut docs = Vec::with_capacity(request.documents.len());
    for doc in request.documents {
        let vector = match doc.vector {
            Some(vector) => vector,
            None => embedded
                .next()
                .ok_or_else(|| ApiError::Internal("the encoder returned too few rows".into()))?,
        };
        docs.push(Document {
            id: doc.id,
            text: doc.text,
            title: doc.title,
            metadata: doc.metadata,
            vector,
        });
    }
    let upserted = docs.len();
    let count = blocking_write(slot, move |c| {
        c.upsert(docs)?;
        Ok(c.count())
    })
    .await?;
    Ok(Json(UpsertResponse { upserted, count }))
}

/// The text a document is embedded from: title and body, as `pairwise index build` does.
fn embed_text(title: Option<&str>, text: &str) -> String {
    match title.map(str::trim).filter(|t| !t.is_empty()) {
        Some(title) => format!("{title} {text}"),
        None => text.to_owned(),
    }
}

/// `GET …/documents/{id}` query string.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GetOptions {
    /// Include the vector.
    #[serde(default)]
    pub vector: bool,
}

/// `GET /v1/collections/{name}/documents/{id}`.
///
/// # Errors
/// 404 for an unknown collection or document.
pub async fn get(
    State(state): State<AppState>,
    ApiPath((name, id)): ApiPath<(String, String)>,
    ApiQuery(options): ApiQuery<GetOptions>,
) -> Result<Json<Value>, ApiError> {
    let slot = state.collection(&name)?;
    let doc = blocking_read(slot, move |_, c| {
        c.get(&id)
            .cloned()
            .ok_or_else(|| ApiError::NotFound(format!("no document with id {id:?}")))
    })
    .await?;
    Ok(Json(document_json(&doc, options.vector)))
}

/// A stored document as JSON, its vector only when asked for.
pub(crate) fn document_json(doc: &Document, with_vector: bool) -> Value {
    let mut value = serde_json::json!({
        "id": doc.id,
        "text": doc.text,
        "title": doc.title,
        "metadata": doc.metadata,
    });
    if with_vector {
        value["vector"] = serde_json::json!(doc.vector);
    }
    value
}

/// `DELETE /v1/collections/{name}/documents/{id}`.
///
/// # Errors
/// 404 for an unknown collection or document.
pub async fn delete_one(
    State(state): State<AppState>,
    ApiPath((name, id)): ApiPath<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let slot = state.collection(&name)?;
    let deleted = blocking_write(slot, move |c| Ok(c.delete(vec![id])?)).await?;
    if deleted == 0 {
        return Err(ApiError::NotFound("no such document".to_owned()));
    }
    Ok(Json(serde_json::json!({"deleted": deleted})))
}

/// `POST /v1/collections/{name}/documents/delete` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeleteRequest {
    /// Ids to delete; absent ones are ignored.
    pub ids: Vec<String>,
}

/// `POST /v1/collections/{name}/documents/delete`: deletes a batch; answers how many existed.
///
/// # Errors
/// 404 for an unknown collection; 413 for too many ids.
pub async fn delete_many(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    ApiJson(request): ApiJson<DeleteRequest>,
) -> Result<Json<Value>, ApiError> {
    let max = state.config().limits.max_batch_docs;
    if request.ids.len() > max {
        return Err(ApiError::PayloadTooLarge(format!(
            "{} ids in one batch; the limit is {max}",
            request.ids.len()
        )));
    }
    let slot = state.collection(&name)?;
    let deleted = blocking_write(slot, move |c| Ok(c.delete(request.ids)?)).await?;
    Ok(Json(serde_json::json!({"deleted": deleted})))
}
