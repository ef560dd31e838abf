//! The index's error type.

use std::path::PathBuf;

use crate::hit::DocIndex;

/// Everything that can go wrong in an index.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// A vector of the wrong width.
    #[error("vector has dimension {got}, the index expects {expected}")]
    DimMismatch {
        /// The index's dimension.
        expected: usize,
        /// The vector's dimension.
        got: usize,
    },
    /// A vector holding NaN or an infinity.
    #[error("vector component {position} is not finite ({value})")]
    NonFinite {
        /// The first offending component.
        position: usize,
        /// Its value.
        value: f32,
    },
    /// A parameter out of range.
    #[error("invalid parameter: {0}")]
    InvalidParameter(String),
    /// A batch whose document positions are not exactly the next free ones.
    #[error(
        "document {doc} is out of sequence: the batch must hold each position in \
         {start}..{end} exactly once"
    )]
    DocOutOfSequence {
        /// The offending position (the first repeated or out-of-range one).
        doc: DocIndex,
        /// The first free position (the index's length before the batch).
        start: DocIndex,
        /// One past the last position the batch may use.
        end: DocIndex,
    },
    /// An on-disk index that is truncated, altered or not an index at all.
    #[error("corrupt index file {}: {reason}", path.display())]
    Corrupt {
        /// The offending file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A failed read or write (the message names the file).
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// A manifest that could not be serialised.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// An error reported by the `hnsw_rs` graph library.
    #[error("hnsw graph: {0}")]
    Hnsw(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The index's result type.
pub type Result<T, E = IndexError> = std::result::Result<T, E>;
