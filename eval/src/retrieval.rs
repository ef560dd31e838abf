//! Retrieval metrics compatible with BEIR / `pytrec_eval` (trec_eval's
//! `ndcg_cut`, `map_cut`, `recall`, `P`) and BEIR's `mrr`.
//!
//! Ranking order follows trec_eval: by score descending, ties broken by
//! document id descending (plain byte-wise string comparison), so results do
//! not depend on the order of the run. If a run lists a document twice only
//! its best-ranked entry counts (`pytrec_eval` takes a dict, so duplicates
//! cannot occur there). A document is relevant when its grade is `> 0`.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};

/// Relevance judgments: query id → document id → graded relevance
/// (`> 0` is relevant; `0` or below is judged non-relevant).
pub type Qrels = HashMap<String, HashMap<String, i32>>;

/// A retrieval run: query id → retrieved documents with their scores (in any
/// order; see the module docs for the ranking rule).
pub type Run = HashMap<String, Vec<ScoredDoc>>;

/// One retrieved document and its score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoredDoc {
    /// Document id, as used in the qrels.
    pub doc_id: String,
    /// Retrieval score; higher ranks first.
    pub score: f64,
}

/// The retrieval metrics this module computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Metric {
    /// trec_eval `ndcg_cut`.
    Ndcg,
    /// Mean reciprocal rank of the first relevant document within the cut.
    Mrr,
    /// trec_eval `recall` at a cut.
    Recall,
    /// trec_eval `map_cut`.
    Map,
    /// trec_eval `P` (precision) at a cut.
    Precision,
}

impl Metric {
    /// Every metric, in a fixed order.
    pub const ALL: [Metric; 5] = [
        Metric::Ndcg,
        Metric::Mrr,
        Metric::Recall,
        Metric::Map,
        Metric::Precision,
    ];

    /// Lower-case name (`"ndcg"`, `"mrr"`, ...), matching the serde form.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Ndcg => "ndcg",
            Metric::Mrr => "mrr",
            Metric::Recall => "recall",
            Metric::Map => "map",
            Metric::Precision => "precision",
        }
    }
}

/// Metric values of a single query, keyed by cutoff `k`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QueryMetrics {
    /// nDCG@k.
    pub ndcg: BTreeMap<usize, f64>,
    /// Reciprocal rank of the first relevant document within the top k.
    pub mrr: BTreeMap<usize, f64>,
    /// Recall@k.
    pub recall: BTreeMap<usize, f64>,
    /// Average precision truncated at k (trec_eval `map_cut`).
    pub map: BTreeMap<usize, f64>,
    /// Precision@k.
    pub precision: BTreeMap<usize, f64>,
}

/// Metrics averaged over the evaluated queries, keyed by cutoff `k`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RetrievalMetrics {
    /// Mean nDCG@k.
    pub ndcg: BTreeMap<usize, f64>,
    /// Mean reciprocal rank within the top k (MRR@k).
    pub mrr: BTreeMap<usize, f64>,
    /// Mean recall@k.
    pub recall: BTreeMap<usize, f64>,
    /// Mean average precision truncated at k (MAP@k).
    pub map: BTreeMap<usize, f64>,
    /// Mean precision@k.
    pub precision: BTreeMap<usize, f64>,
    /// Number of queries averaged over (those with a relevant document).
    pub n_queries: usize,
}

/// The map of `metric` among the five given maps.
fn pick(maps: [&BTreeMap<usize, f64>; 5], metric: Metric) -> &BTreeMap<usize, f64> {
    let [ndcg, mrr, recall, map, precision] = maps;
    match metric {
        Metric::Ndcg => ndcg,
        Metric::Mrr => mrr,
        Metric::Recall => recall,
        Metric::Map => map,
        Metric::Precision => precision,
    }
}

impl QueryMetrics {
    /// The values of `metric` for every evaluated cutoff.
    pub fn metric(&self, metric: Metric) -> &BTreeMap<usize, f64> {
        pick(
            [
                &self.ndcg,
                &self.mrr,
                &self.recall,
                &self.map,
                &self.precision,
            ],
            metric,
        )
    }

    /// The value of `metric` at cutoff `k`, if that cutoff was evaluated.
    pub fn get(&self, metric: Metric, k: usize) -> Option<f64> {
        self.metric(metric).get(&k).copied()
    }

