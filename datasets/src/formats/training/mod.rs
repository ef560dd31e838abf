//! Training data as [`crate::TrainingExample`]s: (query, positive[, hard
//! negatives…]) records.
//!
//! * `retrieval`: (query, relevant document) pairs from a BEIR split.
//! * `triplets_jsonl`: JSONL pair/triplet files (named fields or
//!   sentence-transformers style `texts` arrays).
//! * `nli`: (premise, entailment, contradiction) triplets from SNLI-style
//!   line-aligned `s1`/`s2`/`labels` files.

mod nli;
mod retrieval;
mod triplets_jsonl;

pub use nli::read_nli_triplets;
pub use retrieval::{beir_training_examples, beir_training_pairs};
pub use triplets_jsonl::read_training_jsonl;
