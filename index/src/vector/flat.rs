//! Exact search by scanning every vector: the ground truth for approximate indexes.

use rayon::prelude::*;

use crate::error::{IndexError, Result};
use crate::hit::{Hit, Score};
use crate::vector::distance::{normalize, Distance};

/// Vectors stored row-major and searched exhaustively.
#[derive(Debug, Clone)]
pub struct FlatIndex {
    dim: usize,
    distance: Distance,
    data: Vec<f32>,
}

impl FlatIndex {
    /// An empty index of `dim`-wide vectors.
    ///
    /// # Errors
    /// [`IndexError::InvalidParameter`] when `dim` is 0.
    pub fn new(dim: usize, distance: Distance) -> Result<Self> {
        if dim == 0 {
            return Err(IndexError::InvalidParameter(
                "dimension must be at least 1".to_owned(),
            ));
        }
        Ok(Self {
            dim,
            distance,
            data: Vec::new(),
        })
    }

    /// The vectors' width.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The number of vectors.
    pub fn len(&self) -> usize {
        self.data.len() / self.dim
    }

    /// Whether the index is empty.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Appends a vector; its [`DocIndex`](crate::DocIndex) is the previous [`len`](Self::len).
    ///
    /// # Errors
    /// Wrong width or a non-finite component.
    pub fn add(&mut self, vector: &[f32]) -> Result<()> {
        let prepared = self.prepare(vector)?;
        self.data.extend_from_slice(&prepared);
        Ok(())
    }

    /// Appends many row-major vectors at once.
    ///
    /// # Errors
    /// As [`add`](Self::add); nothing is added when any row is rejected.
    pub fn add_all(&mut self, rows: &[f32]) -> Result<()> {
        if rows.len() % self.dim != 0 {
            return Err(IndexError::DimMismatch {
                expected: self.dim,
                got: rows.len() % self.dim,
            });
        }
        let prepared: Vec<Vec<f32>> = rows
            .chunks_exact(self.dim)
            .map(|row| self.prepare(row))
            .collect::<Result<_>>()?;
        self.data.extend(prepared.into_iter().flatten());
        Ok(())
    }

    /// The similarity of `query` to every stored vector, in index order.
    ///
    /// # Errors
    /// Wrong width or a non-finite component.
    pub fn scores(&self, query: &[f32]) -> Result<Vec<Score>> {
        let query = self.prepare(query)?;
        Ok(self
            .data
            .chunks_exact(self.dim)
            .map(|row| self.distance.similarity(&query, row))
            .collect())
    }

    /// The `k` most similar vectors, best first (ties by lower index).
    ///
    /// # Errors
    /// Wrong width or a non-finite component.
    pub fn search(&self, query: &[f32], k: usize) -> Result<Vec<Hit>> {
        Ok(top_k(&self.scores(query)?, k))
    }

    /// [`scores`](Self::scores) for many row-major queries, in parallel.
    ///
    /// # Errors
    /// As [`scores`](Self::scores).
    pub fn scores_batch(&self, queries: &[f32]) -> Result<Vec<Vec<Score>>> {
        if queries.len() % self.dim != 0 {
            return Err(IndexError::DimMismatch {
                expected: self.dim,
                got: queries.len() % self.dim,
            });
        }
        queries
            .par_chunks_exact(self.dim)
            .map(|q| self.scores(q))
            .collect()
    }

    fn prepare(&self, vector: &[f32]) -> Result<Vec<f32>> {
        if vector.len() != self.dim {
            return Err(IndexError::DimMismatch {
                expected: self.dim,
                got: vector.len(),
            });
        }
        if let Some((position, &value)) = vector.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(IndexError::NonFinite { position, value });
        }
        let mut prepared = vector.to_vec();
        if self.distance.normalizes() {
            normalize(&mut prepared);
        }
        Ok(prepared)
    }
}

/// The `k` best of `scores`, best first, ties broken by lower index.
pub(crate) fn top_k(scores: &[Score], k: usize) -> Vec<Hit> {
    let order = |a: &Hit, b: &Hit| b.score.total_cmp(&a.score).then(a.doc.cmp(&b.doc));
    let mut hits: Vec<Hit> = scores
        .iter()
        .enumerate()
        .map(|(doc, &score)| Hit { doc, score })
        .collect();
    if k < hits.len() {
        hits.select_nth_unstable_by(k, order);
        hits.truncate(k);
    }
    hits.sort_by(order);
    hits
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn finds_the_nearest_vector() {
        let mut index = FlatIndex::new(3, Distance::Cosine).unwrap();
        index
            .add_all(&[1.0, 0.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0, -1.0])
            .unwrap();
        let hits = index.search(&[0.1, 5.0, 0.0], 2).unwrap();
        assert_eq!(hits.iter().map(|h| h.doc).collect::<Vec<_>>(), vec![1, 0]);
        assert!((hits[0].score - 0.999_800).abs() < 1e-5);
    }

    #[test]
    fn rejects_bad_vectors_without_adding_anything() {
        let mut index = FlatIndex::new(2, Distance::Dot).unwrap();
        assert!(matches!(
            index.add(&[1.0]),
            Err(IndexError::DimMismatch {
                expected: 2,
                got: 1
            })
        ));
        assert!(matches!(
            index.add_all(&[1.0, 2.0, f32::NAN, 0.0]),
            Err(IndexError::NonFinite { position: 0, .. })
        ));
        assert!(index.is_empty());
        assert!(FlatIndex::new(0, Distance::L2).is_err());
    }

    proptest! {
        #[test]
        fn top_k_is_the_sorted_prefix(scores in prop::collection::vec(-10f32..10.0, 0..60), k in 0usize..70) {
            let hits = top_k(&scores, k);
            let mut all: Vec<(f32, usize)> = scores.iter().copied().zip(0..).collect();
            all.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            let expected: Vec<usize> = all.iter().take(k).map(|p| p.1).collect();
            prop_assert_eq!(hits.iter().map(|h| h.doc).collect::<Vec<_>>(), expected);
        }
    }
}
