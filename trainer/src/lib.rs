//! The libtorch half of pairwise: model architectures, tokenization, sentence encoders and
//! face embedders.
//!
//! ```no_run
//! use pairwise_trainer::{EncoderOptions, SentenceEncoder};
//!
//! let encoder = SentenceEncoder::load("models/all-MiniLM-L6-v2".as_ref(), EncoderOptions::default())?;
//! let embeddings = encoder.encode(&["A man is eating food."])?;
//! assert_eq!(embeddings.dim(), 384);
//! # Ok::<(), pairwise_trainer::TrainError>(())
//! ```

mod device;
pub mod encoder;
mod error;
pub mod faces;
pub mod fewshot;
pub mod losses;
pub mod models;
pub mod optim;
pub mod text;
pub mod train;

pub use device::{DeviceChoice, Precision};
pub use encoder::{Embeddings, EncoderOptions, ModelDir, SentenceEncoder};
pub use error::{Result, TrainError};
pub use losses::{EmbeddingBatch, EmbeddingLoss, LossConfig, Reduction};
pub use optim::{clip_grad_norm, AdamW, AdamWConfig, LrSchedule, ScheduleConfig, WarmupLinear};
