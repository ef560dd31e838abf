//! Seeded batch samplers over training examples.
//!
//! * `no_duplicates`: [`NoDuplicatesBatchSampler`], batches in which no text
//!   appears in two different examples (needed by in-batch-negative losses,
//!   where a repeated text would be a false negative).
//! * `class_balanced`: [`ClassBalancedBatchSampler`], P×K batches (P classes,
//!   K items each) over labelled items such as face images.

mod class_balanced;
mod no_duplicates;

pub use class_balanced::{ClassBalancedBatchSampler, SmallClassPolicy};
pub use no_duplicates::{NoDuplicatesBatchSampler, SamplerError};
