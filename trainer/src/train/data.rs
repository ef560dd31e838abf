//! The examples a run trains on and, when `[eval]` is set, the dev set it evaluates on.

use std::collections::HashSet;

use pairwise_datasets::{
    beir_training_pairs, read_nli_triplets, read_training_jsonl, BeirDataset, RetrievalSet,
    TrainingExample,
};

use crate::error::Result;
use crate::train::config::HELD_OUT;
use crate::train::seeded::{hash_str, shuffled_by};
use crate::train::{DataConfig, TrainConfig};

/// Training examples, with their BEIR origin when they come from qrels.
#[derive(Debug, Clone)]
pub struct TrainingData {
    /// The examples, without mined negatives (the trainer adds those).
    pub examples: Vec<TrainingExample>,
    /// For `data.kind = "beir"`: the split the examples were built from.
    pub beir: Option<BeirSource>,
    /// The dev set of `[eval]`.
    pub dev: Option<RetrievalSet>,
}

/// The BEIR split behind the examples: what hard-negative mining needs.
#[derive(Debug, Clone)]
pub struct BeirSource {
    /// The corpus and the training queries with their judgments (held-out queries removed).
    pub set: RetrievalSet,
    /// Example `i` pairs `set.queries[pairs[i].0]` with `set.corpus[pairs[i].1]`.
    pub pairs: Vec<(usize, usize)>,
}

impl TrainingData {
    /// Examples given directly (no BEIR origin, no dev set).
    pub fn from_examples(examples: Vec<TrainingExample>) -> Self {
        Self {
            examples,
            beir: None,
            dev: None,
        }
    }

    /// Reads the examples `config.data` names, and the dev set of `config.eval`: a named split
    /// of a BEIR folder, or (`held_out`) a seeded part of the training queries, which are then
    /// left out of the examples.
    ///
    /// # Errors
    /// Data-set errors naming the file.
    pub fn load(config: &TrainConfig) -> Result<Self> {
        let held_out = config
            .eval
            .as_ref()
            .filter(|e| e.split == HELD_OUT)
            .map(|e| (e.held_out_fraction, e.held_out_seed));
        let (examples, beir, mut dev) = match &config.data {
            DataConfig::Beir { path, split } => {
                let mut set = BeirDataset::open(path)?.load_split(split)?;
                let mut dev = None;
                if let Some((fraction, seed)) = held_out {
                    let (train, held) = split_held_out(set, fraction, seed);
                    set = train;
                    dev = Some(held);
                }
                let pairs = beir_training_pairs(&set);
                let examples = pairs
                    .iter()
                    .map(|&(q, d)| {
                        TrainingExample::pair(&set.queries[q].text, set.corpus[d].beir_text())
                    })
                    .collect();
                (examples, Some(BeirSource { set, pairs }), dev)
            }
            DataConfig::Jsonl { path } => (read_training_jsonl(path)?, None, None),
            DataConfig::Nli { path, split } => (read_nli_triplets(path, split)?, None, None),
        };
        if dev.is_none() {
            if let Some((path, split)) = config.eval_source().filter(|(_, s)| s != HELD_OUT) {
                dev = Some(BeirDataset::open(path)?.load_split(&split)?);
            }
        }
        Ok(Self {
            examples,
            beir,
            dev,
        })
    }
}

/// Splits the queries of `set` into (train, held out): the held-out part is the first
/// `round(fraction × n)` queries (at least 1, at most n − 1) in an order seeded by `seed` and
/// the query ids, so it does not depend on file order. Both keep the whole corpus and their
/// queries' judgments, in file order.
pub fn split_held_out(set: RetrievalSet, fraction: f64, seed: u64) -> (RetrievalSet, RetrievalSet) {
    let n = set.queries.len();
    let n_held = ((n as f64 * fraction).round() as usize).clamp(1.min(n), n.saturating_sub(1));
    let order = shuffled_by(
        set.queries.iter().map(|q| q.id.clone()).collect(),
        seed,
        |id| hash_str(id),
    );
    let held: HashSet<String> = order.into_iter().take(n_held).collect();
    let RetrievalSet {
        corpus,
        queries,
        mut qrels,
    } = set;
    let (dev_queries, train_queries): (Vec<_>, Vec<_>) =
        queries.into_iter().partition(|q| held.contains(&q.id));
    let dev_qrels = dev_queries
        .iter()
        .filter_map(|q| qrels.remove_entry(&q.id))
        .collect();
    let dev = RetrievalSet {
        corpus: corpus.clone(),
        queries: dev_queries,
        qrels: dev_qrels,
    };
    let train = RetrievalSet {
        corpus,
        queries: train_queries,
        qrels,
    };
    (train, dev)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use pairwise_datasets::{Document, Query};

    use super::*;

    fn set(n: usize) -> RetrievalSet {
        RetrievalSet {
            corpus: vec![Document {
                id: "d".into(),
                title: None,
                text: "t".into(),
            }],
            queries: (0..n)
                .map(|i| Query {
                    id: format!("q{i}"),
                    text: format!("query {i}"),
                })
                .collect(),
            qrels: (0..n)
                .map(|i| (format!("q{i}"), HashMap::from([("d".to_owned(), 1)])))
                .collect(),
        }
    }

    #[test]
    fn held_out_queries_are_disjoint_seeded_and_sized() {
        let (train, dev) = split_held_out(set(100), 0.1, 0);
        assert_eq!((train.queries.len(), dev.queries.len()), (90, 10));
        assert_eq!((train.qrels.len(), dev.qrels.len()), (90, 10));
        let dev_ids: HashSet<&str> = dev.queries.iter().map(|q| q.id.as_str()).collect();
        assert!(train
            .queries
            .iter()
            .all(|q| !dev_ids.contains(q.id.as_str())));
        assert!(dev.queries.iter().all(|q| dev.qrels.contains_key(&q.id)));
        let (_, again) = split_held_out(set(100), 0.1, 0);
        assert_eq!(again.queries, dev.queries);
        let (_, other) = split_held_out(set(100), 0.1, 1);
        assert_ne!(other.queries, dev.queries);
        let mut reversed = set(100);
        reversed.queries.reverse();
        let (_, from_reversed) = split_held_out(reversed, 0.1, 0);
        let ids = |s: &RetrievalSet| {
            let mut v: Vec<String> = s.queries.iter().map(|q| q.id.clone()).collect();
            v.sort();
            v
        };
        assert_eq!(ids(&from_reversed), ids(&dev));
    }

    #[test]
    fn at_least_one_query_on_each_side() {
        let (train, dev) = split_held_out(set(3), 0.01, 0);
        assert_eq!((train.queries.len(), dev.queries.len()), (2, 1));
        let (train, dev) = split_held_out(set(3), 0.99, 0);
        assert_eq!((train.queries.len(), dev.queries.len()), (1, 2));
    }
}
