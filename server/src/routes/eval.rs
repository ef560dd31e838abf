//! Evaluation: `POST /v1/eval/roc` (labels and scores → ROC summary) and
//! `POST /v1/collections/{name}/diagnostics` (queries with their relevant ids → nDCG@10,
//! recall@k, the pooled AUC of the collection's dense scores, score histograms and a suggested
//! threshold). Either can be saved as a report (see `reports.rs`).

use std::collections::{HashMap, HashSet};

use axum::extract::State;
use axum::Json;
use pairwise_eval::report::ReportKind;
use pairwise_eval::{evaluate, Metric, Qrels, RocOptions, RocSummary, Run, ScoredDoc};
use pairwise_index::{Distance, SearchMode, SearchRequest};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath};
use crate::routes::collections::blocking_read;
use crate::routes::reports::{save_report, ReportLink};
use crate::state::AppState;

/// Most scored pairs in one ROC request.
const MAX_PAIRS: usize = 1_000_000;

/// Most pairs × bootstrap resamples in one request (keeps its CPU time bounded).
const MAX_BOOTSTRAP_WORK: usize = 200_000_000;

/// Most queries in one diagnostics request.
const MAX_QUERIES: usize = 1000;

/// Most highest-scoring non-relevant documents per query taken as negatives.
const MAX_NEGATIVES: usize = 1000;

/// `POST /v1/eval/roc` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RocRequest {
    /// 0 (non-match) or 1 (match) per pair.
    pub labels: Vec<u8>,
    /// The model's score per pair; higher means more similar.
    pub scores: Vec<f64>,
    /// Bootstrap resamples and seed, FARs, ROC points, histogram bins, threshold criterion.
    #[serde(default)]
    pub options: Option<RocOptions>,
    /// Save the result as a report viewable at `/reports/{id}`.
    #[serde(default)]
    pub save: bool,
    /// The saved report's title.
    #[serde(default)]
    pub title: Option<String>,
}

/// `POST /v1/eval/roc` answer: the summary, plus where its report lives when saved.
#[derive(Debug, Serialize)]
pub struct RocResponse {
    /// AUC (with its bootstrap interval), EER, TAR@FAR, best threshold, ROC points,
    /// histograms.
    #[serde(flatten)]
    pub summary: RocSummary,
    /// The saved report.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<ReportLink>,
}

/// `POST /v1/eval/roc`.
///
/// # Errors
/// 422 for mismatched lengths, labels other than 0/1, non-finite scores, a single class or bad
/// options; 413 for too many pairs.
pub async fn roc(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<RocRequest>,
) -> Result<Json<RocResponse>, ApiError> {
    let options = request.options.unwrap_or_default();
    let n = request.labels.len();
    if n > MAX_PAIRS {
        return Err(ApiError::PayloadTooLarge(format!(
            "{n} pairs; the limit is {MAX_PAIRS}"
        )));
    }
    check_bootstrap_work(n, &options)?;
    if let Some(bad) = request.labels.iter().find(|&&l| l > 1) {
        return Err(ApiError::Unprocessable(format!(
            "labels must be 0 or 1, got {bad}"
        )));
    }
    let labels: Vec<bool> = request.labels.iter().map(|&l| l == 1).collect();
    let scores = request.scores;
    let summary =
        tokio::task::spawn_blocking(move || RocSummary::compute(&labels, &scores, &options))
            .await??;
    let report = if request.save {
        let title = request.title.unwrap_or_else(|| "ROC evaluation".to_owned());
        let source = serde_json::json!({"route": "/v1/eval/roc", "pairs": n});
        Some(
            save_report(
                &state,
                title,
                ReportKind::Roc,
                "scores",
                summary.clone(),
                Vec::new(),
                source,
            )
            .await?,
        )
    } else {
        None
    };
    Ok(Json(RocResponse { summary, report }))
}

