//! The [`Report`] data model: what an HTML report shows, as serde JSON.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::histogram::ScoreHistograms;
use crate::roc::RocPoint;
use crate::summary::{BestThreshold, RocSummary};

/// What kind of evaluation a report shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportKind {
    /// Labels and scores given directly (e.g. `POST /v1/eval/roc`).
    Roc,
    /// Labelled text pairs scored by cosine similarity (`pairwise eval pairs`).
    Pairs,
    /// Pooled retrieval AUC of a BEIR evaluation (`pairwise eval retrieval`).
    Retrieval,
    /// Retrieval diagnostics of a collection.
    Diagnostics,
}

impl ReportKind {
    /// A short human-readable label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Roc => "ROC evaluation",
            Self::Pairs => "Labelled pairs",
            Self::Retrieval => "Retrieval (pooled AUC)",
            Self::Diagnostics => "Collection diagnostics",
        }
    }
}

/// One row of the metrics table: a metric's value for each series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricRow {
    /// Metric name as shown.
    pub name: String,
    /// One value per column of [`MetricsTable::columns`]; `None` = undefined.
    pub values: Vec<Option<f64>>,
    /// Digits after the decimal point when shown (0 for counts).
    pub decimals: usize,
}

/// The metrics table: one column per series, one row per metric.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MetricsTable {
    /// Column headers (series names).
    pub columns: Vec<String>,
    /// Rows in display order.
    pub rows: Vec<MetricRow>,
}

/// One named ROC curve of the plot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamedRoc {
    /// Legend name (e.g. "zero-shot").
    pub name: String,
    /// AUC shown in the legend.
    pub auc: f64,
    /// Curve points from `(0, 0)` to `(1, 1)`.
    pub points: Vec<RocPoint>,
}

/// Score histograms of one series, with its suggested threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamedHistograms {
    /// Series name.
    pub name: String,
    /// Positive and negative counts over shared bins.
    pub histograms: ScoreHistograms,
    /// Threshold marked on the plot, if any.
    pub threshold: Option<f64>,
}

/// Everything an HTML report shows; render it with
/// [`render_html`](crate::report::render_html). Serialises to the report's JSON download.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Page title.
    pub title: String,
    /// What was evaluated.
    pub kind: ReportKind,
    /// Creation time, RFC 3339 UTC (see [`timestamp_utc`]).
    pub created: String,
    /// Metrics table, one column per series.
    pub metrics: MetricsTable,
    /// ROC curves drawn on one plot (e.g. before and after fine-tuning).
    pub curves: Vec<NamedRoc>,
    /// Score histograms, one panel per series.
    pub histograms: Vec<NamedHistograms>,
    /// Suggested decision threshold of the last series (the one a reader acts on).
    pub threshold: Option<BestThreshold>,
    /// The evaluation JSON(s) the report was made from, shown verbatim.
    pub sources: Vec<serde_json::Value>,
}

/// One evaluated model (or score set) for [`Report::from_series`].
#[derive(Debug, Clone, PartialEq)]
pub struct ReportSeries {
    /// Name in the legend and the table header.
    pub name: String,
    /// Its ROC summary.
    pub summary: RocSummary,
    /// Metrics listed above the ROC ones (e.g. nDCG@10), in order.
    pub extra_metrics: Vec<(String, Option<f64>)>,
}

impl Report {
    /// Builds a report from one or more series: one ROC curve, one histogram
    /// panel and one table column each. The table lists the union of the
    /// series' extra metrics (first-seen order), then AUC with its 95 %
    /// interval, EER, TAR at each FAR, the suggested threshold, and counts.
    pub fn from_series(
        title: impl Into<String>,
        kind: ReportKind,
        created: impl Into<String>,
        series: &[ReportSeries],
        sources: Vec<serde_json::Value>,
    ) -> Self {
        let columns: Vec<String> = series.iter().map(|s| s.name.clone()).collect();
        let mut rows: Vec<MetricRow> = Vec::new();
        for s in series {
            for (name, _) in &s.extra_metrics {
                if !rows.iter().any(|r| &r.name == name) {
                    let values = series
                        .iter()
                        .map(|t| {
                            t.extra_metrics
                                .iter()
                                .find(|(n, _)| n == name)
                                .and_then(|m| m.1)
                        })
                        .collect();
                    rows.push(MetricRow {
                        name: name.clone(),
                        values,
                        decimals: 4,
                    });
                }
            }
        }
        let summaries: Vec<&RocSummary> = series.iter().map(|s| &s.summary).collect();
        rows.extend(summary_rows(&summaries));
        Self {
            title: title.into(),
            kind,
            created: created.into(),
            metrics: MetricsTable { columns, rows },
            curves: series
                .iter()
                .map(|s| NamedRoc {
                    name: s.name.clone(),
                    auc: s.summary.auc,
                    points: s.summary.roc.clone(),
                })
                .collect(),
            histograms: series
                .iter()
                .map(|s| NamedHistograms {
                    name: s.name.clone(),
                    histograms: s.summary.histograms.clone(),
                    threshold: Some(s.summary.best_threshold.threshold),
                })
                .collect(),
            threshold: series.last().map(|s| s.summary.best_threshold),
            sources,
        }
    }
}

