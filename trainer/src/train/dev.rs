//! Evaluation on a dev set during training: nDCG@10, MRR@10, recall@100 and the pooled AUC,
//! computed by the `eval` crate from an exact cosine scan (the index crate's `FlatIndex`).

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use pairwise_datasets::RetrievalSet;
use pairwise_eval::{evaluate, pooled_auc, pooled_auc_inputs, Metric, Run, ScoredDoc};
use pairwise_index::{Distance, FlatIndex};
use serde::{Deserialize, Serialize};

use crate::encoder::SentenceEncoder;
use crate::error::Result;
use crate::train::config::EvalMetric;
use crate::train::seeded::{hash_str, shuffled_by};

/// Per query: (positive scores, hardest negative scores), the pooled AUC's inputs.
pub type AucInputs = Vec<(Vec<f64>, Vec<f64>)>;

/// A dev set ready to evaluate: its corpus already capped.
#[derive(Debug, Clone)]
pub struct DevSet {
    set: RetrievalSet,
    auc_negatives: usize,
}

/// The metrics of one dev evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DevMetrics {
    /// The step after which the model was evaluated.
    pub step: u64,
    /// nDCG@10.
    pub ndcg_at_10: Option<f64>,
    /// MRR@10.
    pub mrr_at_10: Option<f64>,
    /// Recall@100.
    pub recall_at_100: Option<f64>,
    /// Pooled AUC (`auc_negatives` hardest non-relevant documents per query).
    pub auc: Option<f64>,
    /// Queries evaluated.
    pub n_queries: usize,
    /// Documents searched.
    pub n_docs: usize,
    /// Wall-clock seconds of the evaluation.
    pub seconds: f64,
}

impl DevMetrics {
    /// The value of `metric` (`None` when undefined).
    pub fn get(&self, metric: EvalMetric) -> Option<f64> {
        match metric {
            EvalMetric::NdcgAt10 => self.ndcg_at_10,
            EvalMetric::Auc => self.auc,
        }
    }
}

impl DevSet {
    /// Keeps `set`'s queries and, with `corpus_cap`, at most that many documents: every
    /// document relevant to one of its queries, then others in an order seeded by `seed` and
    /// the document ids (the relevant ones alone when they exceed the cap).
    pub fn new(
        set: RetrievalSet,
        corpus_cap: Option<usize>,
        seed: u64,
        auc_negatives: usize,
    ) -> Self {
        let set = match corpus_cap {
            Some(cap) if cap < set.corpus.len() => cap_corpus(set, cap, seed),
            _ => set,
        };
        Self { set, auc_negatives }
    }

    /// The (capped) set.
    pub fn set(&self) -> &RetrievalSet {
        &self.set
    }

    /// Encodes the corpus once with `documents` and the queries with `queries`, then scores.
    ///
    /// # Errors
    /// Encoder and metric errors.
    pub fn evaluate(
        &self,
        queries: &SentenceEncoder,
        documents: &SentenceEncoder,
        step: u64,
    ) -> Result<DevMetrics> {
        let started = Instant::now();
        let doc_texts: Vec<String> = self.set.corpus.iter().map(|d| d.beir_text()).collect();
        let docs = documents.encode(&doc_texts)?;
        let query_texts: Vec<&str> = self.set.queries.iter().map(|q| q.text.as_str()).collect();
        let query_vectors = queries.encode(&query_texts)?;
        let mut index = FlatIndex::new(docs.dim(), Distance::Cosine)?;
        index.add_all(docs.as_flat())?;
        let scores = index.scores_batch(query_vectors.as_flat())?;
        let (run, auc_inputs) = rank_and_pool(&self.set, &scores, self.auc_negatives, 100)?;
        let metrics = evaluate(&self.set.qrels, &run, &[10, 100]);
        Ok(DevMetrics {
            step,
            ndcg_at_10: metrics.get(Metric::Ndcg, 10),
            mrr_at_10: metrics.get(Metric::Mrr, 10),
            recall_at_100: metrics.get(Metric::Recall, 100),
            auc: pooled_auc(&auc_inputs)?,
            n_queries: metrics.n_queries,
            n_docs: self.set.corpus.len(),
            seconds: started.elapsed().as_secs_f64(),
        })
    }
}

