//! Approximate search on an HNSW graph: our own (`native/`) or `hnsw_rs`'s, whose types stay
//! inside `graph.rs` (a name its saved dumps record, see there); `engine.rs` puts both behind
//! one interface.

mod config;
mod engine;
mod graph;
mod index;
mod native;
mod persist;
#[cfg(test)]
mod tests;

pub use config::{HnswConfig, HnswEngine, MAX_EF, MAX_ELEMENTS_HINT, MAX_M, MIN_M};
pub use index::HnswIndex;
