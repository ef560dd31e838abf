//! Reciprocal rank fusion.
//!
//! Cormack, Clarke & Büttcher, "Reciprocal Rank Fusion outperforms Condorcet and Individual
//! Rank Learning Methods", SIGIR 2009: a document's fused score is
//! `Σ_lists 1 / (k + rank)`, with 1-based ranks and `k = 60`, the value the paper found
//! robust. Only ranks matter, so lists whose scores live on different scales (cosine
//! similarities and BM25) fuse without calibration.

use std::collections::HashMap;

use crate::error::{IndexError, Result};
use crate::fusion::ranked::{first_occurrences, ranked};
use crate::hit::{DocIndex, Hit, Score};

/// The `k` of reciprocal rank fusion recommended by Cormack et al. (2009).
pub const DEFAULT_RRF_K: f32 = 60.0;

/// Fuses ranked lists (each best first) by reciprocal rank: every document scores
/// `Σ 1 / (k + rank)` over the lists that hold it, rank 1-based.
///
/// The lists' scores are ignored; only their order counts. Returns the `limit` best of the
/// lists' union, highest fused score first, ties broken by lower [`DocIndex`].
///
/// # Errors
/// [`IndexError::InvalidParameter`] when `k` is negative or not finite.
pub fn rrf(lists: &[Vec<Hit>], k: f32, limit: usize) -> Result<Vec<Hit>> {
    if !(k.is_finite() && k >= 0.0) {
        return Err(IndexError::InvalidParameter(format!(
            "RRF k must be finite and non-negative, got {k}"
        )));
    }
    let mut fused: HashMap<DocIndex, Score> = HashMap::new();
    for list in lists {
        for (position, hit) in first_occurrences(list) {
            let rank = position as f32 + 1.0;
            *fused.entry(hit.doc).or_default() += 1.0 / (k + rank);
        }
    }
    Ok(ranked(fused, limit))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fusion::ranked::tests::{docs, ranked_lists};
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    fn hits(docs: &[DocIndex]) -> Vec<Hit> {
        docs.iter().map(|&doc| Hit { doc, score: 1.0 }).collect()
    }

    #[test]
    fn scores_are_sums_of_reciprocal_ranks() {
        let fused = rrf(&[hits(&[1, 2]), hits(&[2, 3])], 60.0, 10).unwrap();
        assert_eq!(docs(&fused), [2, 1, 3]);
        let expected = [1.0 / 62.0 + 1.0 / 61.0, 1.0 / 61.0, 1.0 / 62.0];
        for (hit, want) in fused.iter().zip(expected) {
            assert!((hit.score - want).abs() < 1e-7, "{hit:?} vs {want}");
        }
    }

    #[test]
    fn equal_fused_scores_break_ties_by_lower_doc() {
        let fused = rrf(&[hits(&[9, 4]), hits(&[4, 9])], DEFAULT_RRF_K, 10).unwrap();
        assert_eq!(docs(&fused), [4, 9]);
    }

    #[test]
    fn a_repeated_doc_counts_once_at_its_best_rank() {
        let fused = rrf(&[hits(&[5, 6, 5])], 0.0, 10).unwrap();
        assert_eq!(fused[0], Hit { doc: 5, score: 1.0 });
        assert_eq!(fused.len(), 2);
    }

    #[test]
    fn rejects_a_bad_k_and_handles_no_lists() {
        for k in [-1.0, f32::NAN, f32::INFINITY] {
            assert!(matches!(
                rrf(&[], k, 5),
                Err(IndexError::InvalidParameter(_))
            ));
        }
        assert!(rrf(&[], DEFAULT_RRF_K, 5).unwrap().is_empty());
        assert!(rrf(&[vec![], vec![]], DEFAULT_RRF_K, 5).unwrap().is_empty());
    }

    proptest! {
        #[test]
        fn output_is_the_ranked_union_cut_to_limit(lists in ranked_lists(), limit in 0usize..40) {
            let fused = rrf(&lists, DEFAULT_RRF_K, limit).unwrap();
            let union: BTreeSet<DocIndex> = lists.iter().flatten().map(|h| h.doc).collect();
            let out: BTreeSet<DocIndex> = fused.iter().map(|h| h.doc).collect();
            prop_assert_eq!(out.len(), fused.len(), "duplicates in {:?}", fused);
            prop_assert!(out.is_subset(&union));
            prop_assert_eq!(fused.len(), union.len().min(limit));
            for pair in fused.windows(2) {
                prop_assert!(
                    pair[0].score > pair[1].score
                        || (pair[0].score == pair[1].score && pair[0].doc < pair[1].doc),
                    "not ranked: {:?}", pair
                );
            }
        }

        #[test]
        fn ignores_the_scale_of_scores(
            lists in ranked_lists(),
            factors in prop::collection::vec(1e-3f32..1e3, 4),
            limit in 0usize..40,
        ) {
            let scaled: Vec<Vec<Hit>> = lists
                .iter()
                .zip(&factors)
                .map(|(list, &c)| list.iter().map(|h| Hit { doc: h.doc, score: h.score * c }).collect())
                .collect();
            prop_assert_eq!(
                rrf(&lists, DEFAULT_RRF_K, limit).unwrap(),
                rrf(&scaled, DEFAULT_RRF_K, limit).unwrap()
            );
        }
    }
}
