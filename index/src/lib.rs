//! Search over embeddings and text, and the durable collections that hold them.
//!
//! * [`Collection`]: documents (id, text, title, JSON metadata, vector) behind a write-ahead
//!   log and atomic snapshots, searchable by vector, keywords or both, with metadata
//!   [`Filter`]s.
//! * Vector search behind one [`VectorIndex`] trait: the exact [`FlatIndex`] (small
//!   collections, and the ground truth) and the approximate [`HnswIndex`];
//!   [`VectorIndexConfig`] picks one as an [`AnyVectorIndex`].
//! * Keyword search: [`Bm25Index`], BM25 over titles and bodies on tantivy, with a
//!   configurable [`Analyzer`].
//! * Hybrid search: [`rrf`] and [`weighted_fusion`] merge ranked lists.
//! * [`persist`]: the write-ahead log, atomic files, snapshot generations and the manifest.
//!
//! ```
//! use pairwise_index::{rrf, Bm25Config, Bm25Index, Distance, FlatIndex, TextDoc, DEFAULT_RRF_K};
//!
//! let mut vectors = FlatIndex::new(2, Distance::Cosine)?;
//! vectors.add(&[1.0, 0.0])?;
//! vectors.add(&[0.0, 1.0])?;
//! let dense = vectors.search(&[0.9, 0.1], 2)?;
//! assert_eq!(dense[0].doc, 0);
//!
//! let mut text = Bm25Index::create_in_ram(Bm25Config::default())?;
//! text.add(&[
//!     TextDoc { doc: 0, id: "d0", title: None, text: "vitamin D and bone density" },
//!     TextDoc { doc: 1, id: "d1", title: None, text: "bones grow denser with exercise" },
//! ])?;
//! text.commit()?;
//! let keyword = text.search("exercise and bone", 2, None)?;
//! assert_eq!(keyword[0].doc, 1);
//!
//! let fused = rrf(&[dense, keyword], DEFAULT_RRF_K, 2)?;
//! assert_eq!(fused.len(), 2);
//! # Ok::<(), pairwise_index::IndexError>(())
//! ```

mod collection;
mod error;
mod fusion;
mod hit;
pub mod persist;
mod text;
mod vector;

pub use collection::{
    validate_batch, Collection, CollectionConfig, Condition, Document, Filter, Fusion, OpenReport,
    SearchHit, SearchMode, SearchRequest, SearchTimings, MAX_ID_BYTES,
};
pub use error::{IndexError, Result};
pub use fusion::{rrf, weighted_fusion, DEFAULT_RRF_K};
pub use hit::{DocIndex, Hit, Score};
pub use text::{Analyzer, Bm25Config, Bm25Index, QuerySyntax, TextDoc, BM25_MANIFEST_FILE};
pub use vector::{
    AnyVectorIndex, Distance, DocFilter, FlatIndex, HnswConfig, HnswEngine, HnswIndex, VectorIndex,
    VectorIndexConfig, MAX_EF, MAX_ELEMENTS_HINT, MAX_M, MIN_M,
};
