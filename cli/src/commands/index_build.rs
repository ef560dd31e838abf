//! `pairwise index build`: embed a BEIR corpus and fill a durable collection with it.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, ValueEnum};
use pairwise_datasets::BeirDataset;
use pairwise_index::{
    Collection, CollectionConfig, Document, HnswConfig, HnswEngine, VectorIndexConfig,
    MAX_ELEMENTS_HINT,
};

use crate::commands::{encode_with_bar, ModelArgs};
use crate::{data_source, progress};

/// Documents per logged (fsynced) batch while filling the collection.
const UPSERT_BATCH: usize = 512;

/// Vector index kinds selectable on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum IndexKind {
    /// Approximate search on an HNSW graph.
    Hnsw,
    /// Approximate search on the `hnsw_rs` crate's graph (slower and larger; for comparison)
    HnswRs,
    /// Exact search.
    Flat,
}

/// Arguments of `pairwise index build`.
#[derive(Debug, Args)]
pub(crate) struct IndexBuildArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// BEIR data set whose corpus is indexed [default: SciFact]
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Folder of the new collection
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Vector index
    #[arg(long, value_enum, default_value_t = IndexKind::Hnsw)]
    index: IndexKind,
    /// HNSW: links per node
    #[arg(long)]
    m: Option<usize>,
    /// HNSW: candidate list size while building
    #[arg(long)]
    ef_construction: Option<usize>,
}

pub(crate) fn run(args: &IndexBuildArgs) -> anyhow::Result<()> {
    let data_dir = match &args.data {
        Some(dir) => dir.clone(),
        None => data_source::beir_dataset("scifact")?,
    };
    let corpus: Vec<_> = BeirDataset::open(&data_dir)?
        .corpus()?
        .collect::<Result<_, _>>()?;
    let encoder = args.model.load()?;
    let texts: Vec<String> = corpus.iter().map(|d| d.beir_text()).collect();
    let embeddings = encode_with_bar(&encoder, &texts, "embedding")?;
    let model_dir = args.model.model_dir()?;
    let config = CollectionConfig {
        dim: embeddings.dim(),
        model_id: Some(fs_err::canonicalize(&model_dir)?.display().to_string()),
        vector_index: vector_index_config(args, embeddings.len()),
        ..CollectionConfig::default()
    };
    let mut collection = Collection::create(&args.out, config)
        .with_context(|| format!("cannot create a collection in {}", args.out.display()))?;
    let bar = progress::bar(corpus.len(), "indexing");
    let rows = embeddings.rows();
    let mut docs: Vec<Document> = corpus
        .into_iter()
        .zip(rows)
        .map(|(doc, vector)| Document {
            id: doc.id,
            text: doc.text,
            title: doc.title.filter(|t| !t.trim().is_empty()),
            metadata: serde_json::Value::Null,
            vector: vector.to_vec(),
        })
        .collect();
    while !docs.is_empty() {
        let rest = docs.split_off(docs.len().min(UPSERT_BATCH));
        let n = docs.len();
        collection.upsert(std::mem::replace(&mut docs, rest))?;
        bar.inc(n as u64);
    }
    collection.snapshot()?;
    bar.finish_and_clear();
    eprintln!(
        "indexed {} documents into {}",
        collection.count(),
        args.out.display()
    );
    Ok(())
}

/// The vector index that `--index` names, sized for `count` vectors.
fn vector_index_config(args: &IndexBuildArgs, count: usize) -> VectorIndexConfig {
    let engine = match args.index {
        IndexKind::Flat => return VectorIndexConfig::Flat,
        IndexKind::Hnsw => HnswEngine::Native,
        IndexKind::HnswRs => HnswEngine::HnswRs,
    };
    let defaults = HnswConfig::default();
    VectorIndexConfig::Hnsw(HnswConfig {
        engine,
        m: args.m.unwrap_or(defaults.m),
        ef_construction: args.ef_construction.unwrap_or(defaults.ef_construction),
        max_elements: count.min(MAX_ELEMENTS_HINT),
        ..defaults
    })
}
