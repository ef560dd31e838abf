//! `pairwise bench encode`: corpus encoding throughput and peak memory.
//!
//! `bench/encode.sh` runs this beside the sentence-transformers script in `bench/` on the same
//! documents, so both figures come from one run on one machine.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use pairwise_datasets::BeirDataset;

use crate::commands::{encode_with_bar, write_json, ModelArgs};
use crate::data_source;

/// Arguments of `pairwise bench encode`.
#[derive(Debug, Args)]
pub(crate) struct EncodeBenchArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// BEIR data set whose corpus is encoded [default: SciFact]
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Encode only the first N documents
    #[arg(long)]
    limit: Option<usize>,
    /// Documents encoded (and discarded) before timing starts
    #[arg(long, default_value_t = 64)]
    warmup: usize,
    /// Intra-op threads for libtorch [default: libtorch's choice]
    #[arg(long)]
    threads: Option<i32>,
    /// Write the results as JSON to this file
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

pub(crate) fn run_encode(args: &EncodeBenchArgs) -> anyhow::Result<()> {
    if let Some(threads) = args.threads {
        tch::set_num_threads(threads);
    }
    let data_dir = match &args.data {
        Some(dir) => dir.clone(),
        None => data_source::beir_dataset("scifact")?,
    };
    let mut texts = Vec::new();
    for doc in BeirDataset::open(&data_dir)?.corpus()? {
        texts.push(doc?.beir_text());
        if args.limit.is_some_and(|limit| texts.len() >= limit) {
            break;
        }
    }
    let encoder = args.model.load()?;
    let warmup = &texts[..args.warmup.min(texts.len())];
    encoder.encode(warmup)?;
    let started = Instant::now();
    let embeddings = encode_with_bar(&encoder, &texts, "corpus")?;
    let seconds = started.elapsed().as_secs_f64();
    let docs_per_second = texts.len() as f64 / seconds;
    let peak_rss_mib = peak_rss_mib();
    let result = serde_json::json!({
        "bench": "encode",
        "engine": "pairwise",
        "data": data_dir.display().to_string(),
        "n_docs": texts.len(),
        "dim": embeddings.dim(),
        "seconds": seconds,
        "docs_per_second": docs_per_second,
        "peak_rss_mib": peak_rss_mib,
        "threads": tch::get_num_threads(),
        "encoder": args.model.describe(&encoder),
        "commit": env!("PAIRWISE_COMMIT"),
    });
    eprintln!(
        "pairwise: {} docs in {seconds:.1} s = {docs_per_second:.1} docs/s, peak RSS {} MiB",
        texts.len(),
        peak_rss_mib.map_or("?".to_owned(), |m| format!("{m:.0}"))
    );
    if let Some(path) = &args.json {
        write_json(path, &result).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// Peak resident memory of this process (`VmHWM`), on Linux.
pub(crate) fn peak_rss_mib() -> Option<f64> {
    let status = fs_err::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}
