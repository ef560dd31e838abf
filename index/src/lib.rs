//! Search over embeddings and text.
//!
//! This first slice holds the exact (flat) vector index, which is both the search of small
//! collections and the ground truth for approximate indexes, and [`persist`], the durable
//! storage collections sit on (write-ahead log, atomic snapshots, manifest).
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
mod hit;
pub mod persist;
mod vector;

pub use error::{IndexError, Result};
pub use hit::{DocIndex, Hit, Score};
pub use vector::{Distance, FlatIndex};
