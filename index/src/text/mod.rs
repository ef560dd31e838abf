//! Keyword search: BM25 over titles and bodies, on tantivy.
//!
//! tantivy stays behind this module: its schema is built once, in `schema.rs`, and its errors
//! reach callers boxed inside [`IndexError::Tantivy`](crate::IndexError::Tantivy).

mod analyzer;
mod bm25;
mod config;
mod query;
mod schema;
mod top_k;

pub use analyzer::Analyzer;
pub use bm25::{Bm25Index, TextDoc};
pub use config::{Bm25Config, BM25_MANIFEST_FILE};
pub use query::QuerySyntax;
