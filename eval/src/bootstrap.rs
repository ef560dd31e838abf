//! Seeded percentile-bootstrap confidence interval for the Mann-Whitney AUC.
//!
//! Stratified resampling (as pROC's default `boot.stratified = TRUE`): each
//! resample draws `n+` positives and `n-` negatives with replacement, so every
//! resample has both classes and its AUC is always defined. Efron & Tibshirani,
//! "An Introduction to the Bootstrap" (1993), ch. 13 (percentile interval).
//!
//! The scores are sorted once; a resample is a vector of multiplicities per
//! distinct score, and its AUC is one linear sweep, so `R` resamples of `n`
//! scores cost `O(n log n + R n)`.

use serde::{Deserialize, Serialize};

/// A percentile bootstrap confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ConfidenceInterval {
    /// Lower bound (the 2.5th percentile of the resampled AUCs for a 95 % interval).
    pub lower: f64,
    /// Upper bound (the 97.5th percentile).
    pub upper: f64,
    /// Coverage of the interval, e.g. `0.95`.
    pub level: f64,
    /// Number of bootstrap resamples.
    pub resamples: usize,
    /// Seed of the resampling generator: the same seed gives the same interval.
    pub seed: u64,
}

/// SplitMix64 (Steele, Lea & Flood, OOPSLA 2014): a tiny generator whose output
/// is fixed by its definition, so intervals are reproducible across versions
/// and platforms (unlike `rand`'s `StdRng`, whose algorithm may change).
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform index in `0..n` (`n > 0`) by Lemire's multiply-shift; the
    /// bias, at most `n / 2^64`, is negligible for any slice we hold.
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }
}

/// The AUC of one set of multiplicities over distinct scores in ascending
/// order: `U / (n+ n-)` with ties counting one half.
fn weighted_auc(pos: &[u32], neg: &[u32], n_pos: usize, n_neg: usize) -> f64 {
    let (mut u, mut neg_below) = (0.0f64, 0.0f64);
    for (&p, &n) in pos.iter().zip(neg) {
        let (p, n) = (f64::from(p), f64::from(n));
        u += p * (neg_below + 0.5 * n);
        neg_below += n;
    }
    u / (n_pos as f64 * n_neg as f64)
}

/// Linear-interpolation quantile of sorted values (numpy's default method).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let last = sorted.len().saturating_sub(1);
    let position = q * last as f64;
    let below = position.floor() as usize;
    let above = (below + 1).min(last);
    let (a, b) = (
        sorted.get(below).copied().unwrap_or(f64::NAN),
        sorted.get(above).copied().unwrap_or(f64::NAN),
    );
    a + (position - below as f64) * (b - a)
}

/// Percentile bootstrap interval of the AUC at coverage `level` in `(0, 1)`.
///
/// The caller guarantees both classes are present, no score is NaN and
/// `resamples > 0`; the result is `None` otherwise.
pub(crate) fn bootstrap_auc_ci(
    labels: &[bool],
    scores: &[f64],
    resamples: usize,
    level: f64,
    seed: u64,
) -> Option<ConfidenceInterval> {
    // Group id of every sample, in ascending order of distinct score.
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_unstable_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut group_of = vec![0usize; scores.len()];
    let mut n_groups = 0usize;
    let mut previous: Option<f64> = None;
    for &i in &order {
        if previous != Some(scores[i]) {
            n_groups += 1;
            previous = Some(scores[i]);
        }
        group_of[i] = n_groups - 1;
    }
    let pos_groups: Vec<usize> = (0..labels.len())
        .filter(|&i| labels[i])
        .map(|i| group_of[i])
        .collect();
    let neg_groups: Vec<usize> = (0..labels.len())
        .filter(|&i| !labels[i])
        .map(|i| group_of[i])
        .collect();
    let (n_pos, n_neg) = (pos_groups.len(), neg_groups.len());
    if n_pos == 0 || n_neg == 0 || resamples == 0 {
        return None;
    }
    let mut rng = SplitMix64(seed);
    let (mut pos_w, mut neg_w) = (vec![0u32; n_groups], vec![0u32; n_groups]);
    let mut aucs = Vec::with_capacity(resamples);
    for _ in 0..resamples {
        pos_w.fill(0);
        neg_w.fill(0);
        for _ in 0..n_pos {
            pos_w[pos_groups[rng.below(n_pos)]] += 1;
        }
        for _ in 0..n_neg {
            neg_w[neg_groups[rng.below(n_neg)]] += 1;
        }
        aucs.push(weighted_auc(&pos_w, &neg_w, n_pos, n_neg));
    }
    aucs.sort_unstable_by(f64::total_cmp);
    let tail = (1.0 - level) / 2.0;
    Some(ConfidenceInterval {
        lower: quantile(&aucs, tail),
        upper: quantile(&aucs, 1.0 - tail),
        level,
        resamples,
        seed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roc::auc;

    #[test]
    fn splitmix64_reference_values() {
        // First outputs for seed 1234567 from the reference C implementation
        // (splitmix64.c by Sebastiano Vigna).
        let mut rng = SplitMix64(1_234_567);
        assert_eq!(rng.next_u64(), 6_457_827_717_110_365_317);
        assert_eq!(rng.next_u64(), 3_203_168_211_198_807_973);
    }

    #[test]
    fn weighted_auc_with_unit_weights_is_the_auc() {
        // Ascending distinct scores 0.2 0.5 0.6 0.7 0.8 0.9 of the losses.md
        // test vector: positives [0.9, 0.7, 0.6], negatives [0.8, 0.5, 0.6, 0.2].
        let pos = [0, 0, 1, 1, 0, 1];
        let neg = [1, 1, 1, 0, 1, 0];
        assert!((weighted_auc(&pos, &neg, 3, 4) - 9.5 / 12.0).abs() < 1e-12);
    }

    #[test]
    fn quantile_interpolates_like_numpy() {
        // numpy.percentile([1, 2, 3, 4], [0, 25, 50, 100]) = 1, 1.75, 2.5, 4.
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(
            [0.0, 0.25, 0.5, 1.0].map(|q| quantile(&v, q)),
            [1.0, 1.75, 2.5, 4.0]
        );
    }

    #[test]
    fn interval_is_seeded_and_brackets_the_auc() {
        let labels: Vec<bool> = (0..300).map(|i| i % 3 == 0).collect();
        let scores: Vec<f64> = (0..300)
            .map(|i| f64::from(i % 7) + if i % 3 == 0 { 2.5 } else { 0.0 })
            .collect();
        let a = auc(&labels, &scores).unwrap().unwrap();
        let ci = bootstrap_auc_ci(&labels, &scores, 500, 0.95, 7).unwrap();
        assert!(ci.lower < a && a < ci.upper, "{ci:?} vs {a}");
        assert!(ci.upper - ci.lower < 0.2, "{ci:?}");
        assert_eq!(Some(ci), bootstrap_auc_ci(&labels, &scores, 500, 0.95, 7));
        assert_ne!(Some(ci), bootstrap_auc_ci(&labels, &scores, 500, 0.95, 8));
        assert_eq!(bootstrap_auc_ci(&labels, &scores, 0, 0.95, 7), None);
        assert_eq!(bootstrap_auc_ci(&[true], &[1.0], 10, 0.95, 7), None);
    }

    #[test]
    fn separable_classes_give_a_degenerate_interval() {
        let labels = [true, true, false, false];
        let ci = bootstrap_auc_ci(&labels, &[0.9, 0.8, 0.2, 0.1], 100, 0.95, 0).unwrap();
        assert_eq!((ci.lower, ci.upper), (1.0, 1.0));
    }
}
