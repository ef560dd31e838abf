//! The experiment file of `pairwise train`: typed, with defaults, unknown keys rejected.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Result, TrainError};
use crate::losses::LossConfig;
use crate::optim::AdamWConfig;

/// A whole training run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    /// Which trainer reads this file; always `text` here (see [`TaskKind`]).
    pub task: TaskKind,
    /// The model to start from.
    pub model: ModelConfig,
    /// The training examples.
    pub data: DataConfig,
    /// The objective.
    pub loss: LossConfig,
    /// The optimiser.
    pub optim: AdamWConfig,
    /// Steps, batches and schedule.
    pub schedule: ScheduleSettings,
    /// The run folder: `model/` (sentence-transformers format), `metrics.jsonl`,
    /// `pairwise_training.json`.
    pub output: PathBuf,
}

/// The kinds of training run that `pairwise train` knows, named by the top-level `task` key of
/// the experiment file (`text` when absent). Each kind has its own configuration type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    /// A sentence encoder trained on text pairs or triplets ([`TrainConfig`]).
    #[default]
    Text,
    /// A face embedder trained with a margin head ([`FacesConfig`](crate::faces::FacesConfig)).
    Faces,
}

impl TaskKind {
    /// Reads only the `task` key of an experiment file, so that the right configuration type can
    /// then parse the whole file.
    ///
    /// # Errors
    /// [`TrainError::BadConfig`] when the file is not TOML or names an unknown task.
    pub fn of_file(path: &Path) -> Result<Self> {
        #[derive(Deserialize)]
        struct Peek {
            #[serde(default)]
            task: TaskKind,
        }
        let text = fs_err::read_to_string(path)?;
        let peek: Peek = toml::from_str(&text).map_err(|e| TrainError::BadConfig {
            path: path.to_path_buf(),
            reason: e.to_string().trim().replace('\n', " "),
        })?;
        Ok(peek.task)
    }
}

/// The starting model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelConfig {
    /// A sentence-transformers model folder.
    pub base: PathBuf,
    /// Maximum tokens per text while training.
    pub max_length: usize,
}

/// Where training examples come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum DataConfig {
    /// (query, relevant document) pairs from a BEIR data set's qrels.
    Beir {
        /// The BEIR folder.
        path: PathBuf,
        /// The qrels split to train on.
        split: String,
    },
    /// A JSONL file of pairs or triplets.
    Jsonl {
        /// The file.
        path: PathBuf,
    },
    /// (premise, entailment, contradiction) triplets from SNLI.
    Nli {
        /// The folder holding s1.*, s2.*, labels.*.
        path: PathBuf,
        /// `dev` or `test`.
        split: String,
    },
}

/// Steps, batches and the learning-rate schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScheduleSettings {
    /// Examples per step.
    pub batch_size: usize,
    /// Passes over the data.
    pub epochs: usize,
    /// Stop after this many steps, when set (for short runs).
    pub max_steps: Option<u64>,
    /// Fraction of the steps spent warming the learning rate up linearly.
    pub warmup_ratio: f64,
    /// Clip the global gradient norm to this.
    pub max_grad_norm: f64,
    /// Seed of the sampler, the dropout and the initialisation.
    pub seed: u64,
    /// Write a metrics line every this many steps.
    pub log_every_steps: u64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            task: TaskKind::Text,
            model: ModelConfig::default(),
            data: DataConfig::Beir {
                path: PathBuf::from("../shared/data/scifact"),
                split: "train".to_owned(),
            },
            loss: LossConfig::default(),
            optim: AdamWConfig::default(),
            schedule: ScheduleSettings::default(),
            output: PathBuf::from("runs/default"),
        }
    }
}

impl Default for ModelConfig {
    fn default() -> Self {
        Self {
            base: PathBuf::from("models/all-MiniLM-L6-v2"),
            max_length: 128,
        }
    }
}

impl Default for DataConfig {
    fn default() -> Self {
        Self::Beir {
            path: PathBuf::from("../shared/data/scifact"),
            split: "train".to_owned(),
        }
    }
}

impl Default for ScheduleSettings {
    fn default() -> Self {
        Self {
            batch_size: 32,
            epochs: 1,
            max_steps: None,
            warmup_ratio: 0.1,
            max_grad_norm: 1.0,
            seed: 42,
            log_every_steps: 10,
        }
    }
}

impl TrainConfig {
    /// Reads a TOML experiment file.
    ///
    /// # Errors
    /// [`TrainError::BadConfig`] naming the file, with the parser's line and key for typos.
    pub fn load(path: &Path) -> Result<Self> {
        let text = fs_err::read_to_string(path)?;
        let config: Self = toml::from_str(&text).map_err(|e| TrainError::BadConfig {
            path: path.to_path_buf(),
            reason: e.to_string().trim().replace('\n', " "),
        })?;
        config.validate().map_err(|reason| TrainError::BadConfig {
            path: path.to_path_buf(),
            reason,
        })?;
        Ok(config)
    }

    /// Checks values that serde cannot.
    ///
    /// # Errors
    /// A message naming the offending key.
    pub fn validate(&self) -> std::result::Result<(), String> {
        let s = &self.schedule;
        if s.batch_size < 2 {
            return Err("schedule.batch_size must be at least 2 (in-batch negatives)".to_owned());
        }
        if s.epochs == 0 {
            return Err("schedule.epochs must be at least 1".to_owned());
        }
        if !(0.0..1.0).contains(&s.warmup_ratio) {
            return Err(format!(
                "schedule.warmup_ratio must lie in [0, 1), got {}",
                s.warmup_ratio
            ));
        }
        if s.max_grad_norm.is_nan() || s.max_grad_norm <= 0.0 {
            return Err(format!(
                "schedule.max_grad_norm must be positive, got {}",
                s.max_grad_norm
            ));
        }
        if self.model.max_length < 8 {
            return Err("model.max_length must be at least 8".to_owned());
        }
        self.optim.validate().map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_file_parses_and_a_typo_is_named() {
        let text = r#"
            output = "runs/x"
            [model]
            base = "models/m"
            max_length = 64
            [data]
            kind = "beir"
            path = "data/scifact"
            split = "train"
            [loss]
            type = "mw"
            [schedule]
            batch_size = 16
            max_steps = 10
        "#;
        let config: TrainConfig = toml::from_str(text).unwrap();
        assert_eq!(config.schedule.batch_size, 16);
        assert_eq!(config.model.max_length, 64);
        let typo = text.replace("batch_size", "batch_sise");
        let err = toml::from_str::<TrainConfig>(&typo)
            .unwrap_err()
            .to_string();
        assert!(err.contains("batch_sise"), "{err}");
    }

    #[test]
    fn out_of_range_values_are_rejected() {
        let mut config = TrainConfig::default();
        config.schedule.batch_size = 1;
        assert!(config.validate().unwrap_err().contains("batch_size"));
        let mut config = TrainConfig::default();
        config.schedule.warmup_ratio = 1.5;
        assert!(config.validate().unwrap_err().contains("warmup_ratio"));
    }
}