/// From the scores of every query against every document (`scores[q][d]`): the per-query
/// top-`depth` run for the ranking metrics, and the pooled AUC's inputs (relevant scores and
/// the `auc_negatives` best non-relevant scores per query).
///
/// # Errors
/// A relevant index out of range (cannot happen for a loaded [`RetrievalSet`]).
pub fn rank_and_pool(
    set: &RetrievalSet,
    scores: &[Vec<f32>],
    auc_negatives: usize,
    depth: usize,
) -> Result<(Run, AucInputs)> {
    let doc_position: HashMap<&str, usize> = set
        .corpus
        .iter()
        .enumerate()
        .map(|(i, d)| (d.id.as_str(), i))
        .collect();
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
        auc_inputs.push(pooled_auc_inputs(&row, &relevant, auc_negatives)?);
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

/// The relevant documents of `set`'s queries plus seeded others, `cap` in all (or just the
/// relevant ones), in corpus order.
fn cap_corpus(set: RetrievalSet, cap: usize, seed: u64) -> RetrievalSet {
    let relevant: HashSet<&str> = set
        .qrels
        .values()
        .flat_map(|judged| {
            judged
                .iter()
                .filter(|(_, &g)| g > 0)
                .map(|(d, _)| d.as_str())
        })
        .collect();
    let others: Vec<&str> = set
        .corpus
        .iter()
        .map(|d| d.id.as_str())
        .filter(|id| !relevant.contains(id))
        .collect();
    let room = cap.saturating_sub(relevant.len());
    let mut keep: HashSet<String> = relevant.iter().map(|s| (*s).to_owned()).collect();
    keep.extend(
        shuffled_by(others, seed, |id| hash_str(id))
            .into_iter()
            .take(room)
            .map(str::to_owned),
    );
    let RetrievalSet {
        corpus,
        queries,
        qrels,
    } = set;
    RetrievalSet {
        corpus: corpus
            .into_iter()
            .filter(|d| keep.contains(&d.id))
            .collect(),
        queries,
        qrels,
    }
}

#[cfg(test)]
mod tests {
    use pairwise_datasets::{Document, Query};

    use super::*;

    fn set() -> RetrievalSet {
        RetrievalSet {
            corpus: (0..20)
                .map(|i| Document {
                    id: format!("d{i}"),
                    title: None,
                    text: format!("text {i}"),
                })
                .collect(),
            queries: vec![Query {
                id: "q".into(),
                text: "query".into(),
            }],
            qrels: HashMap::from([(
                "q".to_owned(),
                HashMap::from([
                    ("d3".to_owned(), 1),
                    ("d17".to_owned(), 2),
                    ("d5".to_owned(), 0),
                ]),
            )]),
        }
    }

    #[test]
    fn capped_corpus_keeps_every_relevant_document() {
        let dev = DevSet::new(set(), Some(6), 1, 10);
        let ids: Vec<&str> = dev.set().corpus.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids.len(), 6);
        assert!(ids.contains(&"d3") && ids.contains(&"d17"), "{ids:?}");
        let tiny = DevSet::new(set(), Some(1), 1, 10);
        assert_eq!(tiny.set().corpus.len(), 2);
        assert_eq!(DevSet::new(set(), None, 1, 10).set().corpus.len(), 20);
    }

    #[test]
    fn perfect_scores_give_perfect_metrics() {
        let s = set();
        let row: Vec<f32> = (0..20)
            .map(|i| match i {
                17 => 1.0,
                3 => 0.9,
                _ => 0.1 * (i as f32) / 20.0,
            })
            .collect();
        let (run, inputs) = rank_and_pool(&s, &[row], 5, 10).unwrap();
        assert_eq!(run["q"].len(), 10);
        assert_eq!(inputs[0].0.len(), 2);
        assert_eq!(inputs[0].1.len(), 5);
        assert_eq!(pooled_auc(&inputs).unwrap(), Some(1.0));
        let metrics = evaluate(&s.qrels, &run, &[10]);
        assert_eq!(metrics.get(Metric::Ndcg, 10), Some(1.0));
    }
}
