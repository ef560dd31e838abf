//! Seeded batch samplers over training examples.
//!
//! * `no_duplicates`: [`NoDuplicatesBatchSampler`], batches in which no text
//!   appears in two different examples (needed by in-batch-negative losses,
//!   where a repeated text would be a false negative).

mod no_duplicates;

pub use no_duplicates::{NoDuplicatesBatchSampler, SamplerError};
