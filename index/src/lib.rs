//! Search over embeddings and text.
//!
//! * Vector search: the exact [`FlatIndex`], both the search of small collections and the
//!   ground truth for approximate indexes.
//! * Hybrid search: [`rrf`] and [`weighted_fusion`] merge ranked lists.
//!
//! ```
//! use pairwise_index::{Distance, FlatIndex};
//!
//! let mut index = FlatIndex::new(2, Distance::Cosine)?;
//! index.add(&[1.0, 0.0])?;
//! index.add(&[0.0, 1.0])?;
//! let hits = index.search(&[0.9, 0.1], 1)?;
//! assert_eq!(hits[0].doc, 0);
//! # Ok::<(), pairwise_index::IndexError>(())
//! ```

mod error;
mod fusion;
mod hit;
mod vector;

pub use error::{IndexError, Result};
pub use fusion::{rrf, weighted_fusion, DEFAULT_RRF_K};
pub use hit::{DocIndex, Hit, Score};
pub use vector::{Distance, FlatIndex};
