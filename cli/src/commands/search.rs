//! `pairwise search`: query a collection from the command line.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use pairwise_index::{Collection, Filter, SearchMode, SearchRequest};

use crate::commands::ModelArgs;

/// Arguments of `pairwise search`.
#[derive(Debug, Args)]
pub(crate) struct SearchArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Collection folder
    #[arg(long, value_name = "DIR")]
    collection: PathBuf,
    /// Query text
    #[arg(long)]
    query: String,
    /// dense, bm25 or hybrid
    #[arg(long, default_value = "hybrid")]
    mode: SearchMode,
    /// Number of hits
    #[arg(long, default_value_t = 10)]
    k: usize,
    /// Metadata filter, e.g. '{"year": {"$gte": 2010}}'
    #[arg(long)]
    filter: Option<String>,
}

pub(crate) fn run(args: &SearchArgs) -> anyhow::Result<()> {
    if args.query.trim().is_empty() {
        anyhow::bail!("the query is empty");
    }
    let filter = args.filter.as_deref().map(Filter::parse).transpose()?;
    let (collection, _) = Collection::open(&args.collection).with_context(|| {
        format!(
            "cannot open the collection in {}",
            args.collection.display()
        )
    })?;
    let vector = match args.mode {
        SearchMode::Bm25 => None,
        SearchMode::Dense | SearchMode::Hybrid => {
            let encoder = args.model.load_for_collection(&collection)?;
            Some(encoder.encode(&[args.query.as_str()])?.into_flat())
        }
    };
    let request = SearchRequest {
        vector: vector.as_deref(),
        text: Some(&args.query),
        mode: args.mode,
        k: args.k,
        filter: filter.as_ref(),
        ..SearchRequest::default()
    };
    let hits = collection.search(&request)?;
    print_hits(&collection, &hits);
    Ok(())
}

#[expect(clippy::print_stdout, reason = "the hits are the command's output")]
fn print_hits(collection: &Collection, hits: &[pairwise_index::SearchHit]) {
    for (rank, hit) in hits.iter().enumerate() {
        let doc = collection.get(&hit.id);
        let title = doc.and_then(|d| d.title.as_deref()).unwrap_or("");
        let text: String = doc.map_or(String::new(), |d| d.text.chars().take(100).collect());
        let line = serde_json::json!({"rank": rank + 1, "id": hit.id, "score": hit.score, "title": title, "text": text});
        println!("{line}");
    }
}
