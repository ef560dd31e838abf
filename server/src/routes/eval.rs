//! `POST /v1/eval/roc`: labels and scores in, ROC analysis out.

use axum::extract::State;
use axum::Json;
use pairwise_eval::{auc, best_threshold, roc_curve, Threshold};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::AppState;

/// Most points of the returned ROC curve (it is downsampled beyond).
const MAX_ROC_POINTS: usize = 200;

/// Most scored pairs in one request.
const MAX_PAIRS: usize = 1_000_000;

/// The FARs reported when the request does not choose.
const DEFAULT_FARS: [f64; 3] = [0.001, 0.01, 0.1];

/// `POST /v1/eval/roc` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RocRequest {
    /// 0 (non-match) or 1 (match) per pair.
    pub labels: Vec<u8>,
    /// The model's score per pair; higher means more similar.
    pub scores: Vec<f64>,
    /// False accept rates at which to report the true accept rate.
    #[serde(default)]
    pub fars: Option<Vec<f64>>,
}

/// TAR at one FAR.
#[derive(Debug, Serialize)]
pub struct TarAtFar {
    /// The false accept rate.
    pub far: f64,
    /// The true accept rate there (None when the curve cannot reach it).
    pub tar: Option<f64>,
}

/// The ROC analysis.
#[derive(Debug, Serialize)]
pub struct RocResponse {
    /// Mann-Whitney AUC.
    pub auc: f64,
    /// Equal error rate.
    pub eer: f64,
    /// `(threshold, fpr, tpr)` points, at most 200.
    pub roc: Vec<pairwise_eval::RocPoint>,
    /// TAR at each requested FAR.
    pub tar_at_far: Vec<TarAtFar>,
    /// The accuracy-maximising threshold.
    pub best_threshold: Option<Threshold>,
    /// Positive pairs.
    pub n_pos: usize,
    /// Negative pairs.
    pub n_neg: usize,
}

/// `POST /v1/eval/roc`.
///
/// # Errors
/// 422 for mismatched lengths, labels other than 0/1, non-finite scores or a single class.
pub async fn roc(
    State(_state): State<AppState>,
    ApiJson(request): ApiJson<RocRequest>,
) -> Result<Json<RocResponse>, ApiError> {
    let (labels, scores, fars) = validate(request)?;
    let response = tokio::task::spawn_blocking(move || analyse(&labels, &scores, &fars)).await??;
    Ok(Json(response))
}

fn validate(request: RocRequest) -> Result<(Vec<bool>, Vec<f64>, Vec<f64>), ApiError> {
    let invalid = |m: String| Err(ApiError::Unprocessable(m));
    if request.labels.len() != request.scores.len() {
        return invalid(format!(
            "{} labels but {} scores",
            request.labels.len(),
            request.scores.len()
        ));
    }
    if request.labels.len() > MAX_PAIRS {
        return Err(ApiError::PayloadTooLarge(format!(
            "more than {MAX_PAIRS} pairs"
        )));
    }
    if let Some(bad) = request.labels.iter().find(|&&l| l > 1) {
        return invalid(format!("labels must be 0 or 1, got {bad}"));
    }
    if let Some(bad) = request.scores.iter().find(|s| !s.is_finite()) {
        return invalid(format!("scores must be finite, got {bad}"));
    }
    let fars = request.fars.unwrap_or_else(|| DEFAULT_FARS.to_vec());
    if let Some(bad) = fars.iter().find(|f| !(0.0..=1.0).contains(*f)) {
        return invalid(format!("fars must lie in [0, 1], got {bad}"));
    }
    let labels = request.labels.iter().map(|&l| l == 1).collect();
    Ok((labels, request.scores, fars))
}

fn analyse(labels: &[bool], scores: &[f64], fars: &[f64]) -> Result<RocResponse, ApiError> {
    let single_class = || ApiError::Unprocessable("both labels 0 and 1 must occur".to_owned());
    let auc = auc(labels, scores)?.ok_or_else(single_class)?;
    let curve = roc_curve(labels, scores)?.ok_or_else(single_class)?;
    Ok(RocResponse {
        auc,
        eer: curve.eer(),
        tar_at_far: fars
            .iter()
            .map(|&far| TarAtFar {
                far,
                tar: curve.tar_at_far(far),
            })
            .collect(),
        roc: curve.downsample(MAX_ROC_POINTS).points().to_vec(),
        best_threshold: best_threshold(labels, scores)?,
        n_pos: curve.n_pos(),
        n_neg: curve.n_neg(),
    })
}
