//! [`RocSummary`]: everything a ROC report shows, computed once from labels
//! and scores, serialisable as JSON.

use serde::{Deserialize, Serialize};

use crate::bootstrap::{bootstrap_auc_ci, ConfidenceInterval};
use crate::error::{ensure_no_nan, ensure_same_len, EvalError, Result};
use crate::histogram::ScoreHistograms;
use crate::roc::{auc, roc_curve, RocCurve, RocPoint};
use crate::threshold::best_threshold;

/// How the suggested decision threshold is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThresholdCriterion {
    /// Maximise Youden's J = TPR − FPR (balanced accuracy); insensitive to
    /// class imbalance, so it suits pooled retrieval scores with many more
    /// negatives than positives.
    #[default]
    Youden,
    /// Maximise plain accuracy (see [`best_threshold`](crate::best_threshold)).
    Accuracy,
}

/// Options of [`RocSummary::compute`]. Every field has a default, so `{}` is a
/// valid JSON value for it; unknown keys are rejected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RocOptions {
    /// Bootstrap resamples for the AUC's 95 % interval; 0 leaves it out.
    pub bootstrap_resamples: usize,
    /// Seed of the bootstrap: the same seed gives the same interval.
    pub seed: u64,
    /// False accept rates at which to report the true accept rate, each in `[0, 1]`.
    pub fars: Vec<f64>,
    /// Most points kept in the (downsampled) ROC curve, at least 2.
    pub max_roc_points: usize,
    /// Number of shared histogram bins, 1 to [`MAX_HISTOGRAM_BINS`].
    pub histogram_bins: usize,
    /// How the suggested threshold is chosen.
    pub threshold_criterion: ThresholdCriterion,
}

/// Upper bound on [`RocOptions::bootstrap_resamples`] (keeps a request bounded).
pub const MAX_BOOTSTRAP_RESAMPLES: usize = 100_000;
/// Upper bound on [`RocOptions::histogram_bins`].
pub const MAX_HISTOGRAM_BINS: usize = 10_000;

impl Default for RocOptions {
    fn default() -> Self {
        Self {
            bootstrap_resamples: 1000,
            seed: 0,
            fars: vec![1e-3, 1e-2, 1e-1],
            max_roc_points: 200,
            histogram_bins: 30,
            threshold_criterion: ThresholdCriterion::Youden,
        }
    }
}

impl RocOptions {
    /// Checks every option against its documented range.
    ///
    /// # Errors
    /// [`EvalError::InvalidOption`] naming the first bad option.
    pub fn validate(&self) -> Result<()> {
        let invalid =
            |name: &'static str, reason: String| EvalError::InvalidOption { name, reason };
        if self.bootstrap_resamples > MAX_BOOTSTRAP_RESAMPLES {
            return Err(invalid(
                "bootstrap_resamples",
                format!(
                    "{} is above {MAX_BOOTSTRAP_RESAMPLES}",
                    self.bootstrap_resamples
                ),
            ));
        }
        if let Some(far) = self.fars.iter().find(|f| !(0.0..=1.0).contains(*f)) {
            return Err(invalid("fars", format!("{far} is not in [0, 1]")));
        }
        if self.max_roc_points < 2 {
            return Err(invalid("max_roc_points", "must be at least 2".into()));
        }
        if !(1..=MAX_HISTOGRAM_BINS).contains(&self.histogram_bins) {
            return Err(invalid(
                "histogram_bins",
                format!("{} is not in 1..={MAX_HISTOGRAM_BINS}", self.histogram_bins),
            ));
        }
        Ok(())
    }
}

/// The true accept rate at one false accept rate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TarAtFar {
    /// False accept rate asked for.
    pub far: f64,
    /// Highest true accept rate with a false accept rate `<= far`.
    pub tar: f64,
}

/// The suggested decision threshold: predict positive when `score >= threshold`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BestThreshold {
    /// What the threshold maximises.
    pub criterion: ThresholdCriterion,
    /// The threshold, midway between the two distinct scores it separates.
    pub threshold: f64,
    /// True positive rate at the threshold.
    pub tpr: f64,
    /// False positive rate at the threshold.
    pub fpr: f64,
    /// Accuracy at the threshold.
    pub accuracy: f64,
}

