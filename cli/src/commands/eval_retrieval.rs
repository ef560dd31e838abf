//! `pairwise eval retrieval`: exact cosine search over a BEIR corpus, scored with the BEIR
//! metrics and the MW paper's pooled AUC.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use pairwise_datasets::{BeirDataset, RetrievalSet};
use pairwise_eval::{
    evaluate, pooled_auc, pooled_auc_inputs, EvalError, Metric, RocOptions, RocSummary, Run,
    ScoredDoc, DEFAULT_POOLED_NEGATIVES,
};
use pairwise_index::{Collection, Distance, FlatIndex, SearchMode, SearchRequest};

use crate::commands::report::{build_report, write_report, ROC_SUMMARY_KEY};
use crate::commands::{encode_with_bar, write_json, ModelArgs};
use crate::data_source;

/// Cut-offs at which every metric is computed.
const CUTOFFS: [usize; 6] = [1, 3, 5, 10, 100, 1000];

/// Arguments of `pairwise eval retrieval`.
#[derive(Debug, Args)]
pub(crate) struct RetrievalArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// BEIR data set folder (corpus.jsonl, queries.jsonl, qrels/) [default: SciFact, found in
    /// $PAIRWISE_DATA, ../shared/data or the cache, else downloaded]
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Qrels split to evaluate
    #[arg(long, default_value = "test")]
    split: String,
    /// Highest-scoring non-relevant documents per query in the pooled AUC
    #[arg(long, default_value_t = DEFAULT_POOLED_NEGATIVES)]
    auc_negatives: usize,
    /// Search this collection (built by `pairwise index build`) instead of an exact in-memory
    /// scan of the corpus
    #[arg(long, value_name = "DIR")]
    collection: Option<PathBuf>,
    /// With --collection: dense, bm25 or hybrid
    #[arg(long, default_value = "dense", requires = "collection")]
    mode: SearchMode,
    /// Write the results as JSON to this file
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Write an HTML report (pooled-AUC ROC curve, score histograms, metrics) to this file
    #[arg(long, value_name = "FILE.html")]
    report: Option<PathBuf>,
}

