//! Vector indexes and distances: exact ([`FlatIndex`]) and approximate ([`HnswIndex`]) search
//! behind one [`VectorIndex`] trait.

mod base;
mod distance;
mod flat;
mod hardware;
mod hnsw;

pub use base::{AnyVectorIndex, DocFilter, VectorIndex, VectorIndexConfig};
pub use distance::Distance;
pub use flat::FlatIndex;
pub use hnsw::{HnswConfig, HnswEngine, HnswIndex, MAX_EF, MAX_ELEMENTS_HINT, MAX_M, MIN_M};
