//! ROC analysis for verification: Mann-Whitney AUC, ROC curves, EER and
//! TAR@FAR.
//!
//! Convention everywhere: a higher score means "more likely positive", and a
//! pair is predicted positive when `score >= threshold`.

use serde::{Deserialize, Serialize};

use crate::error::{ensure_no_nan, ensure_same_len, Result};
use crate::stats::average_ranks;

/// Exact Mann-Whitney AUC: the probability that a random positive scores
/// higher than a random negative, ties counting one half.
///
/// Computed from average ranks (one sort, `O(n log n)`). Errors on a length
/// mismatch or a NaN score; `Ok(None)` when either class is empty.
pub fn auc(labels: &[bool], scores: &[f64]) -> Result<Option<f64>> {
    ensure_same_len("labels", labels.len(), "scores", scores.len())?;
    ensure_no_nan("scores", scores)?;
    let n_pos = labels.iter().filter(|&&is_pos| is_pos).count();
    let n_neg = labels.len() - n_pos;
    if n_pos == 0 || n_neg == 0 {
        return Ok(None);
    }
    let ranks = average_ranks(scores);
    let rank_sum: f64 = ranks
        .iter()
        .zip(labels)
        .filter_map(|(&rank, &is_pos)| is_pos.then_some(rank))
        .sum();
    let (p, q) = (n_pos as f64, n_neg as f64);
    let u = rank_sum - p * (p + 1.0) / 2.0;
    Ok(Some(u / (p * q)))
}

/// [`auc`] from two separate score lists (positives and negatives).
///
/// Errors on a NaN in either list; `Ok(None)` when either list is empty.
pub fn auc_pos_neg(positives: &[f64], negatives: &[f64]) -> Result<Option<f64>> {
    ensure_no_nan("positives", positives)?;
    ensure_no_nan("negatives", negatives)?;
    let mut labels = vec![true; positives.len()];
    labels.resize(positives.len() + negatives.len(), false);
    let scores = [positives, negatives].concat();
    auc(&labels, &scores)
}

/// One operating point of a ROC curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RocPoint {
    /// Decision threshold: scores `>= threshold` are predicted positive.
    pub threshold: f64,
    /// False positive rate (false accept rate) at this threshold.
    pub fpr: f64,
    /// True positive rate (true accept rate) at this threshold.
    pub tpr: f64,
}

/// A ROC curve like scikit-learn's `roc_curve(..., drop_intermediate=False)`.
///
/// Points run from `(fpr, tpr) = (0, 0)` to `(1, 1)`, one per distinct score
/// in decreasing order of threshold, preceded by the `(0, 0)` point. That
/// first point's threshold is `highest score + 1.0` (what scikit-learn did
/// before 1.3) rather than `+inf`, so the curve survives JSON, which has no
/// infinity (unless the highest score is itself infinite). The fields are
/// private so these invariants always hold; read
/// them through the accessors.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RocCurve {
    points: Vec<RocPoint>,
    n_pos: usize,
    n_neg: usize,
}

/// One distinct score and how many positives and negatives carry it.
pub(crate) struct Group {
    /// The score value.
    pub(crate) score: f64,
    /// Positives carrying it.
    pub(crate) pos: usize,
    /// Negatives carrying it.
    pub(crate) neg: usize,
}

/// Distinct scores in decreasing order with their class counts (one sort).
pub(crate) fn groups_descending(labels: &[bool], scores: &[f64]) -> Vec<Group> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_unstable_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let mut groups: Vec<Group> = Vec::new();
    for i in order {
        let score = scores[i];
        if groups.last().is_none_or(|last| last.score != score) {
            groups.push(Group {
                score,
                pos: 0,
                neg: 0,
            });
        }
        if let Some(group) = groups.last_mut() {
            if labels[i] {
                group.pos += 1;
            } else {
                group.neg += 1;
            }
        }
    }
    groups
}

/// Class totals of `groups`.
pub(crate) fn class_counts(groups: &[Group]) -> (usize, usize) {
    groups
        .iter()
        .fold((0, 0), |(p, n), g| (p + g.pos, n + g.neg))
}

