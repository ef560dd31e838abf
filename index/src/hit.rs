//! Search results.

use serde::Serialize;

/// Position of a vector in an index, in insertion order.
pub type DocIndex = usize;

/// A similarity score: higher is more similar, whatever the distance.
pub type Score = f32;

/// One search result.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Hit {
    /// The document's position.
    pub doc: DocIndex,
    /// Its similarity to the query.
    pub score: Score,
}
