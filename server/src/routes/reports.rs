//! Saved evaluation reports: `GET /reports/{id}` (a self-contained HTML page with the ROC
//! curve, score histograms and metrics table as inline SVG) and `GET /v1/reports/{id}` (the
//! same report as JSON). Reports are files `<data_dir>/.reports/<id>.json` (a folder name no
//! collection can take).

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::Json;
use pairwise_eval::report::{render_html, timestamp_utc, Report, ReportKind, ReportSeries};
use pairwise_eval::RocSummary;
use serde::Serialize;

use crate::error::ApiError;
use crate::extract::ApiPath;
use crate::state::{valid_name, AppState};

/// The reports folder under the data folder.
const REPORTS_DIR: &str = ".reports";

/// Where a saved report can be read.
#[derive(Debug, Clone, Serialize)]
pub struct ReportLink {
    /// Its id.
    pub id: String,
    /// The HTML page.
    pub html: String,
    /// The JSON document.
    pub json: String,
}

fn report_path(state: &AppState, id: &str) -> PathBuf {
    state
        .config()
        .data_dir
        .join(REPORTS_DIR)
        .join(format!("{id}.json"))
}

/// A new id: milliseconds since the epoch and a per-process counter, in hex.
fn new_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    format!("{millis:x}-{:x}", COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// Builds a one-series report and writes it atomically (temporary file, then rename).
pub(crate) async fn save_report(
    state: &AppState,
    title: String,
    kind: ReportKind,
    series_name: &str,
    summary: RocSummary,
    extra_metrics: Vec<(String, Option<f64>)>,
    source: serde_json::Value,
) -> Result<ReportLink, ApiError> {
    let series = ReportSeries {
        name: series_name.to_owned(),
        summary,
        extra_metrics,
    };
    let created = timestamp_utc(SystemTime::now());
    let report = Report::from_series(title, kind, created, &[series], vec![source]);
    let id = new_id();
    let path = report_path(state, &id);
    let bytes = serde_json::to_vec(&report)
        .map_err(|e| ApiError::Internal(format!("cannot encode a report: {e}")))?;
    tokio::task::spawn_blocking(move || -> Result<(), ApiError> {
        let io = |e: std::io::Error| ApiError::Internal(format!("cannot save a report: {e}"));
        if let Some(dir) = path.parent() {
            fs_err::create_dir_all(dir).map_err(io)?;
        }
        let tmp = path.with_extension("json.tmp");
        fs_err::write(&tmp, &bytes).map_err(io)?;
        fs_err::rename(&tmp, &path).map_err(io)
    })
    .await??;
    Ok(ReportLink {
        html: format!("/reports/{id}"),
        json: format!("/v1/reports/{id}"),
        id,
    })
}

async fn load(state: &AppState, id: &str) -> Result<Report, ApiError> {
    let missing = || ApiError::NotFound(format!("no report {id:?}"));
    if !valid_name(id) {
        return Err(missing());
    }
    let path = report_path(state, id);
    let bytes = match tokio::task::spawn_blocking(move || fs_err::read(&path)).await? {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(missing()),
        Err(e) => return Err(ApiError::Internal(format!("cannot read a report: {e}"))),
    };
    serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::Internal(format!("report {id} is not valid: {e}")))
}

/// `GET /v1/reports/{id}`: the report as JSON.
///
/// # Errors
/// 404 for an unknown id.
pub async fn report_json(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Report>, ApiError> {
    Ok(Json(load(&state, &id).await?))
}

/// `GET /reports/{id}`: the report as a self-contained HTML page.
///
/// # Errors
/// 404 for an unknown id.
pub async fn report_html(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<impl IntoResponse, ApiError> {
    let report = load(&state, &id).await?;
    Ok((
        [(CONTENT_TYPE, "text/html; charset=utf-8")],
        render_html(&report),
    ))
}
