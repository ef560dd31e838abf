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
    /// An IO failure; `fs_err` puts the path in the message.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// A file whose bytes are not what we wrote: bad magic, a bad checksum before valid data, a
    /// broken structure. Never skipped silently.
    #[error("{} is corrupt{}: {reason}", .path.display(), at_offset(*.offset))]
    Corrupt {
        /// The file (or folder).
        path: PathBuf,
        /// The byte offset of the damage, where one is known.
        offset: Option<u64>,
        /// What is wrong.
        reason: String,
    },
    /// A file written by a newer (or unknown) format version.
    #[error("{} has format version {found}; this build reads version {supported}", .path.display())]
    UnsupportedVersion {
        /// The file.
        path: PathBuf,
        /// The version in the file.
        found: u32,
        /// The version this build reads and writes.
        supported: u32,
    },
    /// A JSON file that does not parse as the expected structure.
    #[error("{} is not valid: {source}", .path.display())]
    InvalidJson {
        /// The file.
        path: PathBuf,
        /// The parser's error (with line and column).
        #[source]
        source: serde_json::Error,
    },
    /// A log record (or a whole batch) over the size limit.
    #[error("{what} of {bytes} bytes is over the limit of {max} bytes")]
    TooLarge {
        /// `"record"` or `"batch"`.
        what: &'static str,
        /// Its size.
        bytes: u64,
        /// The limit.
        max: u64,
    },
    /// A write-ahead log that failed a write or fsync: its on-disk state is unknown until it is
    /// reopened (which replays what did reach the disk).
    #[error("write-ahead log {} failed an earlier write; reopen it", .path.display())]
    WalPoisoned {
        /// The log file.
        path: PathBuf,
    },
    /// A keyword query that is empty or only whitespace.
    #[error("the query is empty")]
    EmptyQuery,
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
    BrokenInvariant(String),
    /// The keyword engine failed; the source is the engine's own error.
    #[error("text index: {0}")]
    Tantivy(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A metadata filter that does not parse.
    #[error("invalid filter: {0}")]
    InvalidFilter(String),
    /// A document that cannot be stored.
    #[error("document {id:?}: {reason}")]
    InvalidDocument {
        /// The document's id.
        id: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A search request that cannot be answered.
    #[error("invalid query: {0}")]
    InvalidQuery(String),
    /// A folder that already holds a collection.
    #[error("{} already holds a collection", .0.display())]
    AlreadyExists(PathBuf),
    /// A collection that another process (or handle) has open.
    #[error("{} is open elsewhere (its LOCK is held)", .0.display())]
    Locked(PathBuf),
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
    /// A value that could not be serialised to JSON.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// An error reported by the `hnsw_rs` graph library.
    #[error("hnsw graph: {0}")]
    Hnsw(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A folder that holds no collection.
    #[error("{} holds no collection", .0.display())]
    NotFound(PathBuf),
}

impl IndexError {
    /// Wraps a tantivy error without making tantivy part of our public API.
    pub(crate) fn tantivy(error: tantivy::TantivyError) -> Self {
        Self::Tantivy(Box::new(error))
    }
}

/// `" at byte N"`, or nothing when the offset is unknown.
fn at_offset(offset: Option<u64>) -> String {
    offset.map_or_else(String::new, |o| format!(" at byte {o}"))
}

/// The index's result type.
pub type Result<T, E = IndexError> = std::result::Result<T, E>;
