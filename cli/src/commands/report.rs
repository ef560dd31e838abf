//! `pairwise report`: evaluation JSON(s) written by `pairwise eval …` → one HTML report; and
//! the helpers `eval retrieval --report` and `eval pairs --report` share with it.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{bail, Context};
use clap::Args;
use pairwise_eval::report::{render_html, timestamp_utc, Report, ReportKind, ReportSeries};
use pairwise_eval::RocSummary;

/// Key of the ROC summary in an evaluation JSON.
pub(crate) const ROC_SUMMARY_KEY: &str = "roc_summary";

/// Arguments of `pairwise report`.
#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    /// Evaluation JSON written by `pairwise eval retrieval` or `pairwise eval pairs --json`;
    /// repeat it to draw several models on one ROC plot (e.g. before and after fine-tuning)
    #[arg(long = "json", value_name = "FILE", required = true)]
    json: Vec<PathBuf>,
    /// Legend name of each JSON, in the same order [default: the model folder's name]
    #[arg(long = "label", value_name = "NAME")]
    label: Vec<String>,
    /// HTML file to write
    #[arg(long, value_name = "FILE.html")]
    out: PathBuf,
    /// Page title [default: the task and the data set]
    #[arg(long)]
    title: Option<String>,
}

pub(crate) fn run(args: &ReportArgs) -> anyhow::Result<()> {
    if !args.label.is_empty() && args.label.len() != args.json.len() {
        bail!(
            "{} --label for {} --json: give one label per JSON, or none",
            args.label.len(),
            args.json.len()
        );
    }
    let mut results = Vec::with_capacity(args.json.len());
    for (i, path) in args.json.iter().enumerate() {
        let text = fs_err::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let value: serde_json::Value = serde_json::from_str(&text)
            .with_context(|| format!("{} is not valid JSON", path.display()))?;
        let label = args.label.get(i).cloned();
        results.push((label, value, path.clone()));
    }
    let report = build_report(args.title.as_deref(), &results)?;
    write_report(&args.out, &report)?;
    eprintln!(
        "report with {} ROC curve(s) written to {}",
        report.curves.len(),
        args.out.display()
    );
    Ok(())
}

/// Builds a report from evaluation results: `(legend label, JSON, where it came from)`.
pub(crate) fn build_report(
    title: Option<&str>,
    results: &[(Option<String>, serde_json::Value, PathBuf)],
) -> anyhow::Result<Report> {
    let mut series = Vec::with_capacity(results.len());
    let mut kinds = Vec::with_capacity(results.len());
    for (label, value, origin) in results {
        let (kind, s) = series_from_json(label.clone(), value)
            .with_context(|| format!("{}", origin.display()))?;
        kinds.push(kind);
        series.push(s);
    }
    let Some(&kind) = kinds.first() else {
        bail!("no evaluation to report");
    };
    if kinds.iter().any(|&k| k != kind) {
        bail!("cannot draw different kinds of evaluation (retrieval and pairs) on one ROC plot");
    }
    let title = title.map_or_else(|| default_title(kind, &results[0].1), str::to_owned);
    let sources = results.iter().map(|(_, v, _)| v.clone()).collect();
    let created = timestamp_utc(SystemTime::now());
    Ok(Report::from_series(title, kind, created, &series, sources))
}

/// Writes `report` as HTML to `path`, creating parent folders.
pub(crate) fn write_report(path: &Path, report: &Report) -> anyhow::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs_err::create_dir_all(parent)?;
    }
    fs_err::write(path, render_html(report))
        .with_context(|| format!("cannot write {}", path.display()))
}

/// One report series from an evaluation JSON.
fn series_from_json(
    label: Option<String>,
    value: &serde_json::Value,
) -> anyhow::Result<(ReportKind, ReportSeries)> {
    let task = value.get("task").and_then(|t| t.as_str()).unwrap_or("");
    let kind = match task {
        "retrieval" => ReportKind::Retrieval,
        // Face verification (`eval verify`) is a pairs ROC too.
        "pairs" | "verify" => ReportKind::Pairs,
        other => bail!(
            "task {other:?} has no ROC curve: give the JSON of `pairwise eval retrieval` or \
             `pairwise eval pairs`"
        ),
    };
    let summary = match value.get(ROC_SUMMARY_KEY) {
        Some(serde_json::Value::Null) => {
            bail!("{ROC_SUMMARY_KEY} is null: the evaluation had no positive or no negative score")
        }
        Some(summary) => serde_json::from_value::<RocSummary>(summary.clone())
            .with_context(|| format!("{ROC_SUMMARY_KEY} is malformed"))?,
        None => bail!(
            "no {ROC_SUMMARY_KEY} key: written by an older pairwise? rerun `pairwise eval {task}`"
        ),
    };
    let metric = |key: &str| value.get(key).and_then(serde_json::Value::as_f64);
    let extra_metrics = match kind {
        ReportKind::Retrieval => vec![
            ("nDCG@10".to_owned(), metric("ndcg_at_10")),
            ("MRR@10".to_owned(), metric("mrr_at_10")),
            ("Recall@100".to_owned(), metric("recall_at_100")),
            ("MAP@100".to_owned(), metric("map_at_100")),
        ],
        ReportKind::Pairs if task == "verify" => vec![
            ("10-fold accuracy".to_owned(), metric("accuracy")),
            ("accuracy std".to_owned(), metric("accuracy_std")),
        ],
        ReportKind::Roc | ReportKind::Pairs | ReportKind::Diagnostics => Vec::new(),
    };
    let name = label.unwrap_or_else(|| model_name(value));
    Ok((
        kind,
        ReportSeries {
            name,
            summary,
            extra_metrics,
        },
    ))
}

