//! Exact search by scanning every vector: the ground truth for approximate indexes.

use rayon::prelude::*;

use crate::error::{IndexError, Result};
use crate::hit::{DocIndex, Hit, Score};
use crate::vector::base::{check_positions, DocFilter, VectorIndex};
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
        if !rows.len().is_multiple_of(self.dim) {
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
        if !queries.len().is_multiple_of(self.dim) {
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

    /// The `k` best allowed rows for an already prepared query, best first.
    pub(crate) fn search_prepared(
        &self,
        query: &[f32],
        k: usize,
        filter: Option<DocFilter<'_>>,
    ) -> Vec<Hit> {
        let rows = self.data.chunks_exact(self.dim).enumerate();
        let hits = rows
            .filter(|&(doc, _)| filter.is_none_or(|allowed| allowed(doc)))
            .map(|(doc, row)| Hit {
                doc,
                score: self.distance.similarity(query, row),
            })
            .collect();
        top_k_hits(hits, k)
    }

    /// The similarity of a prepared query to the stored row `doc`, which must exist.
    pub(crate) fn score_prepared(&self, query: &[f32], doc: DocIndex) -> Option<Score> {
        let start = doc.checked_mul(self.dim)?;
        let row = self.data.get(start..start.checked_add(self.dim)?)?;
        Some(self.distance.similarity(query, row))
    }

    /// Reserves room for `rows` more vectors, so that growing to them copies nothing; a hint,
    /// silently not taken when the memory cannot be had.
    pub(crate) fn reserve(&mut self, rows: usize) {
        let _ = self.data.try_reserve_exact(rows.saturating_mul(self.dim));
        crate::vector::hardware::advise_huge_pages(&self.data);
    }

    /// The stored (prepared) rows, row-major in [`DocIndex`] order.
    pub(crate) fn rows(&self) -> &[f32] {
        &self.data
    }

    /// The vectors' comparison.
    pub(crate) fn distance(&self) -> Distance {
        self.distance
    }

    /// An index over rows that were prepared (validated, normalised) before, e.g. read back
    /// from disk; they are stored bit for bit.
    ///
    /// # Errors
    /// A zero `dim`, a ragged buffer or a non-finite component.
    pub(crate) fn from_prepared(dim: usize, distance: Distance, data: Vec<f32>) -> Result<Self> {
        let mut index = Self::new(dim, distance)?;
        if !data.len().is_multiple_of(dim) {
            return Err(IndexError::DimMismatch {
                expected: dim,
                got: data.len() % dim,
            });
        }
        check_finite(&data)?;
        index.data = data;
        Ok(index)
    }

    /// Validates a batch, then stores each row, prepared, at its position (no copy on the
    /// way, so a large batch leaves no garbage behind).
    fn insert_prepared_batch(&mut self, batch: &[(DocIndex, &[f32])]) -> Result<()> {
        let start = self.len();
        check_positions(batch.iter().map(|&(doc, _)| doc), start, batch.len())?;
        for &(_, row) in batch {
            self.check(row)?;
        }
        let old_len = self.data.len();
        self.data.resize(old_len + batch.len() * self.dim, 0.0);
        for &(doc, row) in batch {
            let offset = (doc - start) * self.dim + old_len;
            let stored = &mut self.data[offset..offset + self.dim];
            stored.copy_from_slice(row);
            if self.distance.normalizes() {
                normalize(stored);
            }
        }
        Ok(())
    }

    /// Checks a vector's width and finiteness.
    fn check(&self, vector: &[f32]) -> Result<()> {
        if vector.len() != self.dim {
            return Err(IndexError::DimMismatch {
                expected: self.dim,
                got: vector.len(),
            });
        }
        check_finite(vector)
    }

    /// Checks width and finiteness, then normalises when the distance asks for it.
    pub(crate) fn prepare(&self, vector: &[f32]) -> Result<Vec<f32>> {
        self.check(vector)?;
        let mut prepared = vector.to_vec();
        if self.distance.normalizes() {
            normalize(&mut prepared);
        }
        Ok(prepared)
    }
}

impl VectorIndex for FlatIndex {
    fn dim(&self) -> usize {
        self.dim
    }

    fn distance(&self) -> Distance {
        self.distance
    }

    fn len(&self) -> usize {
        FlatIndex::len(self)
    }

    fn insert_batch(&mut self, batch: &[(DocIndex, &[f32])]) -> Result<()> {
        self.insert_prepared_batch(batch)
    }

    fn search(&self, query: &[f32], k: usize, filter: Option<DocFilter<'_>>) -> Result<Vec<Hit>> {
        let query = self.prepare(query)?;
        Ok(self.search_prepared(&query, k, filter))
    }
}

/// Rejects a vector holding NaN or an infinity, naming the first bad component.
fn check_finite(vector: &[f32]) -> Result<()> {
    match vector.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        Some((position, &value)) => Err(IndexError::NonFinite { position, value }),
        None => Ok(()),
    }
}

