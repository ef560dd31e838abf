//! `pairwise eval sts`: Spearman correlation between cosine similarity and gold scores.

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use pairwise_datasets::read_sts;
use pairwise_eval::{pearson, spearman};
use pairwise_trainer::SentenceEncoder;

use crate::commands::{encode_with_bar, write_json, ModelArgs};
use crate::data_source;

/// Arguments of `pairwise eval sts`.
#[derive(Debug, Args)]
pub(crate) struct StsArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// STS file (tab-separated: genre, file, year, id, score, sentence1, sentence2)
    /// [default: STS-B test from the shared data]
    #[arg(long, value_name = "FILE")]
    data: Option<PathBuf>,
    /// Write the results as JSON to this file
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

pub(crate) fn run(args: &StsArgs) -> anyhow::Result<()> {
    let path = match &args.data {
        Some(path) => path.clone(),
        None => data_source::shared_data("stsb/sts-test.csv")?,
    };
    let pairs = read_sts(&path)?;
    let encoder = args.model.load()?;
    let texts: Vec<(&str, &str)> = pairs
        .iter()
        .map(|p| (p.text_a.as_str(), p.text_b.as_str()))
        .collect();
    let cosines = pair_cosines(&encoder, &texts)?;
    let gold: Vec<f64> = pairs.iter().map(|p| f64::from(p.score)).collect();
    let spearman = spearman(&cosines, &gold)?.map(|r| r * 100.0);
    let pearson = pearson(&cosines, &gold)?.map(|r| r * 100.0);
    print_result(pairs.len(), spearman, pearson);
    if let Some(json) = &args.json {
        let result = serde_json::json!({
            "task": "sts",
            "data": path.display().to_string(),
            "n_pairs": pairs.len(),
            "spearman": spearman,
            "pearson": pearson,
            "encoder": args.model.describe(&encoder),
            "pairwise_version": env!("CARGO_PKG_VERSION"),
            "commit": env!("PAIRWISE_COMMIT"),
        });
        write_json(json, &result).with_context(|| format!("cannot write {}", json.display()))?;
    }
    Ok(())
}

/// Cosine similarity of each text pair, encoding each distinct text once.
pub(crate) fn pair_cosines(
    encoder: &SentenceEncoder,
    pairs: &[(&str, &str)],
) -> anyhow::Result<Vec<f64>> {
    let mut position: HashMap<&str, usize> = HashMap::new();
    let mut unique: Vec<&str> = Vec::new();
    for &text in pairs.iter().flat_map(|(a, b)| [a, b]) {
        position.entry(text).or_insert_with(|| {
            unique.push(text);
            unique.len() - 1
        });
    }
    let embeddings = encode_with_bar(encoder, &unique, "sentences")?;
    let mut cosines = Vec::with_capacity(pairs.len());
    for (a, b) in pairs {
        let row = |text: &str| position.get(text).and_then(|&i| embeddings.row(i));
        let (Some(a), Some(b)) = (row(a), row(b)) else {
            anyhow::bail!("internal error: a sentence was not encoded");
        };
        cosines.push(cosine(a, b));
    }
    Ok(cosines)
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot = |x: &[f32], y: &[f32]| {
        x.iter()
            .zip(y)
            .map(|(p, q)| f64::from(*p) * f64::from(*q))
            .sum::<f64>()
    };
    let denominator = (dot(a, a) * dot(b, b)).sqrt();
    if denominator > 0.0 {
        dot(a, b) / denominator
    } else {
        0.0
    }
}

#[expect(clippy::print_stdout, reason = "the result is the command's output")]
fn print_result(n_pairs: usize, spearman: Option<f64>, pearson: Option<f64>) {
    let show = |v: Option<f64>| v.map_or("undefined".to_owned(), |v| format!("{v:.2}"));
    println!("{n_pairs} pairs");
    println!("Spearman x 100: {}", show(spearman));
    println!("Pearson  x 100: {}", show(pearson));
}