/// Builds the full ROC curve (see [`RocCurve`] for the conventions).
///
/// Errors on a length mismatch or a NaN score; `Ok(None)` when either class
/// is empty, as the rates are then undefined.
pub fn roc_curve(labels: &[bool], scores: &[f64]) -> Result<Option<RocCurve>> {
    ensure_same_len("labels", labels.len(), "scores", scores.len())?;
    ensure_no_nan("scores", scores)?;
    let groups = groups_descending(labels, scores);
    let (n_pos, n_neg) = class_counts(&groups);
    if n_pos == 0 || n_neg == 0 {
        return Ok(None);
    }
    let top = groups.first().map_or(0.0, |g| g.score);
    let mut points = Vec::with_capacity(groups.len() + 1);
    points.push(RocPoint {
        threshold: top + 1.0,
        fpr: 0.0,
        tpr: 0.0,
    });
    let (mut tp, mut fp) = (0usize, 0usize);
    for group in &groups {
        tp += group.pos;
        fp += group.neg;
        points.push(RocPoint {
            threshold: group.score,
            fpr: fp as f64 / n_neg as f64,
            tpr: tp as f64 / n_pos as f64,
        });
    }
    Ok(Some(RocCurve {
        points,
        n_pos,
        n_neg,
    }))
}

impl RocCurve {
    /// The operating points, from `(0, 0)` to `(1, 1)`.
    pub fn points(&self) -> &[RocPoint] {
        &self.points
    }

    /// Number of positive samples the curve was built from.
    pub fn n_pos(&self) -> usize {
        self.n_pos
    }

    /// Number of negative samples the curve was built from.
    pub fn n_neg(&self) -> usize {
        self.n_neg
    }

    /// Area under the curve by the trapezoid rule. On a curve straight from
    /// [`roc_curve`] this equals the Mann-Whitney [`auc`] (up to rounding);
    /// on a [`downsampled`](Self::downsample) one it is an approximation.
    pub fn auc(&self) -> f64 {
        self.points
            .windows(2)
            .map(|w| (w[1].fpr - w[0].fpr) * (w[0].tpr + w[1].tpr) / 2.0)
            .sum()
    }

    /// Equal error rate: the rate at which FPR equals the false negative rate
    /// `1 - TPR`, linearly interpolated along the ROC segment where
    /// `FPR - (1 - TPR)` changes sign. Always defined for a built curve.
    pub fn eer(&self) -> f64 {
        let gap = |p: &RocPoint| p.fpr - (1.0 - p.tpr);
        for w in self.points.windows(2) {
            let (a, b) = (&w[0], &w[1]);
            let (ga, gb) = (gap(a), gap(b));
            if ga >= 0.0 {
                return a.fpr;
            }
            if gb >= 0.0 {
                let t = (-ga / (gb - ga)).clamp(0.0, 1.0);
                return a.fpr + t * (b.fpr - a.fpr);
            }
        }
        // Unreachable for a curve ending at (1, 1), whose gap is +1.
        f64::NAN
    }

    /// True accept rate at a false accept rate: the highest TPR among the
    /// points with `FPR <= far`.
    ///
    /// `None` when `far * n_neg < 1`, i.e. when the negatives are too few to
    /// resolve that rate (not even one false accept is allowed), and for a
    /// negative or NaN `far`. Monotone non-decreasing in `far`.
    pub fn tar_at_far(&self, far: f64) -> Option<f64> {
        let n_neg = self.n_neg as f64;
        // Compare in false-accept counts so that e.g. far = 1e-3 with 1000
        // negatives allows exactly one false accept despite rounding.
        let max_fp = (far * n_neg + 1e-9).floor();
        if max_fp.is_nan() || max_fp < 1.0 {
            return None;
        }
        let end = self
            .points
            .partition_point(|p| (p.fpr * n_neg).round() <= max_fp);
        end.checked_sub(1)
            .and_then(|i| self.points.get(i))
            .map(|p| p.tpr)
    }

    /// A lighter copy for plotting with at most `max(max_points, 2)` points.
    ///
    /// First drops points collinear with their neighbours (lossless, like
    /// scikit-learn's `drop_intermediate`), then, if still too many, keeps
    /// the points closest to evenly spaced positions along the curve's length
    /// (`fpr + tpr`, which is the L1 arc length of a monotone curve). The
    /// `(0, 0)` and `(1, 1)` endpoints are always kept.
    pub fn downsample(&self, max_points: usize) -> RocCurve {
        let max_points = max_points.max(2);
        let mut points = drop_collinear(&self.points);
        if points.len() > max_points {
            points = sample_by_arc_length(&points, max_points);
        }
        RocCurve {
            points,
            n_pos: self.n_pos,
            n_neg: self.n_neg,
        }
    }
}

