//! The pooled retrieval AUC: per query, the scores of its relevant documents
//! are positives and the scores of its highest-scoring non-relevant documents
//! are negatives; all queries are pooled into one Mann-Whitney AUC.

use crate::error::{EvalError, Result};
use crate::roc::auc_pos_neg;

/// Default number of highest-scoring non-relevant documents per query used as
/// negatives by the pooled retrieval AUC.
pub const DEFAULT_POOLED_NEGATIVES: usize = 500;

/// Pooled retrieval AUC: every query contributes its `(positives, negatives)`
/// scores (see [`pooled_auc_inputs`]) and all of them are pooled into one
/// Mann-Whitney AUC.
///
/// Errors on a NaN score; `Ok(None)` when no positive or no negative exists.
pub fn pooled_auc(per_query: &[(Vec<f64>, Vec<f64>)]) -> Result<Option<f64>> {
    let positives: Vec<f64> = per_query
        .iter()
        .flat_map(|(p, _)| p.iter().copied())
        .collect();
    let negatives: Vec<f64> = per_query
        .iter()
        .flat_map(|(_, n)| n.iter().copied())
        .collect();
    auc_pos_neg(&positives, &negatives)
}

/// One query's pooled-AUC inputs from the scores of the whole corpus
/// (`scores[i]` is the score of document `i`): the positives are the scores
/// of the `relevant` documents (duplicate indices count once), the negatives
/// the `n_negatives` highest scores among the other documents, in no
/// particular order. Selection is `O(n)` (`select_nth_unstable`, no sort).
///
/// Errors when a relevant index is out of range.
pub fn pooled_auc_inputs(
    scores: &[f64],
    relevant: &[usize],
    n_negatives: usize,
) -> Result<(Vec<f64>, Vec<f64>)> {
    let mut is_relevant = vec![false; scores.len()];
    let mut positives = Vec::with_capacity(relevant.len());
    for &index in relevant {
        let slot = is_relevant
            .get_mut(index)
            .ok_or(EvalError::IndexOutOfRange {
                name: "scores",
                index,
                len: scores.len(),
            })?;
        if !*slot {
            *slot = true;
            positives.push(scores[index]);
        }
    }
    let mut negatives: Vec<f64> = scores
        .iter()
        .zip(&is_relevant)
        .filter(|(_, &r)| !r)
        .map(|(&s, _)| s)
        .collect();
    if n_negatives == 0 {
        negatives.clear();
    } else if negatives.len() > n_negatives {
        negatives.select_nth_unstable_by(n_negatives - 1, |a, b| b.total_cmp(a));
        negatives.truncate(n_negatives);
    }
    Ok((positives, negatives))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn pooled_auc_golden() {
        // Corpus scores by doc index; doc 1 relevant (listed twice).
        // Non-relevant: 0.1 0.5 0.7 0.3 -> top 2 are 0.7 and 0.5.
        let scores = [0.1, 0.9, 0.5, 0.7, 0.3];
        let (pos, mut neg) = pooled_auc_inputs(&scores, &[1, 1], 2).unwrap();
        neg.sort_by(f64::total_cmp);
        assert_eq!((pos.clone(), neg.clone()), (vec![0.9], vec![0.5, 0.7]));
        assert_eq!(
            pooled_auc_inputs(&scores, &[1], 0).unwrap().1,
            Vec::<f64>::new()
        );
        assert!(pooled_auc_inputs(&scores, &[5], 2).is_err());
        // Second query: positive 0.6 vs negatives 0.8 and 0.2. Pooled:
        // positives {0.9, 0.6}, negatives {0.5, 0.7, 0.8, 0.2};
        // 0.9 beats all 4, 0.6 beats 0.5 and 0.2 -> 6/8.
        let per_query = vec![(pos, neg), (vec![0.6], vec![0.8, 0.2])];
        assert_eq!(pooled_auc(&per_query).unwrap(), Some(0.75));
        assert_eq!(pooled_auc(&[(vec![0.1], vec![])]).unwrap(), None);
        assert_eq!(DEFAULT_POOLED_NEGATIVES, 500);
    }

    proptest! {
        #[test]
        fn top_negatives_match_full_sort(
            scores in prop::collection::vec(-50i32..50, 0..40),
            relevant in prop::collection::vec(0usize..40, 0..5),
            n in 0usize..45,
        ) {
            let scores: Vec<f64> = scores.into_iter().map(f64::from).collect();
            let relevant: Vec<usize> =
                relevant.into_iter().filter(|&i| i < scores.len()).collect();
            let (pos, mut neg) = pooled_auc_inputs(&scores, &relevant, n).unwrap();
            let mut expected: Vec<f64> = (0..scores.len())
                .filter(|i| !relevant.contains(i)).map(|i| scores[i]).collect();
            expected.sort_by(|a, b| b.total_cmp(a));
            expected.truncate(n);
            neg.sort_by(|a, b| b.total_cmp(a));
            prop_assert_eq!(neg, expected);
            let mut unique = relevant.clone();
            unique.sort_unstable();
            unique.dedup();
            prop_assert_eq!(pos.len(), unique.len());
        }
    }
}