/// The `k` best of `scores`, best first, ties broken by lower index.
pub(crate) fn top_k(scores: &[Score], k: usize) -> Vec<Hit> {
    let hits = scores
        .iter()
        .enumerate()
        .map(|(doc, &score)| Hit { doc, score })
        .collect();
    top_k_hits(hits, k)
}

/// The `k` best `hits`, best first, ties broken by lower index: the one ordering that every
/// index returns, so exact and approximate results compare directly.
pub(crate) fn top_k_hits(mut hits: Vec<Hit>, k: usize) -> Vec<Hit> {
    let order = |a: &Hit, b: &Hit| b.score.total_cmp(&a.score).then(a.doc.cmp(&b.doc));
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

    #[test]
    fn insert_batch_places_rows_at_their_positions_in_any_order() {
        let mut index = FlatIndex::new(2, Distance::Dot).unwrap();
        index.add(&[1.0, 1.0]).unwrap();
        let batch: [(DocIndex, &[f32]); 2] = [(2, &[0.0, 3.0]), (1, &[2.0, 0.0])];
        index.insert_batch(&batch).unwrap();
        assert_eq!(index.rows(), &[1.0, 1.0, 2.0, 0.0, 0.0, 3.0]);
        let hits = VectorIndex::search(&index, &[0.0, 1.0], 1, None).unwrap();
        assert_eq!(hits, vec![Hit { doc: 2, score: 3.0 }]);
    }

    #[test]
    fn insert_batch_rejects_gaps_repeats_and_bad_rows_atomically() {
        let mut index = FlatIndex::new(2, Distance::L2).unwrap();
        let gap: [(DocIndex, &[f32]); 1] = [(1, &[0.0, 0.0])];
        assert!(matches!(
            index.insert_batch(&gap),
            Err(IndexError::DocOutOfSequence {
                doc: 1,
                start: 0,
                end: 1
            })
        ));
        let repeat: [(DocIndex, &[f32]); 2] = [(0, &[0.0, 0.0]), (0, &[1.0, 0.0])];
        assert!(matches!(
            index.insert_batch(&repeat),
            Err(IndexError::DocOutOfSequence { doc: 0, .. })
        ));
        let infinite: [(DocIndex, &[f32]); 2] = [(0, &[0.0, 0.0]), (1, &[f32::INFINITY, 0.0])];
        assert!(matches!(
            index.insert_batch(&infinite),
            Err(IndexError::NonFinite { position: 0, .. })
        ));
        assert!(index.is_empty());
    }

    #[test]
    fn filtered_search_returns_only_allowed_documents() {
        let mut index = FlatIndex::new(1, Distance::Dot).unwrap();
        index.add_all(&[1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
        let even = |doc: DocIndex| doc.is_multiple_of(2);
        let hits = VectorIndex::search(&index, &[1.0], 10, Some(&even)).unwrap();
        assert_eq!(
            hits.iter().map(|h| h.doc).collect::<Vec<_>>(),
            vec![4, 2, 0]
        );
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
