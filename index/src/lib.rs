//! Search over embeddings and text.
//!
//! Vector search comes in two kinds behind one [`VectorIndex`] trait: the exact
//! [`FlatIndex`], which is both the search of small collections and the ground truth for
//! approximate indexes, and the approximate [`HnswIndex`]. [`VectorIndexConfig`] picks one
//! from a configuration file, as an [`AnyVectorIndex`].
//!
//! ```
//! use pairwise_index::{Distance, HnswConfig, VectorIndex, VectorIndexConfig};
//!
//! let config = VectorIndexConfig::Hnsw(HnswConfig::default());
//! let mut index = config.build(2, Distance::Cosine)?;
//! index.insert_batch(&[(0, &[1.0, 0.0]), (1, &[0.0, 1.0]), (2, &[0.7, 0.7])])?;
//! let hits = index.search(&[0.9, 0.1], 1, None)?;
//! assert_eq!(hits[0].doc, 0);
//! let odd = |doc: usize| doc % 2 == 1;
//! let hits = index.search(&[0.9, 0.1], 1, Some(&odd))?;
//! assert_eq!(hits[0].doc, 1);
//! # Ok::<(), pairwise_index::IndexError>(())
//! ```

mod error;
mod hit;
mod persist;
mod vector;

pub use error::{IndexError, Result};
pub use hit::{DocIndex, Hit, Score};
pub use vector::{
    AnyVectorIndex, Distance, DocFilter, FlatIndex, HnswConfig, HnswIndex, VectorIndex,
    VectorIndexConfig, MAX_EF, MAX_ELEMENTS_HINT, MAX_M, MIN_M,
};
