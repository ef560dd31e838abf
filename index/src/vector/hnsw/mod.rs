//! Approximate search on an HNSW graph built by `hnsw_rs`, whose types stay inside
//! `graph.rs`.

mod config;
mod graph;
mod index;
mod persist;
#[cfg(test)]
mod tests;

pub use config::{HnswConfig, MAX_EF, MAX_ELEMENTS_HINT, MAX_M, MIN_M};
pub use index::HnswIndex;