/// Keeps the endpoints and every point where the curve changes direction.
fn drop_collinear(points: &[RocPoint]) -> Vec<RocPoint> {
    let mut kept: Vec<RocPoint> = Vec::with_capacity(points.len());
    for (i, &p) in points.iter().enumerate() {
        let keep = match (kept.last(), points.get(i + 1)) {
            (Some(prev), Some(next)) => {
                let cross = (p.fpr - prev.fpr) * (next.tpr - p.tpr)
                    - (p.tpr - prev.tpr) * (next.fpr - p.fpr);
                cross.abs() > 1e-12
            }
            _ => true,
        };
        if keep {
            kept.push(p);
        }
    }
    kept
}

/// Picks at most `max_points` points evenly spread along `fpr + tpr`.
fn sample_by_arc_length(points: &[RocPoint], max_points: usize) -> Vec<RocPoint> {
    let last = points.len().saturating_sub(1);
    let total = points.last().map_or(0.0, |p| p.fpr + p.tpr);
    let steps = (max_points - 1) as f64;
    let mut picked: Vec<usize> = Vec::with_capacity(max_points);
    for j in 0..max_points {
        let index = if j + 1 == max_points {
            last
        } else {
            let target = total * j as f64 / steps;
            points.partition_point(|p| p.fpr + p.tpr < target).min(last)
        };
        if picked.last() != Some(&index) {
            picked.push(index);
        }
    }
    picked
        .into_iter()
        .filter_map(|i| points.get(i).copied())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::EvalError;
    use proptest::prelude::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    /// scikit-learn's documented example: y = [0, 0, 1, 1] (pos_label 2 in
    /// the docs), scores = [0.1, 0.4, 0.35, 0.8].
    fn sklearn_example() -> (Vec<bool>, Vec<f64>) {
        (vec![false, false, true, true], vec![0.1, 0.4, 0.35, 0.8])
    }

    /// Brute-force O(n^2) AUC: pairs won by the positive, ties count 1/2.
    fn brute_auc(labels: &[bool], scores: &[f64]) -> Option<f64> {
        let (mut wins, mut pairs) = (0.0, 0.0);
        for (&li, &si) in labels.iter().zip(scores) {
            for (&lj, &sj) in labels.iter().zip(scores) {
                if li && !lj {
                    pairs += 1.0;
                    wins += if si > sj {
                        1.0
                    } else if si == sj {
                        0.5
                    } else {
                        0.0
                    };
                }
            }
        }
        (pairs > 0.0).then(|| wins / pairs)
    }

    #[test]
    fn auc_pos_neg_golden_with_ties() {
        // Pooled sorted: 0.2(1) 0.5(2) 0.6 0.6(3.5 each) 0.7(5) 0.8(6) 0.9(7).
        // Positive rank sum = 7 + 5 + 3.5 = 15.5; U = 15.5 - 3*4/2 = 9.5;
        // AUC = 9.5 / (3*4) = 0.7916666...
        let a = auc_pos_neg(&[0.9, 0.7, 0.6], &[0.8, 0.5, 0.6, 0.2])
            .unwrap()
            .unwrap();
        assert!(close(a, 9.5 / 12.0), "{a}");
    }

    #[test]
    fn auc_sklearn_example_and_edge_cases() {
        // Positive 0.35 beats 0.1 only, 0.8 beats both: 3/4 (sklearn: 0.75).
        let (labels, scores) = sklearn_example();
        assert_eq!(auc(&labels, &scores).unwrap(), Some(0.75));
        assert_eq!(auc(&[true, true], &[0.1, 0.2]), Ok(None));
        assert_eq!(auc(&[], &[]), Ok(None));
        assert_eq!(auc_pos_neg(&[0.3], &[]), Ok(None));
        assert_eq!(auc(&[true, false], &[0.5, 0.5]), Ok(Some(0.5)));
        assert!(matches!(
            auc(&[true], &[0.1, 0.2]),
            Err(EvalError::LengthMismatch { .. })
        ));
        assert_eq!(
            auc(&[true, false], &[0.1, f64::NAN]),
            Err(EvalError::NanValue {
                name: "scores",
                index: 1
            })
        );
        assert!(auc_pos_neg(&[f64::NAN], &[0.0]).is_err());
    }

    #[test]
    fn roc_curve_matches_sklearn_by_hand() {
        // Descending distinct scores 0.8(P) 0.4(N) 0.35(P) 0.1(N), 2 pos/2 neg:
        // thr  1.8 (=0.8+1, sklearn: inf): tp 0 fp 0 -> (0, 0)
        // thr  0.8 : tp 1 fp 0 -> (0, 0.5)
        // thr  0.4 : tp 1 fp 1 -> (0.5, 0.5)
        // thr  0.35: tp 2 fp 1 -> (0.5, 1)
        // thr  0.1 : tp 2 fp 2 -> (1, 1)
        // sklearn: fpr [0,0,.5,.5,1], tpr [0,.5,.5,1,1], thr [inf,.8,.4,.35,.1].
        let (labels, scores) = sklearn_example();
        let curve = roc_curve(&labels, &scores).unwrap().unwrap();
        let got: Vec<(f64, f64, f64)> = curve
            .points()
            .iter()
            .map(|p| (p.threshold, p.fpr, p.tpr))
            .collect();
        assert_eq!(
            got,
            vec![
                (1.8, 0.0, 0.0),
                (0.8, 0.0, 0.5),
                (0.4, 0.5, 0.5),
                (0.35, 0.5, 1.0),
                (0.1, 1.0, 1.0)
            ]
        );
        assert_eq!((curve.n_pos(), curve.n_neg()), (2, 2));
        assert!(close(curve.auc(), 0.75));
        // FPR - FNR: -1, -0.5, 0 at (0.5, 0.5) -> EER = 0.5 exactly.
        assert!(close(curve.eer(), 0.5));
        assert_eq!(roc_curve(&[false, false], &[0.1, 0.2]), Ok(None));
    }

    #[test]
    fn roc_curve_groups_ties_and_interpolates_eer() {
        // pos [0.9, 0.5], neg [0.5, 0.1]. Points: (0,0), 0.9 -> (0, .5),
        // 0.5 (one pos + one neg tie) -> (.5, 1), 0.1 -> (1, 1).
        // FPR - FNR: -1, -0.5, +0.5: crossing halfway along (0,.5)-(.5,1),
        // at (0.25, 0.75): EER = 0.25. Trapezoid AUC = .25*... = 0.875
        // = Mann-Whitney (1 + 1 + 1 + 0.5) / 4.
        let labels = [true, true, false, false];
        let scores = [0.9, 0.5, 0.5, 0.1];
        let curve = roc_curve(&labels, &scores).unwrap().unwrap();
        assert_eq!(curve.points().len(), 4);
        assert!(close(curve.eer(), 0.25));
        assert!(close(curve.auc(), 0.875));
        assert_eq!(auc(&labels, &scores).unwrap(), Some(0.875));
    }

    #[test]
    fn tar_at_far_resolution_and_values() {
        // sklearn example has 2 negatives: far < 0.5 cannot be resolved.
        let (labels, scores) = sklearn_example();
        let curve = roc_curve(&labels, &scores).unwrap().unwrap();
        assert_eq!(curve.tar_at_far(0.0), None);
        assert_eq!(curve.tar_at_far(0.4), None);
        assert_eq!(curve.tar_at_far(-1.0), None);
        assert_eq!(curve.tar_at_far(f64::NAN), None);
        // FPR <= 0.5 allows (0.5, 1) -> TAR 1.
        assert_eq!(curve.tar_at_far(0.5), Some(1.0));
        assert_eq!(curve.tar_at_far(1.0), Some(1.0));
        // 1000 negatives 0..=999 and one positive at 997.5, below two of them:
        // far 1e-3 allows exactly one false accept (despite rounding), too few.
        let mut labels = vec![false; 1000];
        labels.push(true);
        let mut scores: Vec<f64> = (0..1000).map(f64::from).collect();
        scores.push(997.5);
        let curve = roc_curve(&labels, &scores).unwrap().unwrap();
        assert_eq!(curve.tar_at_far(9.99e-4), None);
        assert_eq!(curve.tar_at_far(1e-3), Some(0.0));
        assert_eq!(curve.tar_at_far(2e-3), Some(1.0));
    }

    #[test]
    fn downsample_keeps_endpoints_and_shape() {
        let n = 200;
        let labels: Vec<bool> = (0..n).map(|i| i % 3 == 0).collect();
        let scores: Vec<f64> = (0..n)
            .map(|i| f64::from(i % 17) + f64::from(i) / 1e3)
            .collect();
        let curve = roc_curve(&labels, &scores).unwrap().unwrap();
        let small = curve.downsample(20);
        assert!(small.points().len() <= 20);
        assert_eq!(small.points().first(), curve.points().first());
        assert_eq!(small.points().last(), curve.points().last());
        assert!((small.auc() - curve.auc()).abs() < 0.05);
        // Dropping only collinear points is lossless.
        let (labels, scores) = sklearn_example();
        let curve = roc_curve(&labels, &scores).unwrap().unwrap();
        assert_eq!(curve.downsample(100), curve);
        assert_eq!(curve.downsample(0).points().len(), 2);
    }

    fn labelled(max_len: usize) -> impl Strategy<Value = (Vec<bool>, Vec<f64>)> {
        prop::collection::vec((any::<bool>(), -8i32..8), 0..max_len)
            .prop_map(|v| v.into_iter().map(|(l, s)| (l, f64::from(s))).unzip())
    }

    proptest! {
        #[test]
        fn auc_matches_brute_force_and_is_bounded((labels, scores) in labelled(60)) {
            let a = auc(&labels, &scores).unwrap();
            let b = brute_auc(&labels, &scores);
            prop_assert_eq!(a.is_some(), b.is_some());
            if let (Some(a), Some(b)) = (a, b) {
                prop_assert!((0.0..=1.0).contains(&a));
                prop_assert!(close(a, b));
            }
        }

        #[test]
        fn auc_flips_under_negation((labels, scores) in labelled(60)) {
            let negated: Vec<f64> = scores.iter().map(|s| -s).collect();
            if let Some(a) = auc(&labels, &scores).unwrap() {
                let b = auc(&labels, &negated).unwrap().unwrap();
                prop_assert!(close(a + b, 1.0));
            }
        }

        #[test]
        fn auc_invariant_under_increasing_maps((labels, scores) in labelled(60)) {
            let a = auc(&labels, &scores).unwrap();
            let affine: Vec<f64> = scores.iter().map(|s| 3.0 * s + 1.0).collect();
            let exp: Vec<f64> = scores.iter().map(|s| (s / 10.0).exp()).collect();
            prop_assert_eq!(a, auc(&labels, &affine).unwrap());
            prop_assert_eq!(a, auc(&labels, &exp).unwrap());
        }

        #[test]
        fn trapezoid_equals_mann_whitney(
            pairs in prop::collection::vec((any::<bool>(), -1e3f64..1e3), 0..80),
            (labels, scores) in labelled(80),
        ) {
            let (cl, cs): (Vec<bool>, Vec<f64>) = pairs.into_iter().unzip();
            for (l, s) in [(cl, cs), (labels, scores)] {
                let curve = roc_curve(&l, &s).unwrap();
                let a = auc(&l, &s).unwrap();
                prop_assert_eq!(curve.is_some(), a.is_some());
                if let (Some(curve), Some(a)) = (curve, a) {
                    prop_assert!((curve.auc() - a).abs() < 1e-9);
                    let eer = curve.eer();
                    prop_assert!((0.0..=1.0).contains(&eer));
                }
            }
        }

        #[test]
        fn tar_at_far_is_monotone((labels, scores) in labelled(60)) {
            if let Some(curve) = roc_curve(&labels, &scores).unwrap() {
                let mut previous: Option<f64> = None;
                for step in 0..=100 {
                    let tar = curve.tar_at_far(f64::from(step) / 100.0);
                    if let Some(prev) = previous {
                        prop_assert!(tar.is_some_and(|t| t >= prev));
                    }
                    previous = tar.or(previous);
                }
                prop_assert_eq!(previous, Some(1.0));
            }
        }

        #[test]
        fn downsample_bounds((labels, scores) in labelled(80), max in 0usize..12) {
            if let Some(curve) = roc_curve(&labels, &scores).unwrap() {
                let small = curve.downsample(max);
                prop_assert!(small.points().len() <= max.max(2));
                prop_assert_eq!(small.points().first(), curve.points().first());
                prop_assert_eq!(small.points().last(), curve.points().last());
            }
        }
    }
}
