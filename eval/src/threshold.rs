//! The accuracy-maximising decision threshold for verification.
//!
//! A pair is predicted positive when `score >= threshold`.

use serde::{Deserialize, Serialize};

use crate::error::{ensure_no_nan, ensure_same_len, Result};
use crate::roc::{class_counts, groups_descending};

/// The accuracy-maximising decision threshold found by [`best_threshold`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Threshold {
    /// Decision threshold: scores `>= threshold` are predicted positive.
    pub threshold: f64,
    /// Fraction of all samples classified correctly at this threshold.
    pub accuracy: f64,
    /// True positive rate at this threshold.
    pub tpr: f64,
    /// False positive rate at this threshold.
    pub fpr: f64,
}

/// Midpoint of two adjacent distinct scores `hi > lo`, falling back to `hi`
/// when the midpoint is not representable strictly above `lo`.
fn midpoint(hi: f64, lo: f64) -> f64 {
    let mid = hi / 2.0 + lo / 2.0;
    if mid > lo && mid <= hi {
        mid
    } else {
        hi
    }
}

/// The threshold maximising accuracy, predicting positive when
/// `score >= threshold`.
///
/// The threshold sits midway between the two adjacent distinct scores it
/// separates; "everything positive" uses the lowest score and "everything
/// negative" uses `highest score + 1.0`. Among equally accurate thresholds
/// the highest (most conservative) wins. Errors on a length mismatch or a NaN
/// score; `Ok(None)` when either class is empty (TPR or FPR undefined).
pub fn best_threshold(labels: &[bool], scores: &[f64]) -> Result<Option<Threshold>> {
    ensure_same_len("labels", labels.len(), "scores", scores.len())?;
    ensure_no_nan("scores", scores)?;
    let groups = groups_descending(labels, scores);
    let (n_pos, n_neg) = class_counts(&groups);
    if n_pos == 0 || n_neg == 0 {
        return Ok(None);
    }
    let n = (n_pos + n_neg) as f64;
    let top = groups.first().map_or(0.0, |g| g.score);
    let mut best_correct = n_neg;
    let mut best = Threshold {
        threshold: top + 1.0,
        accuracy: n_neg as f64 / n,
        tpr: 0.0,
        fpr: 0.0,
    };
    let (mut tp, mut fp) = (0usize, 0usize);
    for (i, group) in groups.iter().enumerate() {
        tp += group.pos;
        fp += group.neg;
        let correct = tp + (n_neg - fp);
        if correct > best_correct {
            best_correct = correct;
            best = Threshold {
                threshold: groups
                    .get(i + 1)
                    .map_or(group.score, |next| midpoint(group.score, next.score)),
                accuracy: correct as f64 / n,
                tpr: tp as f64 / n_pos as f64,
                fpr: fp as f64 / n_neg as f64,
            };
        }
    }
    Ok(Some(best))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    /// scikit-learn's documented `roc_curve` example (classes 1/2 as bools).
    fn sklearn_example() -> (Vec<bool>, Vec<f64>) {
        (vec![false, false, true, true], vec![0.1, 0.4, 0.35, 0.8])
    }

    #[test]
    fn best_threshold_by_hand() {
        // Scores desc 0.8P 0.4N 0.35P 0.1N. Correct counts per cut:
        // all negative (thr 1.8): 2; >= 0.8 (thr (0.8+0.4)/2 = 0.6): 3;
        // >= 0.4: 2; >= 0.35 (thr 0.225): 3; all positive (thr 0.1): 2.
        // Highest of the best wins: 0.6, accuracy 0.75, tpr 0.5, fpr 0.
        let (labels, scores) = sklearn_example();
        let t = best_threshold(&labels, &scores).unwrap().unwrap();
        assert!(close(t.threshold, 0.6), "{t:?}");
        assert_eq!((t.accuracy, t.tpr, t.fpr), (0.75, 0.5, 0.0));
        // Perfectly separable: the threshold lies midway in the gap.
        let t = best_threshold(&[false, true, false, true], &[1.0, 4.0, 2.0, 3.0]).unwrap();
        assert_eq!(t.map(|t| (t.threshold, t.accuracy)), Some((2.5, 1.0)));
        assert_eq!(best_threshold(&[true], &[1.0]), Ok(None));
    }

    fn labelled(max_len: usize) -> impl Strategy<Value = (Vec<bool>, Vec<f64>)> {
        prop::collection::vec((any::<bool>(), -8i32..8), 0..max_len)
            .prop_map(|v| v.into_iter().map(|(l, s)| (l, f64::from(s))).unzip())
    }

    proptest! {
        #[test]
        fn best_threshold_is_optimal_and_consistent((labels, scores) in labelled(60)) {
            if let Some(t) = best_threshold(&labels, &scores).unwrap() {
                let accuracy_at = |thr: f64| {
                    let correct = labels.iter().zip(&scores)
                        .filter(|&(&l, &s)| (s >= thr) == l).count();
                    correct as f64 / labels.len() as f64
                };
                prop_assert!(close(accuracy_at(t.threshold), t.accuracy));
                for &s in &scores {
                    prop_assert!(accuracy_at(s) <= t.accuracy + 1e-12);
                }
            }
        }
    }
}
