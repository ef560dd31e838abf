//! The vector-index abstraction: one trait, and one enum over the implementations that a
//! configuration picks from (after qdrant's `vector_index_base.rs`).

use serde::{Deserialize, Serialize};

use crate::error::{IndexError, Result};
use crate::hit::{DocIndex, Hit};
use crate::vector::distance::Distance;
use crate::vector::flat::FlatIndex;
use crate::vector::hnsw::{HnswConfig, HnswIndex};

/// A predicate on document positions: only documents for which it returns `true` are hits.
///
/// It is typically a look-up in the documents' metadata. A search may call it more than once
/// for a document (an approximate search calls it on far fewer documents than an exact one),
/// so it should be cheap and give the same answer each time.
pub type DocFilter<'a> = &'a dyn Fn(DocIndex) -> bool;

/// A searchable collection of equally wide vectors, each at a caller-assigned position.
///
/// Positions ([`DocIndex`]) are dense: a batch must hold each of `len()..len() + batch.len()`
/// exactly once, in any order, which keeps every index's positions equal to the documents'
/// positions in the caller's store.
pub trait VectorIndex: Send + Sync {
    /// The vectors' width.
    fn dim(&self) -> usize;

    /// How vectors are compared.
    fn distance(&self) -> Distance;

    /// The number of vectors.
    fn len(&self) -> usize;

    /// Whether the index holds no vector.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds a batch of `(position, vector)` pairs.
    ///
    /// # Errors
    /// [`IndexError::DocOutOfSequence`] when the positions are not exactly the next free ones,
    /// [`IndexError::DimMismatch`] or [`IndexError::NonFinite`] for a bad vector. Nothing is
    /// added when any pair is rejected.
    fn insert_batch(&mut self, batch: &[(DocIndex, &[f32])]) -> Result<()>;

    /// The `k` documents most similar to `query` among those that `filter` allows (all when
    /// it is `None`), best first, ties broken by lower position. Fewer than `k` hits come
    /// back only when fewer than `k` documents are allowed.
    ///
    /// # Errors
    /// [`IndexError::DimMismatch`] or [`IndexError::NonFinite`] for a bad query.
    fn search(&self, query: &[f32], k: usize, filter: Option<DocFilter<'_>>) -> Result<Vec<Hit>>;
}

/// Which vector index to build, as read from a configuration file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum VectorIndexConfig {
    /// Exact search by a full scan: best below some 10k vectors, and the ground truth.
    Flat,
    /// Approximate search on an HNSW graph.
    Hnsw(HnswConfig),
}

impl Default for VectorIndexConfig {
    fn default() -> Self {
        Self::Hnsw(HnswConfig::default())
    }
}

impl VectorIndexConfig {
    /// An empty index of `dim`-wide vectors.
    ///
    /// # Errors
    /// [`IndexError::InvalidParameter`] for a zero `dim` or an invalid [`HnswConfig`].
    pub fn build(&self, dim: usize, distance: Distance) -> Result<AnyVectorIndex> {
        Ok(match self {
            Self::Flat => AnyVectorIndex::Flat(FlatIndex::new(dim, distance)?),
            Self::Hnsw(config) => AnyVectorIndex::Hnsw(HnswIndex::new(dim, distance, config)?),
        })
    }
}

/// One of the vector indexes, chosen at run time.
#[derive(Debug)]
pub enum AnyVectorIndex {
    /// Exact search.
    Flat(FlatIndex),
    /// Approximate search on an HNSW graph.
    Hnsw(HnswIndex),
}

impl AnyVectorIndex {
    fn inner(&self) -> &dyn VectorIndex {
        match self {
            Self::Flat(index) => index,
            Self::Hnsw(index) => index,
        }
    }
}

impl VectorIndex for AnyVectorIndex {
    fn dim(&self) -> usize {
        self.inner().dim()
    }

    fn distance(&self) -> Distance {
        self.inner().distance()
    }

    fn len(&self) -> usize {
        self.inner().len()
    }

    fn insert_batch(&mut self, batch: &[(DocIndex, &[f32])]) -> Result<()> {
        match self {
            Self::Flat(index) => index.insert_batch(batch),
            Self::Hnsw(index) => index.insert_batch(batch),
        }
    }

    fn search(&self, query: &[f32], k: usize, filter: Option<DocFilter<'_>>) -> Result<Vec<Hit>> {
        self.inner().search(query, k, filter)
    }
}

/// Checks that `docs` are exactly `start..start + count`, each once, in any order.
///
/// # Errors
/// [`IndexError::DocOutOfSequence`] naming the first repeated or out-of-range position.
pub(crate) fn check_positions(
    docs: impl Iterator<Item = DocIndex>,
    start: DocIndex,
    count: usize,
) -> Result<()> {
    let end = start.saturating_add(count);
    let mut seen = vec![false; count];
    for doc in docs {
        let slot = doc.checked_sub(start).filter(|&slot| slot < count);
        match slot.and_then(|slot| seen.get_mut(slot)) {
            Some(seen) if !*seen => *seen = true,
            _ => return Err(IndexError::DocOutOfSequence { doc, start, end }),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_must_be_the_next_free_ones_each_once() {
        assert!(check_positions([5, 3, 4].into_iter(), 3, 3).is_ok());
        assert!(check_positions([].into_iter(), 7, 0).is_ok());
        for (docs, bad) in [(vec![3, 3, 4], 3), (vec![3, 4, 6], 6), (vec![2, 3, 4], 2)] {
            assert!(matches!(
                check_positions(docs.into_iter(), 3, 3),
                Err(IndexError::DocOutOfSequence { doc, start: 3, end: 6 }) if doc == bad
            ));
        }
    }

    #[test]
    fn config_picks_the_index_and_rejects_typos() {
        let flat: VectorIndexConfig = serde_json::from_str(r#"{"type": "flat"}"#).unwrap();
        assert!(matches!(
            flat.build(4, Distance::Cosine).unwrap(),
            AnyVectorIndex::Flat(_)
        ));
        let hnsw: VectorIndexConfig =
            serde_json::from_str(r#"{"type": "hnsw", "m": 8, "ef_search": 32}"#).unwrap();
        let expected = HnswConfig {
            m: 8,
            ef_search: 32,
            ..HnswConfig::default()
        };
        assert_eq!(hnsw, VectorIndexConfig::Hnsw(expected));
        assert!(matches!(
            hnsw.build(4, Distance::L2).unwrap(),
            AnyVectorIndex::Hnsw(_)
        ));
        let typo = serde_json::from_str::<VectorIndexConfig>(r#"{"type": "hnsw", "ef": 32}"#);
        assert!(typo.unwrap_err().to_string().contains("unknown field"));
        let bad = VectorIndexConfig::Hnsw(HnswConfig {
            m: 0,
            ..HnswConfig::default()
        });
        assert!(matches!(
            bad.build(4, Distance::L2),
            Err(IndexError::InvalidParameter(_))
        ));
    }

    #[test]
    fn any_index_delegates_to_its_variant() {
        let mut index = VectorIndexConfig::Flat.build(2, Distance::Dot).unwrap();
        let batch: [(DocIndex, &[f32]); 2] = [(0, &[1.0, 0.0]), (1, &[0.0, 2.0])];
        index.insert_batch(&batch).unwrap();
        assert_eq!(
            (index.len(), index.dim(), index.distance()),
            (2, 2, Distance::Dot)
        );
        let hits = index.search(&[0.0, 1.0], 1, None).unwrap();
        assert_eq!(hits, vec![Hit { doc: 1, score: 2.0 }]);
    }
}
