//! `pairwise eval pairs`: labelled text pairs → cosine scores → ROC summary (AUC with its
//! bootstrap interval, EER, TAR@FAR, suggested threshold), as JSON and an HTML report.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use pairwise_datasets::read_labelled_pairs;
use pairwise_eval::{RocOptions, RocSummary};

use crate::commands::eval_sts::pair_cosines;
use crate::commands::report::{build_report, write_report, ROC_SUMMARY_KEY};
use crate::commands::{write_json, ModelArgs};

/// Arguments of `pairwise eval pairs`.
#[derive(Debug, Args)]
pub(crate) struct PairsArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Labelled pairs: TSV lines `label<TAB>text_a<TAB>text_b` with label 1 (match) or 0, an
    /// optional header line
    #[arg(long, value_name = "FILE")]
    data: PathBuf,
    /// Seed of the AUC's bootstrap interval
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Bootstrap resamples for the AUC's 95% interval (0: none)
    #[arg(long, default_value_t = 1000)]
    bootstrap: usize,
    /// Write the results as JSON to this file
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Write an HTML report (ROC curve, score histograms, metrics) to this file
    #[arg(long, value_name = "FILE.html")]
    report: Option<PathBuf>,
}

pub(crate) fn run(args: &PairsArgs) -> anyhow::Result<()> {
    let pairs = read_labelled_pairs(&args.data)?;
    let encoder = args.model.load()?;
    let texts: Vec<(&str, &str)> = pairs
        .iter()
        .map(|p| (p.text_a.as_str(), p.text_b.as_str()))
        .collect();
    let scores = pair_cosines(&encoder, &texts)?;
    let labels: Vec<bool> = pairs.iter().map(|p| p.label).collect();
    let options = RocOptions {
        seed: args.seed,
        bootstrap_resamples: args.bootstrap,
        ..RocOptions::default()
    };
    let summary = RocSummary::compute(&labels, &scores, &options)
        .with_context(|| format!("cannot compute a ROC curve from {}", args.data.display()))?;
    print_summary(&summary);
    let result = serde_json::json!({
        "task": "pairs",
        "data": args.data.display().to_string(),
        "n_pairs": pairs.len(),
        "auc": summary.auc,
        "eer": summary.eer,
        "best_threshold": summary.best_threshold.threshold,
        ROC_SUMMARY_KEY: summary,
        "encoder": args.model.describe(&encoder),
        "pairwise_version": env!("CARGO_PKG_VERSION"),
        "commit": env!("PAIRWISE_COMMIT"),
    });
    if let Some(path) = &args.json {
        write_json(path, &result).with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(path) = &args.report {
        write_report(
            path,
            &build_report(None, &[(None, result, args.data.clone())])?,
        )?;
    }
    Ok(())
}

#[expect(clippy::print_stdout, reason = "the result is the command's output")]
fn print_summary(s: &RocSummary) {
    println!(
        "{} pairs ({} positive, {} negative)",
        s.n_samples(),
        s.n_positives,
        s.n_negatives
    );
    let interval = s
        .auc_ci95
        .map(|c| format!(" (95% CI {:.4}-{:.4})", c.lower, c.upper))
        .unwrap_or_default();
    println!("AUC {:.4}{interval}", s.auc);
    println!("EER {:.4} at threshold {:.4}", s.eer, s.eer_threshold);
    for t in &s.tar_at_far {
        println!("TAR {:.4} at FAR {}", t.tar, t.far);
    }
    let b = &s.best_threshold;
    println!(
        "threshold {:.4} (best {:?}): TPR {:.4}, FPR {:.4}, accuracy {:.4}",
        b.threshold, b.criterion, b.tpr, b.fpr, b.accuracy
    );
}
