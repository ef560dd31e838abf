//! Durable named collections: documents with text, metadata and vectors, searchable by vector,
//! by keywords or both, with every acknowledged write surviving a crash.

mod config;
mod document;
mod filter;
mod generation;
mod op;
mod search;
mod store;

pub use config::CollectionConfig;
pub use document::{validate_batch, Document, MAX_ID_BYTES};
pub use filter::{Condition, Filter};
pub use search::{Fusion, SearchHit, SearchMode, SearchRequest};
pub use store::{Collection, OpenReport};

#[cfg(test)]
mod tests;
