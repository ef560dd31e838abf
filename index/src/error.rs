//! The index's error type.

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
}

/// The index's result type.
pub type Result<T, E = IndexError> = std::result::Result<T, E>;
