//! `GET /openapi.json`: the OpenAPI 3.1 document, written by hand from [`ROUTES`]; a test
//! checks that every route it lists answers on the router, and that the router has no other.

use axum::Json;
use serde_json::{json, Map, Value};

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Never needs a key.
    Public,
    /// Needs a key only when `auth.protect_reads` is set.
    Read,
    /// Needs a key whenever keys are configured.
    Write,
}

/// One documented route.
#[derive(Debug, Clone, Copy)]
pub struct RouteDoc {
    /// HTTP method, lower case.
    pub method: &'static str,
    /// Path template with `{param}`s.
    pub path: &'static str,
    /// Who may call it.
    pub access: Access,
    /// One line.
    pub summary: &'static str,
    /// The request body's schema name in `components.schemas`, if any.
    pub body: Option<&'static str>,
    /// The error statuses it can answer besides 401/403/413/415/503.
    pub errors: &'static [u16],
}

/// Every route of the API.
pub const ROUTES: &[RouteDoc] = &[
    RouteDoc { method: "get", path: "/healthz", access: Access::Public, summary: "Liveness: 200 while the process runs.", body: None, errors: &[] },
    RouteDoc { method: "get", path: "/readyz", access: Access::Public, summary: "Readiness: 200 once collections and the default model are loaded, else 503.", body: None, errors: &[] },
    RouteDoc { method: "get", path: "/metrics", access: Access::Public, summary: "Prometheus metrics: requests and latency by route, search latency by stage, encoder batching.", body: None, errors: &[] },
    RouteDoc { method: "get", path: "/openapi.json", access: Access::Public, summary: "This document.", body: None, errors: &[] },
    RouteDoc { method: "get", path: "/v1/collections", access: Access::Read, summary: "List collections.", body: None, errors: &[] },
    RouteDoc { method: "post", path: "/v1/collections", access: Access::Write, summary: "Create a collection (201).", body: Some("CreateCollection"), errors: &[400, 409, 422] },
    RouteDoc { method: "get", path: "/v1/collections/{name}", access: Access::Read, summary: "A collection: count, dim, distance, model, index, manifest.", body: None, errors: &[404] },
    RouteDoc { method: "delete", path: "/v1/collections/{name}", access: Access::Write, summary: "Delete a collection and its folder.", body: None, errors: &[404] },
    RouteDoc { method: "put", path: "/v1/collections/{name}/documents", access: Access::Write, summary: "Upsert a batch; texts without a vector are embedded with the collection's model; answered once durable.", body: Some("Upsert"), errors: &[400, 404, 422] },
    RouteDoc { method: "get", path: "/v1/collections/{name}/documents/{id}", access: Access::Read, summary: "A document (add ?vector=true for its vector).", body: None, errors: &[400, 404] },
    RouteDoc { method: "delete", path: "/v1/collections/{name}/documents/{id}", access: Access::Write, summary: "Delete a document.", body: None, errors: &[404] },
    RouteDoc { method: "post", path: "/v1/collections/{name}/documents/delete", access: Access::Write, summary: "Delete documents by id; answers how many existed.", body: Some("DeleteDocuments"), errors: &[400, 404, 422] },
    RouteDoc { method: "post", path: "/v1/collections/{name}/search", access: Access::Read, summary: "Search by query text or vector: dense, bm25 or hybrid, with k and a metadata filter.", body: Some("Search"), errors: &[400, 404, 422] },
    RouteDoc { method: "post", path: "/v1/embed", access: Access::Read, summary: "Embed texts.", body: Some("Embed"), errors: &[400, 422] },
    RouteDoc { method: "post", path: "/v1/eval/roc", access: Access::Write, summary: "ROC summary of labelled scores: AUC with bootstrap CI, ROC points, EER, TAR@FAR, best threshold, histograms; \"save\": true stores a report.", body: Some("Roc"), errors: &[400, 422] },
    RouteDoc { method: "post", path: "/v1/collections/{name}/diagnostics", access: Access::Write, summary: "Queries with relevant ids: nDCG@10, recall@k, pooled AUC of the dense scores, histograms, suggested threshold; \"save\": true stores a report.", body: Some("Diagnostics"), errors: &[400, 404, 422] },
    RouteDoc { method: "get", path: "/v1/reports/{id}", access: Access::Read, summary: "A saved report as JSON.", body: None, errors: &[404] },
    RouteDoc { method: "get", path: "/reports/{id}", access: Access::Read, summary: "A saved report as a self-contained HTML page (inline SVG ROC curve, histograms, metrics table).", body: None, errors: &[404] },
];

