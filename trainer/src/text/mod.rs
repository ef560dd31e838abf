//! Text preparation: tokenization into padded id batches.

mod tokenizer;

pub use tokenizer::{TextTokenizer, TokenBatch, TokenizedText};