/// A complete ROC summary of labelled scores (higher = more likely positive).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RocSummary {
    /// Number of positive samples.
    pub n_positives: usize,
    /// Number of negative samples.
    pub n_negatives: usize,
    /// Exact Mann-Whitney AUC (ties count one half).
    pub auc: f64,
    /// Percentile bootstrap 95 % interval of the AUC (stratified, seeded);
    /// absent when `bootstrap_resamples` is 0.
    pub auc_ci95: Option<ConfidenceInterval>,
    /// Equal error rate (FPR = 1 − TPR), interpolated along the full curve.
    pub eer: f64,
    /// The highest threshold at which FPR ≥ 1 − TPR: the operating point at
    /// (or just past) the equal error rate.
    pub eer_threshold: f64,
    /// TAR at each requested FAR that the number of negatives can resolve
    /// (at least one false accept allowed); the others are left out.
    pub tar_at_far: Vec<TarAtFar>,
    /// The suggested decision threshold.
    pub best_threshold: BestThreshold,
    /// The ROC curve downsampled to at most `max_roc_points` points, from
    /// `(0, 0)` to `(1, 1)`.
    pub roc: Vec<RocPoint>,
    /// Positive and negative score histograms over shared bins.
    pub histograms: ScoreHistograms,
}

impl RocSummary {
    /// Summarises `scores` labelled by `labels` (`true` = positive).
    ///
    /// # Errors
    /// [`EvalError::InvalidOption`] for a bad option, [`EvalError::LengthMismatch`],
    /// [`EvalError::Empty`] for no scores, [`EvalError::NanValue`] or
    /// [`EvalError::Infinite`] for a non-finite score, and
    /// [`EvalError::SingleClass`] when either class has no sample.
    pub fn compute(labels: &[bool], scores: &[f64], options: &RocOptions) -> Result<Self> {
        options.validate()?;
        ensure_same_len("labels", labels.len(), "scores", scores.len())?;
        if scores.is_empty() {
            return Err(EvalError::Empty { name: "scores" });
        }
        ensure_no_nan("scores", scores)?;
        if let Some(index) = scores.iter().position(|s| s.is_infinite()) {
            return Err(EvalError::Infinite {
                name: "scores",
                index,
            });
        }
        let n_positives = labels.iter().filter(|&&l| l).count();
        let n_negatives = labels.len() - n_positives;
        let single_class = EvalError::SingleClass {
            n_positives,
            n_negatives,
        };
        let curve = roc_curve(labels, scores)?.ok_or(single_class.clone())?;
        let auc = auc(labels, scores)?.ok_or(single_class.clone())?;
        let best_threshold = match options.threshold_criterion {
            ThresholdCriterion::Youden => youden_threshold(&curve),
            ThresholdCriterion::Accuracy => {
                let best = best_threshold(labels, scores)?.ok_or(single_class)?;
                BestThreshold {
                    criterion: ThresholdCriterion::Accuracy,
                    threshold: best.threshold,
                    tpr: best.tpr,
                    fpr: best.fpr,
                    accuracy: best.accuracy,
                }
            }
        };
        let tar_at_far = options
            .fars
            .iter()
            .filter_map(|&far| curve.tar_at_far(far).map(|tar| TarAtFar { far, tar }))
            .collect();
        Ok(Self {
            n_positives,
            n_negatives,
            auc,
            auc_ci95: bootstrap_auc_ci(
                labels,
                scores,
                options.bootstrap_resamples,
                0.95,
                options.seed,
            ),
            eer: curve.eer(),
            eer_threshold: eer_threshold(&curve),
            tar_at_far,
            best_threshold,
            roc: curve.downsample(options.max_roc_points).points().to_vec(),
            histograms: ScoreHistograms::compute(labels, scores, options.histogram_bins),
        })
    }