fn check_bootstrap_work(n: usize, options: &RocOptions) -> Result<(), ApiError> {
    if n.saturating_mul(options.bootstrap_resamples) > MAX_BOOTSTRAP_WORK {
        return Err(ApiError::Unprocessable(format!(
            "{n} pairs × {} bootstrap resamples is over {MAX_BOOTSTRAP_WORK}; ask for fewer resamples",
            options.bootstrap_resamples
        )));
    }
    Ok(())
}

/// One judged query.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JudgedQuery {
    /// Its id (default: its position).
    #[serde(default)]
    pub id: Option<String>,
    /// The query text.
    pub query: String,
    /// Ids of the documents relevant to it.
    pub relevant: Vec<String>,
}

/// `POST /v1/collections/{name}/diagnostics` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiagnosticsRequest {
    /// The judged queries.
    pub queries: Vec<JudgedQuery>,
    /// The cut-off of recall@k (default 100).
    #[serde(default)]
    pub k: Option<usize>,
    /// Highest-scoring non-relevant documents per query taken as negatives (default 100).
    #[serde(default)]
    pub negatives: Option<usize>,
    /// Options of the ROC summary of the pooled scores.
    #[serde(default)]
    pub options: Option<RocOptions>,
    /// Save the result as a report.
    #[serde(default)]
    pub save: bool,
    /// The saved report's title.
    #[serde(default)]
    pub title: Option<String>,
}

/// `POST /v1/collections/{name}/diagnostics` answer.
#[derive(Debug, Serialize)]
pub struct DiagnosticsResponse {
    /// Queries evaluated.
    pub n_queries: usize,
    /// Mean nDCG@10 of the dense ranking.
    pub ndcg_at_10: Option<f64>,
    /// The recall cut-off.
    pub k: usize,
    /// Mean recall@k.
    pub recall_at_k: Option<f64>,
    /// The pooled AUC (relevant scores against the best non-relevant ones, all queries pooled)
    /// with its ROC summary, histograms and suggested threshold.
    pub pooled: RocSummary,
    /// The saved report.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<ReportLink>,
}

