//! Similarity functions, all oriented so that higher means more similar.

use serde::{Deserialize, Serialize};

/// How two vectors are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Distance {
    /// Cosine similarity (vectors are normalised on insertion and at query time).
    #[default]
    Cosine,
    /// Inner product.
    Dot,
    /// Negative Euclidean distance.
    L2,
}

impl Distance {
    /// Whether stored and query vectors are L2-normalised first.
    pub(crate) fn normalizes(self) -> bool {
        self == Self::Cosine
    }

    /// The similarity of two equally long vectors (higher is closer).
    pub fn similarity(self, a: &[f32], b: &[f32]) -> f32 {
        match self {
            Self::Cosine | Self::Dot => dot(a, b),
            Self::L2 => -squared_l2(a, b).sqrt(),
        }
    }
}

pub(crate) use crate::vector::hardware::{dot, squared_l2};

/// Scales a vector to unit length (a zero vector stays zero).
pub(crate) fn normalize(v: &mut [f32]) {
    let norm = dot(v, v).sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_matches_naive_sum_for_all_tail_lengths() {
        for n in 0..20 {
            let a: Vec<f32> = (0..n).map(|i| i as f32 * 0.5).collect();
            let b: Vec<f32> = (0..n).map(|i| 1.0 - i as f32).collect();
            let naive: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            assert!((dot(&a, &b) - naive).abs() < 1e-3, "n = {n}");
            let naive_l2: f32 = a.iter().zip(&b).map(|(x, y)| (x - y) * (x - y)).sum();
            assert!((squared_l2(&a, &b) - naive_l2).abs() < 1e-2, "n = {n}");
        }
    }

    #[test]
    fn similarities_are_oriented_higher_is_closer() {
        let (a, near, far) = ([1.0, 0.0], [0.9, 0.1], [-1.0, 0.0]);
        for d in [Distance::Cosine, Distance::Dot, Distance::L2] {
            assert!(d.similarity(&a, &near) > d.similarity(&a, &far), "{d:?}");
        }
        assert_eq!(Distance::L2.similarity(&[0.0, 0.0], &[3.0, 4.0]), -5.0);
    }
}