    /// [`compute`](Self::compute) from separate positive and negative scores,
    /// e.g. the pooled retrieval scores of [`pooled_auc_inputs`](crate::pooled_auc_inputs).
    ///
    /// # Errors
    /// As [`compute`](Self::compute).
    pub fn from_pos_neg(
        positives: &[f64],
        negatives: &[f64],
        options: &RocOptions,
    ) -> Result<Self> {
        let mut labels = vec![true; positives.len()];
        labels.resize(positives.len() + negatives.len(), false);
        Self::compute(&labels, &[positives, negatives].concat(), options)
    }

    /// Total number of scored samples (`n_positives + n_negatives`).
    pub fn n_samples(&self) -> usize {
        self.n_positives + self.n_negatives
    }
}

/// The accuracy at an operating point of `curve`.
fn accuracy_at(curve: &RocCurve, tpr: f64, fpr: f64) -> f64 {
    let (p, n) = (curve.n_pos() as f64, curve.n_neg() as f64);
    (tpr * p + (1.0 - fpr) * n) / (p + n)
}

/// The point maximising TPR − FPR (the first, i.e. highest threshold, among
/// ties); its threshold moves midway down to the next distinct score, as
/// [`best_threshold`] places its thresholds.
fn youden_threshold(curve: &RocCurve) -> BestThreshold {
    let points = curve.points();
    let mut best = 0usize;
    for (i, p) in points.iter().enumerate() {
        if let Some(b) = points.get(best) {
            if p.tpr - p.fpr > b.tpr - b.fpr {
                best = i;
            }
        }
    }
    let point = points.get(best).copied().unwrap_or(RocPoint {
        threshold: 0.0,
        fpr: 0.0,
        tpr: 0.0,
    });
    let threshold = match points.get(best + 1) {
        // Point 0 sits above every score: keep it so nothing is predicted positive.
        Some(next) if best > 0 => {
            let mid = point.threshold / 2.0 + next.threshold / 2.0;
            if mid > next.threshold && mid <= point.threshold {
                mid
            } else {
                point.threshold
            }
        }
        _ => point.threshold,
    };
    BestThreshold {
        criterion: ThresholdCriterion::Youden,
        threshold,
        tpr: point.tpr,
        fpr: point.fpr,
        accuracy: accuracy_at(curve, point.tpr, point.fpr),
    }
}