/// A short model name from the result's encoder description: the model folder's name, or its
/// parent's when the folder is a training run's `model/`.
fn model_name(value: &serde_json::Value) -> String {
    let encoder = value.get("encoder");
    let model = encoder.and_then(|e| e.get("model")).and_then(|m| {
        m.as_str()
            .map(str::to_owned)
            .or_else(|| m.get("model")?.as_str().map(str::to_owned))
    });
    let Some(model) = model else {
        return "model".to_owned();
    };
    let path = Path::new(&model);
    let last = path.file_name().and_then(|n| n.to_str()).unwrap_or(&model);
    match path
        .parent()
        .and_then(|p| p.file_name())
        .and_then(|n| n.to_str())
    {
        Some(parent) if last == "model" => parent.to_owned(),
        _ => last.to_owned(),
    }
}

/// "<Task> on <data set>" from the first result.
fn default_title(kind: ReportKind, value: &serde_json::Value) -> String {
    let data = value
        .get("data")
        .and_then(|d| d.as_str())
        .map(|d| {
            Path::new(d)
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or(d)
                .to_owned()
        })
        .unwrap_or_default();
    let split = value.get("split").and_then(|s| s.as_str());
    match (kind, split) {
        (ReportKind::Retrieval, Some(split)) => format!("Retrieval ROC: {data} ({split})"),
        _ => format!("{}: {data}", kind.label()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pairwise_eval::RocOptions;

    fn result(task: &str, model: &str) -> serde_json::Value {
        let summary = RocSummary::compute(
            &[true, false, true],
            &[0.9, 0.2, 0.5],
            &RocOptions::default(),
        )
        .unwrap();
        serde_json::json!({
            "task": task, "data": "/data/scifact", "split": "test", "ndcg_at_10": 0.6,
            "encoder": {"model": model}, ROC_SUMMARY_KEY: summary,
        })
    }

    #[test]
    fn names_come_from_the_model_folder() {
        assert_eq!(
            model_name(&result("pairs", "models/all-MiniLM-L6-v2")),
            "all-MiniLM-L6-v2"
        );
        assert_eq!(model_name(&result("pairs", "target/demo/mw/model")), "mw");
        // eval retrieval --collection nests the encoder description one level down.
        let nested = serde_json::json!({"encoder": {"model": {"model": "runs/x/model"}}});
        assert_eq!(model_name(&nested), "x");
        assert_eq!(model_name(&serde_json::json!({})), "model");
    }

    #[test]
    fn two_results_make_two_curves_and_bad_ones_are_named() {
        let results = vec![
            (None, result("retrieval", "m/a"), PathBuf::from("a.json")),
            (
                Some("after".to_owned()),
                result("retrieval", "m/b"),
                PathBuf::from("b.json"),
            ),
        ];
        let report = build_report(None, &results).unwrap();
        assert_eq!(report.title, "Retrieval ROC: scifact (test)");
        let names: Vec<&str> = report.curves.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["a", "after"]);
        assert_eq!(report.metrics.rows[0].name, "nDCG@10");

        let mut old = result("retrieval", "m/a");
        old.as_object_mut().unwrap().remove(ROC_SUMMARY_KEY);
        let err = build_report(None, &[(None, old, PathBuf::from("old.json"))]).unwrap_err();
        assert!(
            format!("{err:#}").starts_with("old.json: no roc_summary key"),
            "{err:#}"
        );
        let sts = serde_json::json!({"task": "sts"});
        let err = build_report(None, &[(None, sts, PathBuf::from("s.json"))]).unwrap_err();
        assert!(
            format!("{err:#}").contains("task \"sts\" has no ROC curve"),
            "{err:#}"
        );
        let mixed = vec![
            (None, result("retrieval", "a"), PathBuf::from("a.json")),
            (None, result("pairs", "b"), PathBuf::from("b.json")),
        ];
        assert!(build_report(Some("t"), &mixed).is_err());
    }
}
