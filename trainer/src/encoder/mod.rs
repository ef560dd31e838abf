//! Sentence encoders: a transformer, pooling and normalisation behind one `encode` call.

mod embeddings;
mod model_dir;
mod sentence;

pub use embeddings::Embeddings;
pub use model_dir::{ModelDir, DEFAULT_MAX_LENGTH};
pub use sentence::{EncoderOptions, SentenceEncoder};
