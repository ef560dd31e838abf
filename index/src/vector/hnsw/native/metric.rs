//! The graph's distance: lower is closer, never NaN, and a score that [`FlatIndex`] would give
//! for the same pair, bit for bit.
//!
//! [`FlatIndex`]: crate::vector::FlatIndex

use crate::hit::Score;
#[cfg(test)]
use crate::vector::distance::Distance;
use crate::vector::distance::{dot, squared_l2};

/// How the graph compares two prepared vectors. A type per metric, so that the search loops
/// are compiled once per metric with the distance inlined.
pub(crate) trait Metric: Copy + Send + Sync + 'static {
    /// The distance of two equally long vectors: lower is closer, NaN mapped to +inf.
    fn dist(a: &[f32], b: &[f32]) -> f32;

    /// The similarity score ([`Distance::similarity`]) that a distance stands for.
    fn score(dist: f32) -> Score;
}

/// Cosine (on normalised vectors) and dot product: the negated inner product.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NegatedDot;

impl Metric for NegatedDot {
    #[inline]
    fn dist(a: &[f32], b: &[f32]) -> f32 {
        not_nan(-dot(a, b))
    }

    fn score(dist: f32) -> Score {
        -dist
    }
}

/// Euclidean distance, compared squared (the square root is taken only for scores).
#[derive(Debug, Clone, Copy)]
pub(crate) struct SquaredEuclidean;

impl Metric for SquaredEuclidean {
    #[inline]
    fn dist(a: &[f32], b: &[f32]) -> f32 {
        not_nan(squared_l2(a, b))
    }

    fn score(dist: f32) -> Score {
        -dist.sqrt()
    }
}

/// NaN (a dot product of huge vectors, `inf - inf`) counts as farthest.
#[inline]
fn not_nan(dist: f32) -> f32 {
    if dist.is_nan() {
        f32::INFINITY
    } else {
        dist
    }
}

/// Calls `$body` with the metric type of `$distance` bound to `$m`.
macro_rules! with_metric {
    ($distance:expr, $m:ident => $body:expr) => {
        match $distance {
            Distance::Cosine | Distance::Dot => {
                type $m = $crate::vector::hnsw::native::metric::NegatedDot;
                $body
            }
            Distance::L2 => {
                type $m = $crate::vector::hnsw::native::metric::SquaredEuclidean;
                $body
            }
        }
    };
}
pub(crate) use with_metric;

/// Whether the metric of `distance` orders pairs as [`Distance::similarity`] does.
#[cfg(test)]
fn score_of(distance: Distance, a: &[f32], b: &[f32]) -> Score {
    with_metric!(distance, M => M::score(M::dist(a, b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_equal_the_flat_index_similarity_bit_for_bit() {
        let a: Vec<f32> = (0..19).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..19).map(|i| (i as f32 * 0.11).cos()).collect();
        for distance in [Distance::Cosine, Distance::Dot, Distance::L2] {
            assert_eq!(
                score_of(distance, &a, &b).to_bits(),
                distance.similarity(&a, &b).to_bits(),
                "{distance:?}"
            );
        }
    }

    #[test]
    fn nan_is_farthest() {
        let huge = [3e38f32, -3e38];
        assert_eq!(NegatedDot::dist(&huge, &[3e38, 3e38]), f32::INFINITY);
        assert!(NegatedDot::dist(&[1.0, 0.0], &[1.0, 0.0]) < 0.0);
    }
}
