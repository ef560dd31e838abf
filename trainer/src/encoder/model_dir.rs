//! The sentence-transformers model folder format.
//!
//! ```text
//! config.json                 BERT config (Hugging Face)
//! model.safetensors           weights, BertModel names
//! tokenizer.json              Hugging Face tokenizer
//! modules.json                module list (Transformer, Pooling, Normalize)   optional
//! sentence_bert_config.json   {"max_seq_length": 256, …}                       optional
//! 1_Pooling/config.json       pooling mode                                     optional (mean)
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Result, TrainError};
use crate::models::{BertConfig, Pooling};

/// The maximum sequence length used when neither the caller nor the model folder sets one.
pub const DEFAULT_MAX_LENGTH: usize = 256;

/// A validated model folder: every required file exists and every config parses.
#[derive(Debug, Clone)]
pub struct ModelDir {
    /// The folder.
    pub root: PathBuf,
    /// The transformer config.
    pub config: BertConfig,
    /// How token states are pooled.
    pub pooling: Pooling,
    /// Whether embeddings are L2-normalised (a `Normalize` module, or no `modules.json`).
    pub normalize: bool,
    /// `max_seq_length` from `sentence_bert_config.json`, when present.
    pub max_seq_length: Option<usize>,
}

#[derive(Debug, Deserialize)]
struct ModuleEntry {
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Debug, Deserialize)]
struct SentenceBertConfig {
    max_seq_length: Option<usize>,
}

impl ModelDir {
    /// Opens and validates a model folder.
    ///
    /// # Errors
    /// [`TrainError::MissingFile`] naming the first missing required file;
    /// [`TrainError::BadConfig`] naming a file that does not parse.
    pub fn open(root: &Path) -> Result<Self> {
        if !root.is_dir() {
            return Err(TrainError::MissingFile {
                path: root.to_path_buf(),
                what: "model folder",
            });
        }
        for (file, what) in [
            ("config.json", "model config"),
            ("model.safetensors", "model weights"),
            ("tokenizer.json", "tokenizer"),
        ] {
            let path = root.join(file);
            if !path.is_file() {
                return Err(TrainError::MissingFile { path, what });
            }
        }
        let config = BertConfig::load(&root.join("config.json"))?;
        let pooling_path = root.join("1_Pooling").join("config.json");
        let pooling = if pooling_path.is_file() {
            Pooling::load(&pooling_path)?
        } else {
            Pooling::Mean
        };
        let normalize = match read_json::<Vec<ModuleEntry>>(&root.join("modules.json"))? {
            Some(modules) => modules.iter().any(|m| m.kind.ends_with(".Normalize")),
            None => true,
        };
        let max_seq_length =
            read_json::<SentenceBertConfig>(&root.join("sentence_bert_config.json"))?
                .and_then(|c| c.max_seq_length);
        Ok(Self {
            root: root.to_path_buf(),
            config,
            pooling,
            normalize,
            max_seq_length,
        })
    }

    /// Path of the weights file.
    pub fn weights_path(&self) -> PathBuf {
        self.root.join("model.safetensors")
    }

    /// Path of the tokenizer file.
    pub fn tokenizer_path(&self) -> PathBuf {
        self.root.join("tokenizer.json")
    }
}

/// Reads an optional JSON file: `Ok(None)` when it does not exist.
fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>> {
    if !path.is_file() {
        return Ok(None);
    }
    let text = fs_err::read_to_string(path)?;
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| TrainError::BadConfig {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })
}
