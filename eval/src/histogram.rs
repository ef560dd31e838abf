//! Score histograms of positives and negatives over shared bins.

use serde::{Deserialize, Serialize};

/// Counts of positive and negative scores over the same equal-width bins.
///
/// Bin `i` covers `[edges[i], edges[i + 1])`; the last bin also holds its
/// upper edge (the highest score). `edges` has one more element than each
/// count vector. The bins span the lowest to the highest score; when all
/// scores are equal they span `score ± 0.5`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreHistograms {
    /// Bin edges in increasing order (`bins + 1` values).
    pub edges: Vec<f64>,
    /// Positive scores per bin.
    pub positives: Vec<u64>,
    /// Negative scores per bin.
    pub negatives: Vec<u64>,
}

impl ScoreHistograms {
    /// Bins finite `scores` split by `labels` into `bins` (at least 1)
    /// equal-width bins. The caller checks lengths and finiteness; an empty
    /// input gives one empty bin over `[-0.5, 0.5]`.
    pub(crate) fn compute(labels: &[bool], scores: &[f64], bins: usize) -> Self {
        let bins = bins.max(1);
        let (mut low, mut high) = scores
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &s| {
                (lo.min(s), hi.max(s))
            });
        if high <= low {
            let centre = if low.is_finite() { low } else { 0.0 };
            (low, high) = (centre - 0.5, centre + 0.5);
        }
        let width = (high - low) / bins as f64;
        let edges: Vec<f64> = (0..=bins)
            .map(|i| {
                if i == bins {
                    high
                } else {
                    low + width * i as f64
                }
            })
            .collect();
        let mut positives = vec![0u64; bins];
        let mut negatives = vec![0u64; bins];
        for (&is_pos, &score) in labels.iter().zip(scores) {
            let bin = (((score - low) / width).floor().max(0.0) as usize).min(bins - 1);
            let counts = if is_pos {
                &mut positives
            } else {
                &mut negatives
            };
            counts[bin] += 1;
        }
        Self {
            edges,
            positives,
            negatives,
        }
    }

    /// Number of bins.
    pub fn bins(&self) -> usize {
        self.positives.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_bins_by_hand() {
        // Range [0, 1] in 4 bins of 0.25: 0.0 -> 0, 0.3 -> 1, 0.5 -> 2,
        // 0.74 -> 2, 1.0 (upper edge) -> 3.
        let labels = [false, false, true, false, true];
        let scores = [0.0, 0.3, 0.5, 0.74, 1.0];
        let h = ScoreHistograms::compute(&labels, &scores, 4);
        assert_eq!(h.edges, vec![0.0, 0.25, 0.5, 0.75, 1.0]);
        assert_eq!(h.positives, vec![0, 0, 1, 1]);
        assert_eq!(h.negatives, vec![1, 1, 1, 0]);
        assert_eq!(h.bins(), 4);
    }

    #[test]
    fn constant_scores_and_empty_input() {
        let h = ScoreHistograms::compute(&[true, false], &[2.0, 2.0], 2);
        assert_eq!(h.edges, vec![1.5, 2.0, 2.5]);
        assert_eq!((h.positives, h.negatives), (vec![0, 1], vec![0, 1]));
        let h = ScoreHistograms::compute(&[], &[], 0);
        assert_eq!(h.edges, vec![-0.5, 0.5]);
        assert_eq!(h.positives, vec![0]);
    }
}
