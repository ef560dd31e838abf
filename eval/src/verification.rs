//! Face verification metrics over scored pairs: AUC, EER, TAR at fixed FARs, and the LFW
//! protocol's k-fold accuracy (the threshold of each fold is chosen on the other folds).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{ensure_no_nan, ensure_same_len, Result};
use crate::roc::roc_curve;
use crate::threshold::best_threshold;

/// The false accept rates reported by default.
pub const DEFAULT_FARS: [f64; 3] = [1e-1, 1e-2, 1e-3];

/// One fold of the k-fold accuracy.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FoldAccuracy {
    /// The fold (0-based).
    pub fold: usize,
    /// Pairs in the fold.
    pub pairs: usize,
    /// The accuracy-maximising threshold on the other folds.
    pub threshold: f64,
    /// Accuracy on this fold at that threshold.
    pub accuracy: f64,
}

/// Everything [`verification_report`] measures. Undefined values are `None`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerificationReport {
    /// Number of pairs.
    pub pairs: usize,
    /// Same-identity pairs.
    pub same: usize,
    /// Different-identity pairs.
    pub different: usize,
    /// Mann-Whitney AUC.
    pub auc: Option<f64>,
    /// Equal error rate.
    pub eer: Option<f64>,
    /// Mean k-fold accuracy (threshold chosen on the other folds); `None` with fewer than two
    /// usable folds.
    pub accuracy: Option<f64>,
    /// Population standard deviation of the fold accuracies (as the LFW protocol's `np.std`).
    pub accuracy_std: Option<f64>,
    /// TAR at each FAR, keyed `"1e-1"`, `"1e-2"`, …; `None` where the negatives are too few.
    pub tar_at_far: BTreeMap<String, Option<f64>>,
    /// The per-fold results.
    pub folds: Vec<FoldAccuracy>,
}

/// Cosine similarity of two vectors (0 when either is zero).
pub fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let (mut dot, mut na, mut nb) = (0.0f64, 0.0f64, 0.0f64);
    for (&x, &y) in a.iter().zip(b) {
        let (x, y) = (f64::from(x), f64::from(y));
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na.sqrt() * nb.sqrt())
    }
}