fn schemas() -> Value {
    json!({
        "Error": {"type": "object", "required": ["error"], "properties": {"error": {
            "type": "object", "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}},
        "CreateCollection": {"type": "object", "required": ["name"], "additionalProperties": false, "properties": {
            "name": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
            "distance": {"enum": ["cosine", "dot"]},
            "model": {"type": "string", "description": "'default' or a name from the server config's [models]"},
            "dim": {"type": "integer", "minimum": 1},
            "index": {"type": "object", "description": "{\"type\": \"hnsw\", \"m\", \"ef_construction\", \"ef_search\"} or {\"type\": \"flat\"}"},
            "bm25": {"type": "object"}}},
        "Document": {"type": "object", "required": ["id", "text"], "additionalProperties": false, "properties": {
            "id": {"type": "string", "maxLength": 512}, "text": {"type": "string"}, "title": {"type": "string"},
            "metadata": {"type": "object"}, "vector": {"type": "array", "items": {"type": "number"}}}},
        "Upsert": {"type": "object", "required": ["documents"], "additionalProperties": false, "properties": {
            "documents": {"type": "array", "items": {"$ref": "#/components/schemas/Document"}}}},
        "DeleteDocuments": {"type": "object", "required": ["ids"], "properties": {"ids": {"type": "array", "items": {"type": "string"}}}},
        "Search": {"type": "object", "additionalProperties": false, "properties": {
            "query": {"type": "string"}, "vector": {"type": "array", "items": {"type": "number"}},
            "mode": {"enum": ["dense", "bm25", "hybrid"]}, "k": {"type": "integer", "minimum": 1},
            "filter": {"type": "object", "description": "e.g. {\"year\": {\"$gte\": 2010}}; $eq $ne $gt $gte $lt $lte $in $nin $and $or $not"},
            "fusion": {"type": "object"}, "include_documents": {"type": "boolean"}}},
        "Embed": {"type": "object", "required": ["texts"], "additionalProperties": false, "properties": {
            "texts": {"type": "array", "items": {"type": "string"}}, "model": {"type": "string"}}},
        "Roc": {"type": "object", "required": ["labels", "scores"], "properties": {
            "labels": {"type": "array", "items": {"enum": [0, 1]}},
            "scores": {"type": "array", "items": {"type": "number"}},
            "options": {"type": "object", "description": "bootstrap_resamples, seed, fars, max_roc_points, histogram_bins, threshold_criterion (youden|accuracy)"},
            "save": {"type": "boolean"}, "title": {"type": "string"}}},
        "Diagnostics": {"type": "object", "required": ["queries"], "properties": {
            "queries": {"type": "array", "items": {"type": "object", "required": ["query", "relevant"], "properties": {
                "id": {"type": "string"}, "query": {"type": "string"}, "relevant": {"type": "array", "items": {"type": "string"}}}}},
            "k": {"type": "integer", "minimum": 1}, "negatives": {"type": "integer", "minimum": 1},
            "options": {"type": "object"}, "save": {"type": "boolean"}, "title": {"type": "string"}}}
    })
}

/// The whole document.
pub fn openapi() -> Value {
    let mut paths = Map::new();
    for route in ROUTES {
        let mut responses = Map::new();
        responses.insert("200".into(), json!({"description": "OK"}));
        let mut errors: Vec<u16> = route.errors.to_vec();
        if route.access != Access::Public {
            errors.extend([401, 403, 503]);
        }
        if route.body.is_some() {
            errors.extend([413, 415]);
        }
        errors.sort_unstable();
        errors.dedup();
        for status in errors {
            responses.insert(
                status.to_string(),
                json!({"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}),
            );
        }
        let mut operation = json!({"summary": route.summary, "responses": responses});
        if let Some(body) = route.body {
            operation["requestBody"] = json!({"required": true, "content": {"application/json": {
                "schema": {"$ref": format!("#/components/schemas/{body}")}}}});
        }
        if route.access != Access::Public {
            operation["security"] = json!([{"bearer": []}]);
        }
        let parameters: Vec<Value> = route
            .path
            .split('/')
            .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        if !parameters.is_empty() {
            operation["parameters"] = Value::Array(parameters);
        }
        let entry = paths
            .entry(route.path.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        entry[route.method] = operation;
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "pairwise", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Semantic search over collections of embedded documents, and ROC evaluation."},
        "paths": paths,
        "components": {"schemas": schemas(), "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    })
}

/// `GET /openapi.json`.
pub async fn document() -> Json<Value> {
    Json(openapi())
}
