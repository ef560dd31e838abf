//! Seeded batch samplers over training examples.
//!
//! * `no_duplicates`: [`NoDuplicatesBatchSampler`], batches in which no text
//!   appears in two different examples (needed by in-batch-negative losses,
//!   where a repeated text would be a false negative).
//! * `episodic`: [`EpisodicSampler`], seeded N-way K-shot Q-query episodes for few-shot
//!   learning.
//! * `class_balanced`: [`ClassBalancedBatchSampler`], P×K batches (P classes,
//!   K items each) over labelled items such as face images.

mod class_balanced;
mod episodic;
mod no_duplicates;

pub use class_balanced::{ClassBalancedBatchSampler, SmallClassPolicy};
pub use episodic::{Episode, EpisodeError, EpisodeShape, EpisodicSampler};
pub use no_duplicates::{NoDuplicatesBatchSampler, SamplerError};