/// Verification metrics of pairs with `labels` (same identity), `scores` (higher = more alike)
/// and `folds` (any fold ids; the LFW protocol has 10).
///
/// A fold whose complement lacks one class (so no threshold can be chosen) is left out of the
/// accuracy.
///
/// # Errors
/// [`EvalError`](crate::EvalError) on a length mismatch or a NaN score.
pub fn verification_report(
    labels: &[bool],
    scores: &[f64],
    folds: &[usize],
    fars: &[f64],
) -> Result<VerificationReport> {
    ensure_same_len("labels", labels.len(), "scores", scores.len())?;
    ensure_same_len("labels", labels.len(), "folds", folds.len())?;
    ensure_no_nan("scores", scores)?;
    let curve = roc_curve(labels, scores)?;
    let mut fold_ids: Vec<usize> = folds.to_vec();
    fold_ids.sort_unstable();
    fold_ids.dedup();
    let mut fold_results = Vec::new();
    if fold_ids.len() >= 2 {
        for &fold in &fold_ids {
            let (mut train_labels, mut train_scores) = (Vec::new(), Vec::new());
            let mut test = Vec::new();
            for ((&label, &score), &f) in labels.iter().zip(scores).zip(folds) {
                if f == fold {
                    test.push((label, score));
                } else {
                    train_labels.push(label);
                    train_scores.push(score);
                }
            }
            if let Some(best) = best_threshold(&train_labels, &train_scores)? {
                let correct = test
                    .iter()
                    .filter(|(label, score)| (*score >= best.threshold) == *label)
                    .count();
                fold_results.push(FoldAccuracy {
                    fold,
                    pairs: test.len(),
                    threshold: best.threshold,
                    accuracy: correct as f64 / test.len().max(1) as f64,
                });
            }
        }
    }
    let (accuracy, accuracy_std) = if fold_results.len() >= 2 {
        let n = fold_results.len() as f64;
        let mean = fold_results.iter().map(|f| f.accuracy).sum::<f64>() / n;
        let var = fold_results
            .iter()
            .map(|f| (f.accuracy - mean).powi(2))
            .sum::<f64>()
            / n;
        (Some(mean), Some(var.sqrt()))
    } else {
        (None, None)
    };
    let same = labels.iter().filter(|&&l| l).count();
    Ok(VerificationReport {
        pairs: labels.len(),
        same,
        different: labels.len() - same,
        auc: curve.as_ref().map(|c| c.auc()),
        eer: curve.as_ref().map(|c| c.eer()),
        accuracy,
        accuracy_std,
        tar_at_far: fars
            .iter()
            .map(|&far| {
                (
                    format!("{far:e}"),
                    curve.as_ref().and_then(|c| c.tar_at_far(far)),
                )
            })
            .collect(),
        folds: fold_results,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separable_scores_give_perfect_metrics() {
        // 10 folds of one same pair (score 0.9) and one different pair (score 0.1).
        let labels: Vec<bool> = (0..20).map(|i| i % 2 == 0).collect();
        let scores: Vec<f64> = labels.iter().map(|&l| if l { 0.9 } else { 0.1 }).collect();
        let folds: Vec<usize> = (0..20).map(|i| i / 2).collect();
        let report = verification_report(&labels, &scores, &folds, &DEFAULT_FARS).unwrap();
        assert_eq!((report.pairs, report.same, report.different), (20, 10, 10));
        assert_eq!(report.auc, Some(1.0));
        assert_eq!(report.eer, Some(0.0));
        assert_eq!(report.accuracy, Some(1.0));
        assert_eq!(report.accuracy_std, Some(0.0));
        assert_eq!(report.tar_at_far["1e-1"], Some(1.0));
        // 10 negatives cannot resolve a FAR of 1e-2.
        assert_eq!(report.tar_at_far["1e-2"], None);
        assert_eq!(report.folds.len(), 10);
    }

    #[test]
    fn the_threshold_comes_from_the_other_folds() {
        // Fold 0 alone would choose a threshold between 0.6 and 0.5; folds 1 and 2 put it
        // between 0.4 and 0.3, so fold 0's different pair at 0.5 is misclassified.
        let labels = [
            true, false, true, false, true, false, true, false, true, false,
        ];
        let scores = [0.6, 0.5, 0.4, 0.3, 0.4, 0.3, 0.4, 0.3, 0.4, 0.3];
        let folds = [0, 0, 1, 1, 1, 1, 2, 2, 2, 2];
        let report = verification_report(&labels, &scores, &folds, &[]).unwrap();
        assert_eq!(report.folds[0].accuracy, 0.5);
        assert!((report.folds[0].threshold - 0.35).abs() < 1e-12);
        assert_eq!(report.folds[1].accuracy, 1.0);
        let mean = (0.5 + 1.0 + 1.0) / 3.0;
        assert!((report.accuracy.unwrap() - mean).abs() < 1e-12);
        let std = ((0.5f64 - mean).powi(2) + 2.0 * (1.0 - mean).powi(2)) / 3.0;
        assert!((report.accuracy_std.unwrap() - std.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn undefined_metrics_are_none_and_bad_input_is_an_error() {
        let report =
            verification_report(&[true, true], &[0.1, 0.2], &[0, 1], &DEFAULT_FARS).unwrap();
        assert_eq!(
            (report.auc, report.eer, report.accuracy),
            (None, None, None)
        );
        assert!(verification_report(&[true], &[f64::NAN], &[0], &[]).is_err());
        assert!(verification_report(&[true], &[0.1], &[0, 1], &[]).is_err());
        assert_eq!(cosine(&[1.0, 0.0], &[0.0, 0.0]), 0.0);
        assert!((cosine(&[1.0, 1.0], &[2.0, 2.0]) - 1.0).abs() < 1e-12);
    }
}