/// Threshold of the first point (highest threshold) where FPR ≥ 1 − TPR.
fn eer_threshold(curve: &RocCurve) -> f64 {
    let points = curve.points();
    points
        .iter()
        .find(|p| p.fpr >= 1.0 - p.tpr)
        .or(points.last())
        .map_or(f64::NAN, |p| p.threshold)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn golden_summary_of_the_losses_md_vector() {
        // losses.md §1.7: positives [0.9, 0.7, 0.6], negatives [0.8, 0.5, 0.6, 0.2]:
        // U = 9.5, AUC = 0.791667.
        // Descending groups: 0.9 P, 0.8 N, 0.7 P, 0.6 P+N, 0.5 N, 0.2 N (3 pos, 4 neg):
        // (0,0) (0,1/3) (1/4,1/3) (1/4,2/3) (1/2,1) (3/4,1) (1,1).
        // FPR - FNR: -1, -2/3, -5/12, -1/12, +1/2: crossing on (1/4,2/3)-(1/2,1) at
        // t = (1/12)/(7/12) = 1/7 -> EER = 1/4 + 1/28 = 2/7, threshold of (1/2, 1) = 0.6.
        // Youden J: 0, 1/3, 1/12, 5/12, 1/2, 1/4, 0 -> best at 0.6 (TPR 1, FPR 1/2),
        // threshold midway to 0.5 = 0.55, accuracy (3 + 2) / 7.
        let options = RocOptions::default();
        let s =
            RocSummary::from_pos_neg(&[0.9, 0.7, 0.6], &[0.8, 0.5, 0.6, 0.2], &options).unwrap();
        assert!(close(s.auc, 9.5 / 12.0));
        assert_eq!((s.n_positives, s.n_negatives, s.n_samples()), (3, 4, 7));
        assert!(close(s.eer, 2.0 / 7.0), "{}", s.eer);
        assert_eq!(s.eer_threshold, 0.6);
        let t = s.best_threshold;
        assert_eq!(t.criterion, ThresholdCriterion::Youden);
        assert!(close(t.threshold, 0.55), "{t:?}");
        assert_eq!((t.tpr, t.fpr), (1.0, 0.5));
        assert!(close(t.accuracy, 5.0 / 7.0));
        // 4 negatives resolve no default FAR (0.1 allows 0.4 false accepts).
        assert!(s.tar_at_far.is_empty());
        // (3/4, 1) lies on the segment (1/2, 1)-(1, 1) and is dropped losslessly.
        assert_eq!(s.roc.len(), 6);
        assert_eq!(s.histograms.positives.iter().sum::<u64>(), 3);
        assert_eq!(s.histograms.negatives.iter().sum::<u64>(), 4);
        let ci = s.auc_ci95.unwrap();
        assert!(ci.lower <= s.auc && s.auc <= ci.upper, "{ci:?}");
        assert_eq!((ci.resamples, ci.level), (1000, 0.95));
    }

    #[test]
    fn sklearn_example_with_accuracy_and_tar() {
        // y = [0, 0, 1, 1], scores [0.1, 0.4, 0.35, 0.8]: AUC 0.75, EER 0.5
        // (at (0.5, 0.5), threshold 0.4), best accuracy threshold 0.6.
        let options = RocOptions {
            threshold_criterion: ThresholdCriterion::Accuracy,
            fars: vec![0.0, 0.5, 1.0],
            bootstrap_resamples: 0,
            ..RocOptions::default()
        };
        let labels = [false, false, true, true];
        let s = RocSummary::compute(&labels, &[0.1, 0.4, 0.35, 0.8], &options).unwrap();
        assert_eq!((s.auc, s.eer, s.eer_threshold), (0.75, 0.5, 0.4));
        assert_eq!(s.auc_ci95, None);
        assert!(close(s.best_threshold.threshold, 0.6));
        assert_eq!(s.best_threshold.criterion, ThresholdCriterion::Accuracy);
        assert_eq!(
            s.tar_at_far,
            vec![
                TarAtFar { far: 0.5, tar: 1.0 },
                TarAtFar { far: 1.0, tar: 1.0 }
            ]
        );
    }

    #[test]
    fn bootstrap_is_deterministic_for_a_seed() {
        let labels: Vec<bool> = (0..200).map(|i| i % 2 == 0).collect();
        let scores: Vec<f64> = (0..200)
            .map(|i| f64::from(i % 13) + if i % 2 == 0 { 3.0 } else { 0.0 })
            .collect();
        let options = RocOptions {
            seed: 42,
            ..RocOptions::default()
        };
        let a = RocSummary::compute(&labels, &scores, &options).unwrap();
        let b = RocSummary::compute(&labels, &scores, &options).unwrap();
        assert_eq!(a, b);
        let ci = a.auc_ci95.unwrap();
        assert!(ci.lower < a.auc && a.auc < ci.upper, "{ci:?} {}", a.auc);
        assert_eq!(ci.seed, 42);
        let other = RocSummary::compute(&labels, &scores, &RocOptions::default()).unwrap();
        assert_ne!(other.auc_ci95, a.auc_ci95);
    }

    #[test]
    fn downsampled_roc_and_resolvable_fars() {
        let n = 5000;
        let labels: Vec<bool> = (0..n).map(|i| i % 5 == 0).collect();
        let scores: Vec<f64> = (0..n)
            .map(|i| f64::from((i * 7919) % 1000) / 1000.0 + if i % 5 == 0 { 0.3 } else { 0.0 })
            .collect();
        let options = RocOptions {
            max_roc_points: 50,
            fars: vec![1e-4, 1e-3, 1e-2],
            bootstrap_resamples: 50,
            ..RocOptions::default()
        };
        let s = RocSummary::compute(&labels, &scores, &options).unwrap();
        assert!(s.roc.len() <= 50);
        // 4000 negatives resolve 1e-3 (4 false accepts) but not 1e-4 (0.4).
        let fars: Vec<f64> = s.tar_at_far.iter().map(|t| t.far).collect();
        assert_eq!(fars, vec![1e-3, 1e-2]);
        assert_eq!(s.histograms.bins(), 30);
    }

    #[test]
    fn bad_input_is_a_typed_error() {
        let o = RocOptions::default();
        assert_eq!(
            RocSummary::compute(&[], &[], &o),
            Err(EvalError::Empty { name: "scores" })
        );
        assert_eq!(
            RocSummary::compute(&[true, true], &[0.1, 0.2], &o),
            Err(EvalError::SingleClass {
                n_positives: 2,
                n_negatives: 0
            })
        );
        assert_eq!(
            RocSummary::compute(&[true, false], &[0.1, f64::NAN], &o),
            Err(EvalError::NanValue {
                name: "scores",
                index: 1
            })
        );
        assert_eq!(
            RocSummary::compute(&[true, false], &[f64::INFINITY, 0.0], &o),
            Err(EvalError::Infinite {
                name: "scores",
                index: 0
            })
        );
        assert!(matches!(
            RocSummary::compute(&[true], &[0.1, 0.2], &o),
            Err(EvalError::LengthMismatch { .. })
        ));
        for bad in [
            RocOptions {
                fars: vec![1.5],
                ..o.clone()
            },
            RocOptions {
                max_roc_points: 1,
                ..o.clone()
            },
            RocOptions {
                histogram_bins: 0,
                ..o.clone()
            },
            RocOptions {
                bootstrap_resamples: MAX_BOOTSTRAP_RESAMPLES + 1,
                ..o.clone()
            },
        ] {
            assert!(matches!(
                RocSummary::compute(&[true, false], &[0.1, 0.2], &bad),
                Err(EvalError::InvalidOption { .. })
            ));
        }
    }

    fn labelled(max_len: usize) -> impl Strategy<Value = (Vec<bool>, Vec<f64>)> {
        prop::collection::vec((any::<bool>(), -8i32..8), 2..max_len)
            .prop_map(|v| v.into_iter().map(|(l, s)| (l, f64::from(s))).unzip())
    }

    proptest! {
        #[test]
        fn summaries_are_bounded_and_consistent((labels, scores) in labelled(60), bins in 1usize..8) {
            let options = RocOptions {
                bootstrap_resamples: 20,
                histogram_bins: bins,
                max_roc_points: 5,
                ..RocOptions::default()
            };
            match RocSummary::compute(&labels, &scores, &options) {
                Ok(s) => {
                    prop_assert_eq!(Some(s.auc), auc(&labels, &scores).unwrap());
                    let ci = s.auc_ci95.unwrap();
                    prop_assert!(0.0 <= ci.lower && ci.lower <= ci.upper && ci.upper <= 1.0);
                    prop_assert!((0.0..=1.0).contains(&s.eer));
                    prop_assert!(s.roc.len() <= 5);
                    let h = &s.histograms;
                    prop_assert_eq!(h.edges.len(), bins + 1);
                    prop_assert_eq!(h.positives.iter().sum::<u64>() as usize, s.n_positives);
                    prop_assert_eq!(h.negatives.iter().sum::<u64>() as usize, s.n_negatives);
                }
                Err(e) => prop_assert!(matches!(e, EvalError::SingleClass { .. }), "{e}"),
            }
        }
    }

    #[test]
    fn options_and_summary_round_trip_as_json() {
        let o: RocOptions = serde_json::from_str("{}").unwrap();
        assert_eq!(o, RocOptions::default());
        assert!(serde_json::from_str::<RocOptions>(r#"{"seeds": 1}"#).is_err());
        let o: RocOptions = serde_json::from_str(r#"{"threshold_criterion": "accuracy"}"#).unwrap();
        assert_eq!(o.threshold_criterion, ThresholdCriterion::Accuracy);
        let s = RocSummary::compute(&[true, false, true], &[0.9, 0.3, 0.5], &o).unwrap();
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<RocSummary>(&json).unwrap(), s);
    }
}