/// `POST /v1/collections/{name}/diagnostics`: evaluates the collection's dense scores.
///
/// # Errors
/// 404 unknown collection; 422 for no query, an empty query text, no relevant id, k or
/// negatives out of range, or relevant ids that the collection does not hold; 413 for too
/// many queries.
pub async fn diagnostics(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    ApiJson(request): ApiJson<DiagnosticsRequest>,
) -> Result<Json<DiagnosticsResponse>, ApiError> {
    let invalid = |m: String| Err(ApiError::Unprocessable(m));
    let n = request.queries.len();
    if n == 0 {
        return invalid("queries is empty".to_owned());
    }
    if n > MAX_QUERIES {
        return Err(ApiError::PayloadTooLarge(format!(
            "{n} queries; the limit is {MAX_QUERIES}"
        )));
    }
    let k = request.k.unwrap_or(100);
    let max_k = state.config().limits.max_k;
    if k == 0 || k > max_k {
        return invalid(format!("k must lie in 1..={max_k}, got {k}"));
    }
    let negatives = request.negatives.unwrap_or(100);
    if negatives == 0 || negatives > MAX_NEGATIVES {
        return invalid(format!(
            "negatives must lie in 1..={MAX_NEGATIVES}, got {negatives}"
        ));
    }
    let options = request.options.unwrap_or_default();
    check_bootstrap_work(n * (negatives + 10), &options)?;
    for (i, q) in request.queries.iter().enumerate() {
        if q.query.trim().is_empty() || q.query.len() > state.config().limits.max_text_bytes {
            return invalid(format!("query {i} is empty or too long"));
        }
        if q.relevant.is_empty() {
            return invalid(format!("query {i} has no relevant id"));
        }
    }
    let slot = state.collection(&name)?;
    let config = blocking_read(slot.clone(), |_, c| Ok(c.config().clone())).await?;
    let encoder = state.encoder_for(&config).await?;
    let texts = request.queries.iter().map(|q| q.query.clone()).collect();
    let vectors = encoder.encode(texts).await?;
    let queries: Vec<(String, HashSet<String>)> = request
        .queries
        .into_iter()
        .enumerate()
        .map(|(i, q)| {
            (
                q.id.unwrap_or_else(|| i.to_string()),
                q.relevant.into_iter().collect(),
            )
        })
        .collect();
    let qrels: Qrels = queries
        .iter()
        .map(|(id, relevant)| {
            (
                id.clone(),
                relevant.iter().map(|d| (d.clone(), 1)).collect(),
            )
        })
        .collect();
    let depth = k.max(10).max(negatives);
    let (run, positives, negative_scores) = blocking_read(slot, move |_, c| {
        let mut run: Run = HashMap::new();
        let (mut positives, mut negative_scores) = (Vec::new(), Vec::new());
        for ((id, relevant), vector) in queries.iter().zip(&vectors) {
            let request = SearchRequest {
                vector: Some(vector),
                mode: SearchMode::Dense,
                k: depth + relevant.len(),
                ..SearchRequest::default()
            };
            let hits = c.search(&request)?;
            for doc_id in relevant {
                let doc = c.get(doc_id).ok_or_else(|| {
                    ApiError::Unprocessable(format!(
                        "query {id}: relevant id {doc_id:?} is not in the collection"
                    ))
                })?;
                positives.push(similarity(c.config().distance, vector, &doc.vector));
            }
            negative_scores.extend(
                hits.iter()
                    .filter(|h| !relevant.contains(&h.id))
                    .take(negatives)
                    .map(|h| f64::from(h.score)),
            );
            let ranked = hits
                .iter()
                .take(depth)
                .map(|h| ScoredDoc {
                    doc_id: h.id.clone(),
                    score: f64::from(h.score),
                })
                .collect();
            run.insert(id.clone(), ranked);
        }
        Ok((run, positives, negative_scores))
    })
    .await?;
    let metrics = evaluate(&qrels, &run, &[10, k]);
    let roc_options = options.clone();
    let pooled = tokio::task::spawn_blocking(move || {
        RocSummary::from_pos_neg(&positives, &negative_scores, &roc_options)
    })
    .await??;
    let ndcg_at_10 = metrics.get(Metric::Ndcg, 10);
    let recall_at_k = metrics.get(Metric::Recall, k);
    let report = if request.save {
        let title = request
            .title
            .unwrap_or_else(|| format!("Diagnostics of collection {name}"));
        let extra = vec![
            ("nDCG@10".to_owned(), ndcg_at_10),
            (format!("Recall@{k}"), recall_at_k),
        ];
        let source = serde_json::json!({"route": "/v1/collections/{name}/diagnostics",
            "collection": name, "queries": n, "k": k, "negatives": negatives});
        Some(
            save_report(
                &state,
                title,
                ReportKind::Diagnostics,
                &name,
                pooled.clone(),
                extra,
                source,
            )
            .await?,
        )
    } else {
        None
    };
    Ok(Json(DiagnosticsResponse {
        n_queries: n,
        ndcg_at_10,
        k,
        recall_at_k,
        pooled,
        report,
    }))
}

/// The score the collection's index gives a document (the index normalises both vectors for
/// cosine, so this does too).
fn similarity(distance: Distance, a: &[f32], b: &[f32]) -> f64 {
    match distance {
        Distance::Cosine => {
            let dot: f64 = a
                .iter()
                .zip(b)
                .map(|(x, y)| f64::from(*x) * f64::from(*y))
                .sum();
            let norm = |v: &[f32]| v.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
            let denominator = norm(a) * norm(b);
            if denominator > 0.0 {
                dot / denominator
            } else {
                0.0
            }
        }
        Distance::Dot | Distance::L2 => f64::from(distance.similarity(a, b)),
    }
}
