//! The index's error type.

use std::path::PathBuf;

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
    /// A keyword query that is empty or only whitespace.
    #[error("the query is empty")]
    EmptyQuery,
    /// Reading or writing an index file failed (the message names the path).
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// An index manifest that is not valid JSON for its type.
    #[error("invalid index manifest {path}: {source}")]
    Manifest {
        /// The manifest file.
        path: PathBuf,
        /// What the parser found.
        source: serde_json::Error,
    },
    /// An index on disk that this version cannot read.
    #[error("incompatible index at {path}: {reason}")]
    Incompatible {
        /// The index directory.
        path: PathBuf,
        /// What differs from what this version expects.
        reason: String,
    },
    /// Stored data that breaks an invariant of the index.
    #[error("corrupt index: {0}")]
    Corrupt(String),
    /// The keyword engine failed; the source is the engine's own error.
    #[error("text index: {0}")]
    Tantivy(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl IndexError {
    /// Wraps a tantivy error without making tantivy part of our public API.
    pub(crate) fn tantivy(error: tantivy::TantivyError) -> Self {
        Self::Tantivy(Box::new(error))
    }
}

/// The index's result type.
pub type Result<T, E = IndexError> = std::result::Result<T, E>;