    /// Mutable access used while filling the maps.
    fn metric_mut(&mut self, metric: Metric) -> &mut BTreeMap<usize, f64> {
        match metric {
            Metric::Ndcg => &mut self.ndcg,
            Metric::Mrr => &mut self.mrr,
            Metric::Recall => &mut self.recall,
            Metric::Map => &mut self.map,
            Metric::Precision => &mut self.precision,
        }
    }
}

impl RetrievalMetrics {
    /// The mean of `metric` for every evaluated cutoff.
    pub fn metric(&self, metric: Metric) -> &BTreeMap<usize, f64> {
        pick(
            [
                &self.ndcg,
                &self.mrr,
                &self.recall,
                &self.map,
                &self.precision,
            ],
            metric,
        )
    }

    /// The mean of `metric` at cutoff `k`; `None` if that cutoff was not
    /// evaluated or no query had a relevant document.
    pub fn get(&self, metric: Metric, k: usize) -> Option<f64> {
        self.metric(metric).get(&k).copied()
    }
}

/// Document ids of `docs` in trec_eval order (score descending, then doc id
/// descending), keeping only the first occurrence of a repeated id.
pub fn trec_ranking(docs: &[ScoredDoc]) -> Vec<&str> {
    let mut sorted: Vec<&ScoredDoc> = docs.iter().collect();
    sorted.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| b.doc_id.cmp(&a.doc_id))
    });
    let mut seen = HashSet::with_capacity(sorted.len());
    sorted
        .into_iter()
        .map(|d| d.doc_id.as_str())
        .filter(|id| seen.insert(*id))
        .collect()
}

/// Grade of `doc` in `judgments` (unjudged counts as 0).
fn grade(judgments: &HashMap<String, i32>, doc: &str) -> i32 {
    judgments.get(doc).copied().unwrap_or(0)
}

/// Number of relevant (`> 0`) documents, or `None` when there are none or
/// the cutoff is 0, which leaves every per-query metric undefined.
fn relevant_count(judgments: &HashMap<String, i32>, k: usize) -> Option<usize> {
    let n = judgments.values().filter(|&&g| g > 0).count();
    (n > 0 && k > 0).then_some(n)
}

/// Number of relevant documents in the top `k` of `ranked`.
fn hits_at(ranked: &[&str], judgments: &HashMap<String, i32>, k: usize) -> usize {
    ranked
        .iter()
        .take(k)
        .filter(|d| grade(judgments, d) > 0)
        .count()
}

/// trec_eval `ndcg_cut.k`: DCG of the top `k` (gain = grade, discount
/// `log2(rank + 1)` with 1-based ranks) over the ideal DCG of the best `k`
/// grades among all judged relevant documents of the query.
///
/// `ranked` must already be in ranking order (see [`trec_ranking`]).
/// `None` when the query has no relevant document or `k == 0`.
pub fn ndcg_at_k(ranked: &[&str], judgments: &HashMap<String, i32>, k: usize) -> Option<f64> {
    relevant_count(judgments, k)?;
    let discount = |i: usize| (i as f64 + 2.0).log2();
    let dcg: f64 = ranked
        .iter()
        .take(k)
        .enumerate()
        .map(|(i, d)| f64::from(grade(judgments, d).max(0)) / discount(i))
        .sum();
    let mut ideal: Vec<i32> = judgments.values().copied().filter(|&g| g > 0).collect();
    ideal.sort_unstable_by(|a, b| b.cmp(a));
    let idcg: f64 = ideal
        .iter()
        .take(k)
        .enumerate()
        .map(|(i, &g)| f64::from(g) / discount(i))
        .sum();
    Some(dcg / idcg)
}

/// Reciprocal rank of the first relevant document within the top `k`, or 0
/// if there is none (BEIR's `mrr@k`). `None` as for [`ndcg_at_k`].
pub fn mrr_at_k(ranked: &[&str], judgments: &HashMap<String, i32>, k: usize) -> Option<f64> {
    relevant_count(judgments, k)?;
    let first = ranked.iter().take(k).position(|d| grade(judgments, d) > 0);
    Some(first.map_or(0.0, |i| 1.0 / (i as f64 + 1.0)))
}

/// Relevant documents in the top `k` over all relevant documents of the
/// query (trec_eval `recall.k`). `None` as for [`ndcg_at_k`].
pub fn recall_at_k(ranked: &[&str], judgments: &HashMap<String, i32>, k: usize) -> Option<f64> {
    let n_rel = relevant_count(judgments, k)?;
    Some(hits_at(ranked, judgments, k) as f64 / n_rel as f64)
}

