//! Turning fused scores into a ranked, truncated list.

use std::collections::HashMap;

use crate::hit::{DocIndex, Hit, Score};

/// Hits sorted by score, highest first, ties by lower [`DocIndex`], at most `limit` of them.
pub(super) fn ranked(scores: HashMap<DocIndex, Score>, limit: usize) -> Vec<Hit> {
    let mut hits: Vec<Hit> = scores
        .into_iter()
        .map(|(doc, score)| Hit { doc, score })
        .collect();
    let order = |a: &Hit, b: &Hit| b.score.total_cmp(&a.score).then(a.doc.cmp(&b.doc));
    if limit < hits.len() {
        hits.select_nth_unstable_by(limit, order);
        hits.truncate(limit);
    }
    hits.sort_by(order);
    hits
}

/// The hits of a list in order, each document once, at its first position.
pub(super) fn first_occurrences(list: &[Hit]) -> impl Iterator<Item = (usize, &Hit)> {
    let mut seen = std::collections::HashSet::with_capacity(list.len());
    list.iter()
        .enumerate()
        .filter(move |(_, hit)| seen.insert(hit.doc))
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The documents of hits, in order.
    pub(in crate::fusion) fn docs(hits: &[Hit]) -> Vec<DocIndex> {
        hits.iter().map(|h| h.doc).collect()
    }

    /// Up to four ranked lists: distinct documents per list, scores strictly decreasing.
    pub(in crate::fusion) fn ranked_lists() -> impl Strategy<Value = Vec<Vec<Hit>>> {
        let list = prop::collection::btree_map(0usize..30, -1000i32..1000, 0..15).prop_map(|m| {
            let mut seen = std::collections::BTreeSet::new();
            let mut hits: Vec<Hit> = m
                .into_iter()
                .filter(|&(_, score)| seen.insert(score))
                .map(|(doc, score)| Hit {
                    doc,
                    score: score as f32 / 10.0,
                })
                .collect();
            hits.sort_by(|a, b| b.score.total_cmp(&a.score));
            hits
        });
        prop::collection::vec(list, 0..=4)
    }

    #[test]
    fn ranks_by_score_then_doc_and_truncates() {
        let scores = HashMap::from([(4, 1.0), (2, 3.0), (9, 1.0), (1, 0.5)]);
        assert_eq!(docs(&ranked(scores.clone(), 10)), [2, 4, 9, 1]);
        assert_eq!(docs(&ranked(scores.clone(), 2)), [2, 4]);
        assert!(ranked(scores, 0).is_empty());
    }

    #[test]
    fn first_occurrences_skip_repeats() {
        let list = [1, 2, 1, 3].map(|doc| Hit { doc, score: 0.0 });
        let kept: Vec<(usize, usize)> = first_occurrences(&list).map(|(i, h)| (i, h.doc)).collect();
        assert_eq!(kept, [(0, 1), (1, 2), (3, 3)]);
    }
}