pub(crate) fn run(args: &RetrievalArgs) -> anyhow::Result<()> {
    let data_dir = match &args.data {
        Some(dir) => dir.clone(),
        None => data_source::beir_dataset("scifact")?,
    };
    let set = BeirDataset::open(&data_dir)?.load_split(&args.split)?;
    let started = Instant::now();
    let (run, auc_inputs, encoder_description) = match &args.collection {
        Some(dir) => {
            let (collection, _) = Collection::open(dir)
                .with_context(|| format!("cannot open the collection in {}", dir.display()))?;
            let (run, inputs, encoder) = search_collection(args, &set, &collection)?;
            (
                run,
                inputs,
                serde_json::json!({"collection": dir.display().to_string(), "mode": args.mode, "model": encoder}),
            )
        }
        None => {
            let encoder = args.model.load()?;
            let doc_texts: Vec<String> = set.corpus.iter().map(|d| d.beir_text()).collect();
            let docs = encode_with_bar(&encoder, &doc_texts, "corpus")?;
            let query_texts: Vec<&str> = set.queries.iter().map(|q| q.text.as_str()).collect();
            let queries = encode_with_bar(&encoder, &query_texts, "queries")?;
            let mut index = FlatIndex::new(docs.dim(), Distance::Cosine)?;
            index.add_all(docs.as_flat())?;
            let scores = index.scores_batch(queries.as_flat())?;
            let (run, inputs) = rank_and_pool(&set, &scores, args.auc_negatives)?;
            (run, inputs, args.model.describe(&encoder))
        }
    };
    let encode_seconds = started.elapsed().as_secs_f64();
    let metrics = evaluate(&set.qrels, &run, &CUTOFFS);
    let auc = pooled_auc(&auc_inputs)?;
    let roc_summary = pooled_roc_summary(&auc_inputs)?;
    let get = |m: Metric, k: usize| metrics.get(m, k);
    let result = serde_json::json!({
        "task": "retrieval",
        "data": data_dir.display().to_string(),
        "split": args.split,
        "ndcg_at_10": get(Metric::Ndcg, 10),
        "mrr_at_10": get(Metric::Mrr, 10),
        "recall_at_100": get(Metric::Recall, 100),
        "map_at_100": get(Metric::Map, 100),
        "auc": auc,
        "auc_negatives_per_query": args.auc_negatives,
        ROC_SUMMARY_KEY: roc_summary,
        "n_queries": metrics.n_queries,
        "n_docs": set.corpus.len(),
        "metrics": metrics,
        "seconds": encode_seconds,
        "encoder": encoder_description,
        "pairwise_version": env!("CARGO_PKG_VERSION"),
        "commit": env!("PAIRWISE_COMMIT"),
    });
    print_table(&metrics, auc, set.corpus.len(), args.auc_negatives);
    if let Some(path) = &args.json {
        write_json(path, &result).with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(path) = &args.report {
        let source = PathBuf::from("eval retrieval");
        write_report(path, &build_report(None, &[(None, result, source)])?)?;
    }
    Ok(())
}

/// The ROC summary of the pooled scores (`None` when a class is empty, like `pooled_auc`).
fn pooled_roc_summary(auc_inputs: &AucInputs) -> anyhow::Result<Option<RocSummary>> {
    let positives: Vec<f64> = auc_inputs.iter().flat_map(|(p, _)| p.clone()).collect();
    let negatives: Vec<f64> = auc_inputs.iter().flat_map(|(_, n)| n.clone()).collect();
    match RocSummary::from_pos_neg(&positives, &negatives, &RocOptions::default()) {
        Ok(summary) => Ok(Some(summary)),
        Err(EvalError::SingleClass { .. } | EvalError::Empty { .. }) => Ok(None),
        Err(error) => Err(error.into()),
    }
}

/// Per query: (positive scores, hardest negative scores), the pooled AUC's inputs.
type AucInputs = Vec<(Vec<f64>, Vec<f64>)>;

/// Per-query top-1000 runs for the metrics and the pooled AUC's inputs.
type RankedRun = (Run, AucInputs);

fn rank_and_pool(
    set: &RetrievalSet,
    scores: &[Vec<f32>],
    negatives: usize,
) -> anyhow::Result<RankedRun> {
    let doc_position: HashMap<&str, usize> = set
        .corpus
        .iter()
        .enumerate()
        .map(|(i, d)| (d.id.as_str(), i))
        .collect();
    let depth = CUTOFFS.iter().copied().max().unwrap_or(10);
    let mut run = Run::new();
    let mut auc_inputs = Vec::with_capacity(set.queries.len());
    for (query, row) in set.queries.iter().zip(scores) {
        let row: Vec<f64> = row.iter().map(|&s| f64::from(s)).collect();
        let relevant: Vec<usize> = set
            .qrels
            .get(&query.id)
            .into_iter()
            .flatten()
            .filter(|(_, &grade)| grade > 0)
            .filter_map(|(doc, _)| doc_position.get(doc.as_str()).copied())
            .collect();
        auc_inputs.push(pooled_auc_inputs(&row, &relevant, negatives)?);
        let mut order: Vec<usize> = (0..row.len()).collect();
        let by_score = |a: &usize, b: &usize| row[*b].total_cmp(&row[*a]);
        if depth < order.len() {
            order.select_nth_unstable_by(depth, by_score);
            order.truncate(depth);
        }
        let hits = order
            .into_iter()
            .map(|i| ScoredDoc {
                doc_id: set.corpus[i].id.clone(),
                score: row[i],
            })
            .collect();
        run.insert(query.id.clone(), hits);
    }
    Ok((run, auc_inputs))
}

#[expect(clippy::print_stdout, reason = "the table is the command's output")]
fn print_table(
    metrics: &pairwise_eval::RetrievalMetrics,
    auc: Option<f64>,
    n_docs: usize,
    negatives: usize,
) {
    println!("{} queries, {n_docs} documents", metrics.n_queries);
    println!(
        "{:<10}{:>10}{:>10}{:>10}{:>10}",
        "k", "nDCG", "MRR", "Recall", "MAP"
    );
    for k in CUTOFFS {
        let cell = |m: Metric| {
            metrics
                .get(m, k)
                .map_or("-".to_owned(), |v| format!("{v:.4}"))
        };
        println!(
            "{:<10}{:>10}{:>10}{:>10}{:>10}",
            format!("@{k}"),
            cell(Metric::Ndcg),
            cell(Metric::Mrr),
            cell(Metric::Recall),
            cell(Metric::Map)
        );
    }
    let auc = auc.map_or("undefined".to_owned(), |v| format!("{v:.4}"));
    println!("pooled AUC (top-{negatives} negatives per query): {auc}");
}

/// Depth of each collection search: enough for recall@1000 and the pooled AUC's negatives.
const COLLECTION_DEPTH: usize = 1000;

/// Runs every query through the collection. Relevant documents missing from a query's results
/// still count as positives in the pooled AUC: with their exact similarity in dense mode, and
/// with score 0 in BM25 and hybrid mode (where an unretrieved document scores nothing).
fn search_collection(
    args: &RetrievalArgs,
    set: &RetrievalSet,
    collection: &Collection,
) -> anyhow::Result<(Run, AucInputs, serde_json::Value)> {
    let (queries, encoder) = if args.mode == SearchMode::Bm25 {
        (None, serde_json::Value::Null)
    } else {
        let encoder = args.model.load_for_collection(collection)?;
        let texts: Vec<&str> = set.queries.iter().map(|q| q.text.as_str()).collect();
        let description = args.model.describe(&encoder);
        (
            Some(encode_with_bar(&encoder, &texts, "queries")?),
            description,
        )
    };
    let distance = collection.config().distance;
    let mut run = Run::new();
    let mut auc_inputs = Vec::with_capacity(set.queries.len());
    for (i, query) in set.queries.iter().enumerate() {
        let vector = queries.as_ref().and_then(|q| q.row(i));
        let request = SearchRequest {
            vector,
            text: Some(&query.text),
            mode: args.mode,
            k: COLLECTION_DEPTH.max(args.auc_negatives + 100),
            ..SearchRequest::default()
        };
        let hits = collection.search(&request)?;
        let relevant: HashMap<&str, i32> = set
            .qrels
            .get(&query.id)
            .into_iter()
            .flatten()
            .filter(|(_, &g)| g > 0)
            .map(|(d, &g)| (d.as_str(), g))
            .collect();
        let mut positives: HashMap<&str, f64> = HashMap::new();
        let mut negatives = Vec::new();
        for hit in &hits {
            match relevant.get_key_value(hit.id.as_str()) {
                Some((id, _)) => {
                    positives.insert(id, f64::from(hit.score));
                }
                None if negatives.len() < args.auc_negatives => {
                    negatives.push(f64::from(hit.score))
                }
                None => {}
            }
        }
        for id in relevant.keys() {
            if !positives.contains_key(id) {
                let exact = match (args.mode, vector, collection.get(id)) {
                    (SearchMode::Dense, Some(q), Some(doc)) => {
                        exact_similarity(distance, q, &doc.vector)
                    }
                    _ => 0.0,
                };
                positives.insert(id, exact);
            }
        }
        auc_inputs.push((positives.into_values().collect(), negatives));
        let ranked = hits
            .into_iter()
            .map(|h| ScoredDoc {
                doc_id: h.id,
                score: f64::from(h.score),
            })
            .collect();
        run.insert(query.id.clone(), ranked);
    }
    Ok((run, auc_inputs, encoder))
}

/// The similarity the collection would report for a stored vector: cosine on normalised copies.
fn exact_similarity(distance: Distance, query: &[f32], doc: &[f32]) -> f64 {
    let norm = |v: &[f32]| {
        v.iter()
            .map(|x| x * x)
            .sum::<f32>()
            .sqrt()
            .max(f32::MIN_POSITIVE)
    };
    match distance {
        Distance::Cosine => {
            let (nq, nd) = (norm(query), norm(doc));
            let q: Vec<f32> = query.iter().map(|x| x / nq).collect();
            let d: Vec<f32> = doc.iter().map(|x| x / nd).collect();
            f64::from(distance.similarity(&q, &d))
        }
        Distance::Dot | Distance::L2 => f64::from(distance.similarity(query, doc)),
    }
}
