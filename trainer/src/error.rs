//! The trainer's error type.

use std::path::PathBuf;

/// Everything that can go wrong while loading, running or training a model.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// A file could not be read or written.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// A required file of a model folder is missing.
    #[error("{path}: missing {what}")]
    MissingFile {
        /// The path that was looked for.
        path: PathBuf,
        /// What the file is for, e.g. "model weights".
        what: &'static str,
    },
    /// A configuration file could not be parsed or holds an unusable value.
    #[error("{path}: {reason}")]
    BadConfig {
        /// The file.
        path: PathBuf,
        /// Why it was rejected.
        reason: String,
    },
    /// A weights file does not match the architecture built from the config.
    #[error("{path}: {reason}")]
    BadWeights {
        /// The weights file.
        path: PathBuf,
        /// What does not match.
        reason: String,
    },
    /// The tokenizer failed to load or to encode.
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    /// A device name could not be parsed or the device is not available.
    #[error("device: {0}")]
    Device(String),
    /// Input that cannot be encoded (e.g. an empty batch).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// Training produced a NaN or infinite loss or gradient; the model was not saved and the
    /// last checkpoint (if any) was left as it was.
    #[error("step {step}: the loss ({loss}) or gradient norm ({grad_norm}) is not finite; training stopped without saving the model ({kept}); lower the learning rate or raise the temperature")]
    NonFiniteLoss {
        /// The step that failed.
        step: u64,
        /// Its loss.
        loss: f64,
        /// Its gradient norm.
        grad_norm: f64,
        /// What was kept, e.g. "the last good checkpoint, step 40, is in runs/x/checkpoint".
        kept: String,
    },
    /// A checkpoint cannot be resumed with this configuration or model.
    #[error("checkpoint {path}: {reason}")]
    BadCheckpoint {
        /// The checkpoint folder.
        path: PathBuf,
        /// Why it was rejected.
        reason: String,
    },
    /// A data set could not be read.
    #[error(transparent)]
    Data(#[from] pairwise_datasets::DatasetError),
    /// Building or searching an index (mining, dev evaluation) failed.
    #[error(transparent)]
    Index(#[from] pairwise_index::IndexError),
    /// A metric could not be computed.
    #[error(transparent)]
    Eval(#[from] pairwise_eval::EvalError),
    /// An error raised by libtorch.
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
}

/// The trainer's result type.
pub type Result<T, E = TrainError> = std::result::Result<T, E>;