/// Relevant documents in the top `k` over `k`, even when fewer than `k`
/// documents were retrieved (trec_eval `P.k`). `None` as for [`ndcg_at_k`].
pub fn precision_at_k(ranked: &[&str], judgments: &HashMap<String, i32>, k: usize) -> Option<f64> {
    relevant_count(judgments, k)?;
    Some(hits_at(ranked, judgments, k) as f64 / k as f64)
}

/// Sum of the precision at the rank of every relevant document within the
/// top `k`, over the number of relevant documents of the query (trec_eval
/// `map_cut.k`). `None` as for [`ndcg_at_k`].
pub fn map_at_k(ranked: &[&str], judgments: &HashMap<String, i32>, k: usize) -> Option<f64> {
    let n_rel = relevant_count(judgments, k)?;
    let mut hits = 0usize;
    let mut sum = 0.0;
    for (i, d) in ranked.iter().take(k).enumerate() {
        if grade(judgments, d) > 0 {
            hits += 1;
            sum += hits as f64 / (i as f64 + 1.0);
        }
    }
    Some(sum / n_rel as f64)
}

/// Per-query metrics at every cutoff in `ks`, for each query of `qrels` with
/// at least one relevant document (keyed and ordered by query id).
///
/// A query of the qrels missing from the run scores 0 on everything (like
/// `trec_eval -c`; note `pytrec_eval` would skip it instead). Run queries
/// absent from the qrels are ignored, and a cutoff of 0 is skipped.
pub fn evaluate_per_query(
    qrels: &Qrels,
    run: &Run,
    ks: &[usize],
) -> BTreeMap<String, QueryMetrics> {
    let mut out = BTreeMap::new();
    for (query, judgments) in qrels {
        let ranked = run
            .get(query)
            .map(|docs| trec_ranking(docs))
            .unwrap_or_default();
        let mut values = QueryMetrics::default();
        for &k in ks {
            for metric in Metric::ALL {
                let f = match metric {
                    Metric::Ndcg => ndcg_at_k,
                    Metric::Mrr => mrr_at_k,
                    Metric::Recall => recall_at_k,
                    Metric::Map => map_at_k,
                    Metric::Precision => precision_at_k,
                };
                if let Some(v) = f(&ranked, judgments, k) {
                    values.metric_mut(metric).insert(k, v);
                }
            }
        }
        if judgments.values().any(|&g| g > 0) {
            out.insert(query.clone(), values);
        }
    }
    out
}