/// The ROC rows of the metrics table.
fn summary_rows(summaries: &[&RocSummary]) -> Vec<MetricRow> {
    let row =
        |name: String, decimals: usize, value: &dyn Fn(&RocSummary) -> Option<f64>| MetricRow {
            name,
            values: summaries.iter().map(|s| value(s)).collect(),
            decimals,
        };
    let mut rows = vec![
        row("AUC".into(), 4, &|s| Some(s.auc)),
        row("AUC 95% CI lower".into(), 4, &|s| {
            s.auc_ci95.map(|c| c.lower)
        }),
        row("AUC 95% CI upper".into(), 4, &|s| {
            s.auc_ci95.map(|c| c.upper)
        }),
        row("EER".into(), 4, &|s| Some(s.eer)),
        row("EER threshold".into(), 4, &|s| Some(s.eer_threshold)),
    ];
    let mut fars: Vec<f64> = summaries
        .iter()
        .flat_map(|s| s.tar_at_far.iter().map(|t| t.far))
        .collect();
    fars.sort_by(f64::total_cmp);
    fars.dedup();
    for far in fars {
        rows.push(row(format!("TAR @ FAR {far}"), 4, &|s| {
            s.tar_at_far.iter().find(|t| t.far == far).map(|t| t.tar)
        }));
    }
    let criterion = summaries
        .last()
        .map_or("Youden", |s| match s.best_threshold.criterion {
            crate::summary::ThresholdCriterion::Youden => "Youden",
            crate::summary::ThresholdCriterion::Accuracy => "accuracy",
        });
    rows.extend([
        row(format!("Threshold (best {criterion})"), 4, &|s| {
            Some(s.best_threshold.threshold)
        }),
        row("TPR at threshold".into(), 4, &|s| {
            Some(s.best_threshold.tpr)
        }),
        row("FPR at threshold".into(), 4, &|s| {
            Some(s.best_threshold.fpr)
        }),
        row("Accuracy at threshold".into(), 4, &|s| {
            Some(s.best_threshold.accuracy)
        }),
        row("Positives".into(), 0, &|s| Some(s.n_positives as f64)),
        row("Negatives".into(), 0, &|s| Some(s.n_negatives as f64)),
    ]);
    rows
}

/// `time` as RFC 3339 UTC with second precision, e.g. `2026-11-27T10:00:00Z`
/// (times before 1970 print as the epoch).
pub fn timestamp_utc(time: SystemTime) -> String {
    let secs = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's civil_from_days, for days since 1970-01-01.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::summary::RocOptions;
    use std::time::Duration;

    #[test]
    fn timestamps_match_known_dates() {
        let at = |s| timestamp_utc(UNIX_EPOCH + Duration::from_secs(s));
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        // date -u -d @951782400 -> 2000-02-29 00:00:00 (leap day).
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z");
        // date -u -d @1795773600 -> 2026-11-27 10:00:00.
        assert_eq!(at(1_795_773_600), "2026-11-27T10:00:00Z");
    }

    #[test]
    fn table_has_one_column_per_series_and_the_union_of_metrics() {
        let options = RocOptions::default();
        let a = RocSummary::compute(&[true, false, true, false], &[0.9, 0.1, 0.4, 0.5], &options)
            .unwrap();
        let b = RocSummary::compute(&[true, false], &[0.9, 0.1], &options).unwrap();
        let series = [
            ReportSeries {
                name: "before".into(),
                summary: a,
                extra_metrics: vec![("nDCG@10".into(), Some(0.5))],
            },
            ReportSeries {
                name: "after".into(),
                summary: b.clone(),
                extra_metrics: vec![("MRR@10".into(), Some(0.7))],
            },
        ];
        let r = Report::from_series("t", ReportKind::Roc, "now", &series, vec![]);
        assert_eq!(r.metrics.columns, vec!["before", "after"]);
        assert_eq!(r.metrics.rows[0].values, vec![Some(0.5), None]);
        assert_eq!(r.metrics.rows[1].values, vec![None, Some(0.7)]);
        assert_eq!(r.metrics.rows[2].name, "AUC");
        assert_eq!(r.metrics.rows[2].values, vec![Some(0.75), Some(1.0)]);
        assert_eq!((r.curves.len(), r.histograms.len()), (2, 2));
        assert_eq!(r.threshold, Some(b.best_threshold));
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(serde_json::from_str::<Report>(&json).unwrap(), r);
    }
}
