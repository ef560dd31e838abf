//! Evaluation reports: a serde [`Report`] (title, metrics table, named ROC
//! curves, score histograms, suggested threshold, source JSON) and
//! [`render_html`], which draws it as one self-contained HTML page with inline
//! SVG (no JavaScript, no external assets).
//!
//! ```
//! use pairwise_eval::report::{render_html, timestamp_utc, Report, ReportKind, ReportSeries};
//! use pairwise_eval::{RocOptions, RocSummary};
//!
//! let labels = [true, false, true, false, true, false];
//! let scores = [0.9, 0.2, 0.7, 0.4, 0.35, 0.3];
//! let summary = RocSummary::compute(&labels, &scores, &RocOptions::default())?;
//! let series = ReportSeries { name: "model".into(), summary, extra_metrics: vec![] };
//! let created = timestamp_utc(std::time::SystemTime::now());
//! let report = Report::from_series("Demo", ReportKind::Roc, created, &[series], vec![]);
//! let html = render_html(&report);
//! assert!(html.contains(r#"class="roc-curve""#));
//! # Ok::<(), pairwise_eval::EvalError>(())
//! ```

mod html;
mod model;
mod svg;

pub use html::{escape, render_html};
pub use model::{
    timestamp_utc, MetricRow, MetricsTable, NamedHistograms, NamedRoc, Report, ReportKind,
    ReportSeries,
};
