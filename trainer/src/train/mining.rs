//! Hard-negative mining: for each (query, positive) example, documents ranked high for the
//! query that are not among its relevant documents, taken from a rank window.

use std::collections::HashSet;

use pairwise_index::{Bm25Config, Bm25Index, Distance, FlatIndex, TextDoc};

use crate::encoder::SentenceEncoder;
use crate::error::Result;
use crate::train::config::{MiningMethod, MiningSettings};
use crate::train::data::BeirSource;
use crate::train::seeded::{mix, sample};

/// For each example of `source` (in order), the corpus indices of its mined negatives:
/// `settings.per_query` documents drawn (seeded by `seed`, the query and the positive) from
/// ranks `settings.ranks` of the query's ranking with its relevant documents removed. Fewer
/// when the ranking is shorter than the window (BM25 ranks only documents sharing a term).
///
/// `encoders` (query, document) rank by exact cosine for [`MiningMethod::Dense`]; BM25 does
/// not use them.
///
/// # Errors
/// Index and encoder errors; [`crate::TrainError::InvalidInput`] for dense mining without
/// encoders.
pub fn mine_negatives(
    settings: &MiningSettings,
    source: &BeirSource,
    seed: u64,
    encoders: Option<(&SentenceEncoder, &SentenceEncoder)>,
) -> Result<Vec<Vec<usize>>> {
    let set = &source.set;
    let relevant: Vec<HashSet<usize>> = {
        let position: std::collections::HashMap<&str, usize> = set
            .corpus
            .iter()
            .enumerate()
            .map(|(i, d)| (d.id.as_str(), i))
            .collect();
        set.queries
            .iter()
            .map(|q| {
                set.qrels
                    .get(&q.id)
                    .into_iter()
                    .flatten()
                    .filter(|(_, &g)| g > 0)
                    .filter_map(|(d, _)| position.get(d.as_str()).copied())
                    .collect()
            })
            .collect()
    };
    let depth = |q: usize| settings.ranks[1] + relevant[q].len();
    let rankings: Vec<Vec<usize>> = match settings.method {
        MiningMethod::Bm25 => {
            let mut index = Bm25Index::create_in_ram(Bm25Config::default())?;
            let docs: Vec<TextDoc<'_>> = set
                .corpus
                .iter()
                .enumerate()
                .map(|(i, d)| TextDoc {
                    doc: i,
                    id: &d.id,
                    title: d.title.as_deref(),
                    text: &d.text,
                })
                .collect();
            index.add(&docs)?;
            index.commit()?;
            set.queries
                .iter()
                .enumerate()
                .map(|(q, query)| {
                    if query.text.trim().is_empty() {
                        return Ok(Vec::new());
                    }
                    Ok(index
                        .search(&query.text, depth(q), None)?
                        .into_iter()
                        .map(|hit| hit.doc)
                        .collect())
                })
                .collect::<Result<_>>()?
        }
        MiningMethod::Dense => {
            let (queries, documents) = encoders.ok_or_else(|| {
                crate::TrainError::InvalidInput("dense mining needs the model".to_owned())
            })?;
            let texts: Vec<String> = set.corpus.iter().map(|d| d.beir_text()).collect();
            let docs = documents.encode(&texts)?;
            let query_texts: Vec<&str> = set.queries.iter().map(|q| q.text.as_str()).collect();
            let query_vectors = queries.encode(&query_texts)?;
            let mut index = FlatIndex::new(docs.dim(), Distance::Cosine)?;
            index.add_all(docs.as_flat())?;
            query_vectors
                .rows()
                .enumerate()
                .map(|(q, row)| {
                    Ok(index
                        .search(row, depth(q))?
                        .into_iter()
                        .map(|h| h.doc)
                        .collect())
                })
                .collect::<Result<_>>()?
        }
    };
    Ok(source
        .pairs
        .iter()
        .map(|&(q, d)| {
            let example_seed = mix(mix(seed, q as u64), d as u64);
            pick_negatives(&rankings[q], &relevant[q], settings, example_seed)
        })
        .collect())
}