/// Metrics averaged over the queries of `qrels` that have at least one
/// relevant document (see [`evaluate_per_query`] for the conventions).
///
/// With no such query, or no positive cutoff, the maps are empty and every
/// [`RetrievalMetrics::get`] is `None`; `n_queries` still counts the queries.
pub fn evaluate(qrels: &Qrels, run: &Run, ks: &[usize]) -> RetrievalMetrics {
    let per_query = evaluate_per_query(qrels, run, ks);
    let mut mean = RetrievalMetrics {
        n_queries: per_query.len(),
        ..Default::default()
    };
    if per_query.is_empty() {
        return mean;
    }
    let n = per_query.len() as f64;
    for metric in Metric::ALL {
        let mut sums: BTreeMap<usize, f64> = BTreeMap::new();
        for values in per_query.values() {
            for (&k, &v) in values.metric(metric) {
                *sums.entry(k).or_insert(0.0) += v;
            }
        }
        let target = match metric {
            Metric::Ndcg => &mut mean.ndcg,
            Metric::Mrr => &mut mean.mrr,
            Metric::Recall => &mut mean.recall,
            Metric::Map => &mut mean.map,
            Metric::Precision => &mut mean.precision,
        };
        *target = sums.into_iter().map(|(k, s)| (k, s / n)).collect();
    }
    mean
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    fn judgments(pairs: &[(&str, i32)]) -> HashMap<String, i32> {
        pairs.iter().map(|&(d, g)| (d.to_string(), g)).collect()
    }

    fn docs(pairs: &[(&str, f64)]) -> Vec<ScoredDoc> {
        pairs
            .iter()
            .map(|&(d, score)| ScoredDoc {
                doc_id: d.to_string(),
                score,
            })
            .collect()
    }

    /// q1: graded; q2: ties; q3: missing from the run; q4: nothing relevant
    /// (excluded); q5 is only in the run (ignored).
    fn fixture() -> (Qrels, Run) {
        let qrels: Qrels = [
            (
                "q1",
                judgments(&[("d1", 2), ("d2", 1), ("d3", 0), ("d4", 1)]),
            ),
            ("q2", judgments(&[("d1", 1)])),
            ("q3", judgments(&[("x", 1)])),
            ("q4", judgments(&[("y", 0)])),
        ]
        .into_iter()
        .map(|(q, j)| (q.to_string(), j))
        .collect();
        let run: Run = [
            (
                "q1",
                docs(&[
                    ("d3", 0.9),
                    ("d1", 0.8),
                    ("d5", 0.7),
                    ("d2", 0.6),
                    ("d6", 0.5),
                ]),
            ),
            ("q2", docs(&[("d1", 0.5), ("dA", 0.5), ("dB", 0.5)])),
            ("q4", docs(&[("y", 1.0)])),
            ("q5", docs(&[("z", 1.0)])),
        ]
        .into_iter()
        .map(|(q, d)| (q.to_string(), d))
        .collect();
        (qrels, run)
    }

    #[test]
    fn ties_break_by_doc_id_descending_and_duplicates_collapse() {
        // Equal scores: "dB" > "dA" > "d1" byte-wise, whatever the input order.
        let ranked = docs(&[
            ("d1", 0.5),
            ("dA", 0.5),
            ("dB", 0.5),
            ("c", 0.7),
            ("dA", 0.1),
        ]);
        assert_eq!(trec_ranking(&ranked), vec!["c", "dB", "dA", "d1"]);
    }

    #[test]
    fn per_query_golden_values() {
        // q1 ranking d3 d1 d5 d2 d6 has grades 0 2 0 1 0; 3 relevant (d4 never
        // retrieved); ideal grades 2 1 1.
        let (qrels, run) = fixture();
        let ranked = trec_ranking(&run["q1"]);
        let j = &qrels["q1"];
        let l2 = |x: f64| x.log2();
        // k = 3: DCG = 2/log2(3); IDCG = 2/1 + 1/log2(3) + 1/log2(4).
        let idcg = 2.0 + 1.0 / l2(3.0) + 0.5;
        assert!(close(
            ndcg_at_k(&ranked, j, 3).unwrap(),
            (2.0 / l2(3.0)) / idcg
        ));
        // k = 5 and k = 10 (> run length): DCG adds 1/log2(5) for d2 at rank 4.
        let dcg5 = 2.0 / l2(3.0) + 1.0 / l2(5.0);
        assert!(close(ndcg_at_k(&ranked, j, 5).unwrap(), dcg5 / idcg));
        assert!(close(ndcg_at_k(&ranked, j, 10).unwrap(), dcg5 / idcg));
        // First relevant at rank 2.
        assert_eq!(mrr_at_k(&ranked, j, 1), Some(0.0));
        assert_eq!(mrr_at_k(&ranked, j, 3), Some(0.5));
        // Recall: 1 of 3 relevant by rank 3, 2 of 3 by rank 4.
        assert!(close(recall_at_k(&ranked, j, 3).unwrap(), 1.0 / 3.0));
        assert!(close(recall_at_k(&ranked, j, 10).unwrap(), 2.0 / 3.0));
        // Precision divides by k even past the end of the run: 2/10.
        assert!(close(precision_at_k(&ranked, j, 3).unwrap(), 1.0 / 3.0));
        assert!(close(precision_at_k(&ranked, j, 10).unwrap(), 0.2));
        // MAP: precisions 1/2 (rank 2) and 2/4 (rank 4), over 3 relevant.
        assert!(close(map_at_k(&ranked, j, 3).unwrap(), 0.5 / 3.0));
        assert!(close(map_at_k(&ranked, j, 10).unwrap(), (0.5 + 0.5) / 3.0));
        // Undefined: k = 0, or no relevant document.
        assert_eq!(ndcg_at_k(&ranked, j, 0), None);
        assert_eq!(recall_at_k(&ranked, &qrels["q4"], 5), None);
    }

    #[test]
    fn ndcg_uses_graded_gains() {
        // Same ranking, grades of d1 and d2 swapped: DCG@3 = 1/log2(3), while
        // the ideal DCG (grades 2 1 1) is unchanged.
        let (_, run) = fixture();
        let ranked = trec_ranking(&run["q1"]);
        let j = judgments(&[("d1", 1), ("d2", 2), ("d3", 0), ("d4", 1)]);
        let idcg = 2.0 + 1.0 / 3f64.log2() + 0.5;
        assert!(close(
            ndcg_at_k(&ranked, &j, 3).unwrap(),
            (1.0 / 3f64.log2()) / idcg
        ));
        // A perfect ranking scores 1.
        assert!(close(ndcg_at_k(&["d2", "d1", "d4"], &j, 3).unwrap(), 1.0));
    }

    #[test]
    fn evaluate_averages_over_judged_queries() {
        // q2 ranking dB dA d1 (tie break): relevant at rank 3. At k = 3:
        // nDCG = (1/log2 4)/1 = 0.5, RR = 1/3, recall 1, P 1/3, AP 1/3.
        // q3 is missing from the run: zeros. Mean over q1, q2, q3 at k = 3:
        let (qrels, run) = fixture();
        let m = evaluate(&qrels, &run, &[1, 3, 10, 0]);
        assert_eq!(m.n_queries, 3);
        let ndcg_q1 = (2.0 / 3f64.log2()) / (2.0 + 1.0 / 3f64.log2() + 0.5);
        assert!(close(
            m.get(Metric::Ndcg, 3).unwrap(),
            (ndcg_q1 + 0.5) / 3.0
        ));
        assert!(close(
            m.get(Metric::Mrr, 3).unwrap(),
            (0.5 + 1.0 / 3.0) / 3.0
        ));
        assert!(close(
            m.get(Metric::Recall, 3).unwrap(),
            (1.0 / 3.0 + 1.0) / 3.0
        ));
        assert!(close(
            m.get(Metric::Precision, 3).unwrap(),
            (1.0 / 3.0 + 1.0 / 3.0) / 3.0
        ));
        assert!(close(
            m.get(Metric::Map, 3).unwrap(),
            (0.5 / 3.0 + 1.0 / 3.0) / 3.0
        ));
        // k = 10: recall (2/3 + 1)/3, P (0.2 + 0.1)/3, MAP (1/3 + 1/3)/3.
        assert!(close(
            m.get(Metric::Recall, 10).unwrap(),
            (2.0 / 3.0 + 1.0) / 3.0
        ));
        assert!(close(m.get(Metric::Precision, 10).unwrap(), 0.1));
        assert!(close(m.get(Metric::Map, 10).unwrap(), 2.0 / 9.0));
        // Nothing relevant in the top 1 of any query; k = 0 is skipped.
        assert_eq!(m.get(Metric::Ndcg, 1), Some(0.0));
        assert_eq!(m.get(Metric::Ndcg, 0), None);
        let per_query = evaluate_per_query(&qrels, &run, &[3]);
        assert_eq!(per_query.keys().collect::<Vec<_>>(), ["q1", "q2", "q3"]);
        assert_eq!(per_query["q3"].get(Metric::Mrr, 3), Some(0.0));
        assert_eq!(per_query["q2"].get(Metric::Ndcg, 3), Some(0.5));
    }

    #[test]
    fn evaluate_with_nothing_to_average() {
        let m = evaluate(&Qrels::new(), &Run::new(), &[10]);
        assert_eq!(m.n_queries, 0);
        assert_eq!(m.get(Metric::Ndcg, 10), None);
        assert_eq!(Metric::Map.name(), "map");
        // Only a zero cutoff: queries are counted but nothing is averaged.
        let (qrels, run) = fixture();
        let m = evaluate(&qrels, &run, &[0]);
        assert_eq!((m.n_queries, m.get(Metric::Recall, 0)), (3, None));
    }

    proptest! {
        #[test]
        fn metrics_bounded_and_recall_monotone(
            grades in prop::collection::vec(0i32..3, 1..15),
            scores in prop::collection::vec(0i32..5, 0..20),
        ) {
            let j: HashMap<String, i32> =
                grades.iter().enumerate().map(|(i, &g)| (format!("d{i}"), g)).collect();
            let run: Vec<ScoredDoc> = scores.iter().enumerate()
                .map(|(i, &s)| ScoredDoc { doc_id: format!("d{i}"), score: f64::from(s) })
                .collect();
            let ranked = trec_ranking(&run);
            let mut previous = 0.0;
            for k in 1..25 {
                let Some(recall) = recall_at_k(&ranked, &j, k) else { return Ok(()) };
                prop_assert!(recall >= previous);
                previous = recall;
                for f in [ndcg_at_k, mrr_at_k, map_at_k, precision_at_k] {
                    let v = f(&ranked, &j, k).unwrap();
                    prop_assert!((0.0..=1.0 + 1e-12).contains(&v));
                }
            }
        }
    }
}
