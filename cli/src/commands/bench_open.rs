//! `pairwise bench open`: how long opening a collection takes (snapshot load + log replay).
//!
//! A format-1 snapshot holds only the documents, so opening it rebuilds the HNSW graph and the
//! tantivy index; a format-2 snapshot holds both, and opening loads them. `--rewrite` first
//! opens the collection once and snapshots it in the current format, so one collection can be
//! timed both ways (`bench/open.sh`).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{ensure, Context};
use clap::Args;
use pairwise_index::Collection;

use crate::commands::write_json;

/// Arguments of `pairwise bench open`.
#[derive(Debug, Args)]
pub(crate) struct OpenBenchArgs {
    /// The collection folder
    #[arg(long, value_name = "DIR")]
    collection: PathBuf,
    /// Times the collection is opened (and closed)
    #[arg(long, default_value_t = 5)]
    repeat: usize,
    /// First rewrite the collection's snapshot in the current format (open, snapshot, close)
    #[arg(long)]
    rewrite: bool,
    /// Write the results as JSON to this file
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

pub(crate) fn run(args: &OpenBenchArgs) -> anyhow::Result<()> {
    ensure!(args.repeat > 0, "--repeat must be at least 1");
    let open = || {
        Collection::open(&args.collection)
            .with_context(|| format!("cannot open {}", args.collection.display()))
    };
    if args.rewrite {
        let (mut collection, _) = open()?;
        collection
            .snapshot()
            .context("cannot rewrite the snapshot")?;
    }
    let mut seconds = Vec::with_capacity(args.repeat);
    let mut last = None;
    for _ in 0..args.repeat {
        let started = Instant::now();
        let (collection, report) = open()?;
        seconds.push(started.elapsed().as_secs_f64());
        last = Some((
            collection.count(),
            collection.manifest().format_version,
            report,
        ));
    }
    let Some((count, format_version, report)) = last else {
        anyhow::bail!("nothing was opened");
    };
    let mut sorted = seconds.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    eprintln!(
        "pairwise: {} ({count} documents, snapshot format {format_version}, {} log batches \
         replayed) opens in {median:.3} s (median of {})",
        args.collection.display(),
        report.replayed_batches,
        args.repeat
    );
    let result = serde_json::json!({
        "bench": "open",
        "collection": args.collection.display().to_string(),
        "documents": count,
        "snapshot_format_version": format_version,
        "replayed_batches": report.replayed_batches,
        "open_seconds": seconds,
        "median_seconds": median,
        "commit": env!("PAIRWISE_COMMIT"),
    });
    if let Some(path) = &args.json {
        write_json(path, &result).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}