/// `settings.per_query` documents drawn by `seed` from ranks `settings.ranks` (1-based,
/// inclusive) of `ranking` once the `relevant` documents are removed from it.
pub fn pick_negatives(
    ranking: &[usize],
    relevant: &HashSet<usize>,
    settings: &MiningSettings,
    seed: u64,
) -> Vec<usize> {
    let [first, last] = settings.ranks;
    let window: Vec<usize> = ranking
        .iter()
        .copied()
        .filter(|d| !relevant.contains(d))
        .skip(first.saturating_sub(1))
        .take(last + 1 - first.max(1))
        .collect();
    sample(&window, settings.per_query, seed)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use pairwise_datasets::{beir_training_pairs, Document, Query, RetrievalSet};

    use super::*;

    #[test]
    fn window_skips_relevant_documents_and_respects_ranks() {
        let ranking: Vec<usize> = (0..30).collect();
        let relevant: HashSet<usize> = [0, 4, 12].into();
        let settings = MiningSettings {
            method: MiningMethod::Bm25,
            ranks: [3, 8],
            per_query: 6,
        };
        // Without 0, 4 and 12 the ranking is 1 2 3 5 6 7 8 9 10 11 13 …: ranks 3..=8 are
        // 3 5 6 7 8 9.
        let mut picked = pick_negatives(&ranking, &relevant, &settings, 1);
        picked.sort_unstable();
        assert_eq!(picked, [3, 5, 6, 7, 8, 9]);
        for seed in 0..50 {
            let few = pick_negatives(
                &ranking,
                &relevant,
                &MiningSettings {
                    per_query: 2,
                    ..settings.clone()
                },
                seed,
            );
            assert_eq!(few.len(), 2);
            assert!(
                few.iter().all(|d| [3, 5, 6, 7, 8, 9].contains(d)),
                "{few:?}"
            );
        }
        assert!(pick_negatives(&ranking[..2], &relevant, &settings, 1).is_empty());
    }

    fn doc(id: &str, text: &str) -> Document {
        Document {
            id: id.into(),
            title: None,
            text: text.into(),
        }
    }

    #[test]
    fn bm25_mining_never_returns_a_positive() {
        // Every document mentions the query's words; the two relevant ones are the best matches.
        let corpus: Vec<Document> = (0..40)
            .map(|i| {
                let extra = if i % 7 == 0 {
                    " vitamin deficiency fracture"
                } else {
                    ""
                };
                doc(
                    &format!("d{i}"),
                    &format!("vitamin study number {i}{extra}"),
                )
            })
            .collect();
        let set = RetrievalSet {
            corpus,
            queries: vec![
                Query {
                    id: "q1".into(),
                    text: "vitamin deficiency fracture".into(),
                },
                Query {
                    id: "q2".into(),
                    text: "study number 3".into(),
                },
            ],
            qrels: HashMap::from([
                (
                    "q1".to_owned(),
                    HashMap::from([("d0".to_owned(), 1), ("d7".to_owned(), 1)]),
                ),
                ("q2".to_owned(), HashMap::from([("d3".to_owned(), 1)])),
            ]),
        };
        let pairs = beir_training_pairs(&set);
        assert_eq!(pairs.len(), 3);
        let source = BeirSource { set, pairs };
        for per_query in 1..=3 {
            let settings = MiningSettings {
                method: MiningMethod::Bm25,
                ranks: [1, 5],
                per_query,
            };
            let mined = mine_negatives(&settings, &source, 3, None).unwrap();
            assert_eq!(mined.len(), 3);
            for (negatives, &(q, _)) in mined.iter().zip(&source.pairs) {
                assert_eq!(negatives.len(), per_query);
                let positives: &[usize] = if q == 0 { &[0, 7] } else { &[3] };
                assert!(
                    negatives.iter().all(|d| !positives.contains(d)),
                    "{negatives:?}"
                );
            }
        }
        // q1's best non-relevant matches are the other documents with all three words.
        let settings = MiningSettings {
            method: MiningMethod::Bm25,
            ranks: [1, 4],
            per_query: 4,
        };
        let mut top = mine_negatives(&settings, &source, 3, None).unwrap()[0].clone();
        top.sort_unstable();
        assert_eq!(top, [14, 21, 28, 35]);
    }
}
