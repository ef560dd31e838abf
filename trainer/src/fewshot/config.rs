//! The experiment file of a few-shot run: typed, with defaults, unknown keys rejected.

use std::path::{Path, PathBuf};

use pairwise_datasets::images::AugmentConfig;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::losses::{ContrastiveConfig, EpisodeLossConfig};
use crate::models::{Conv4Config, ResNet12Config};
use crate::optim::{AdamWConfig, ScheduleConfig};
use crate::train::{bad_config, parse_experiment, TaskKind};

/// A whole few-shot (or self-supervised image) training run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FewshotConfig {
    /// Always `fewshot` here.
    pub task: TaskKind,
    /// The training images (the Omniglot background alphabets).
    pub data: FewshotData,
    /// The backbone.
    pub model: BackboneConfig,
    /// Episodic or contrastive training.
    pub method: FewshotMethod,
    /// Augmentations applied to every training image (contrastive views need some).
    pub augment: AugmentConfig,
    /// The optimiser (weight decay 0 by default, as Adam in the papers).
    pub optim: AdamWConfig,
    /// The learning-rate schedule over `steps`.
    pub schedule: ScheduleConfig,
    /// Optimisation steps (episodes or batches).
    pub steps: u64,
    /// Clip the global gradient norm to this, when set.
    pub max_grad_norm: Option<f64>,
    /// Seed of the initialisation, the sampler and the augmentations.
    pub seed: u64,
    /// Write a metrics line every this many steps.
    pub log_every_steps: u64,
    /// The run folder: `model/`, `metrics.jsonl`, `pairwise_training.json`.
    pub output: PathBuf,
}

/// Where the images come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FewshotData {
    /// The Omniglot folder (`images_background.npz`).
    pub path: PathBuf,
    /// Side in pixels after resizing.
    pub image_size: usize,
    /// 90° rotations as extra classes.
    pub rotations: bool,
    /// Keep only the first this many characters (quick runs).
    pub max_characters: Option<usize>,
}

/// The embedding network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum BackboneConfig {
    /// [`Conv4`](crate::models::Conv4).
    Conv4(Conv4Config),
    /// [`ResNet12`](crate::models::ResNet12).
    #[serde(rename = "resnet12")]
    ResNet12(ResNet12Config),
}

/// How the backbone is trained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum FewshotMethod {
    /// N-way K-shot Q-query episodes with an episodic loss.
    Episodic {
        /// Classes per training episode.
        ways: usize,
        /// Support images per class.
        shots: usize,
        /// Query images per class.
        queries: usize,
        /// The loss terms.
        #[serde(default)]
        loss: EpisodeLossConfig,
    },
    /// Two augmented views of each image in a batch, with projection heads (SimCLR / AMCL).
    Contrastive {
        /// Images per batch.
        batch_size: usize,
        /// Heads and objective.
        #[serde(default)]
        heads: ContrastiveConfig,
    },
}

impl Default for FewshotConfig {
    fn default() -> Self {
        Self {
            task: TaskKind::Fewshot,
            data: FewshotData::default(),
            model: BackboneConfig::Conv4(Conv4Config::default()),
            method: FewshotMethod::Episodic {
                ways: 20,
                shots: 5,
                queries: 5,
                loss: EpisodeLossConfig::default(),
            },
            augment: AugmentConfig::default(),
            optim: AdamWConfig {
                lr: 1e-3,
                weight_decay: 0.0,
                eps: 1e-8,
                ..AdamWConfig::default()
            },
            schedule: ScheduleConfig::Constant,
            steps: 1000,
            max_grad_norm: None,
            seed: 42,
            log_every_steps: 50,
            output: PathBuf::from("runs/fewshot"),
        }
    }
}

impl Default for FewshotData {
    fn default() -> Self {
        Self {
            path: PathBuf::from("../shared/data/omniglot"),
            image_size: 28,
            rotations: false,
            max_characters: None,
        }
    }
}

impl FewshotConfig {
    /// Reads a TOML experiment file.
    ///
    /// # Errors
    /// [`TrainError::BadConfig`](crate::TrainError::BadConfig) naming the file, with the parser's line and key for typos.
    pub fn load(path: &Path) -> Result<Self> {
        let config: Self = parse_experiment(path)?;
        config
            .validate()
            .map_err(|reason| bad_config(path, &reason))?;
        Ok(config)
    }

    /// Checks values that serde cannot.
    ///
    /// # Errors
    /// A message naming the offending key.
    pub fn validate(&self) -> std::result::Result<(), String> {
        if self.task != TaskKind::Fewshot {
            return Err(format!("task must be \"fewshot\", got {:?}", self.task));
        }
        if self.steps == 0 {
            return Err("steps must be at least 1".to_owned());
        }
        if self.data.image_size < 8 {
            return Err("data.image_size must be at least 8".to_owned());
        }
        if let Some(norm) = self.max_grad_norm {
            if !(norm.is_finite() && norm > 0.0) {
                return Err(format!("max_grad_norm must be positive, got {norm}"));
            }
        }
        match &self.method {
            FewshotMethod::Episodic {
                ways,
                shots,
                queries,
                loss,
            } => {
                if *ways < 2 || *shots < 1 || *queries < 1 {
                    return Err(format!(
                        "method: need ways >= 2, shots >= 1, queries >= 1, got {ways}, {shots}, {queries}"
                    ));
                }
                loss.build().map_err(|e| format!("method.loss: {e}"))?;
            }
            FewshotMethod::Contrastive { batch_size, heads } => {
                if *batch_size < 2 {
                    return Err("method.batch_size must be at least 2".to_owned());
                }
                heads.validate().map_err(|e| format!("method.heads: {e}"))?;
            }
        }
        self.augment
            .validate()
            .map_err(|e| format!("augment: {e}"))?;
        self.schedule
            .validate()
            .map_err(|e| format!("schedule: {e}"))?;
        self.optim.validate().map_err(|e| format!("optim: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::{ContrastiveObjective, EpisodeTerm};

    #[test]
    fn an_episodic_file_parses_and_typos_are_named() {
        let text = r#"
            task = "fewshot"
            steps = 100
            output = "runs/x"
            [data]
            path = "../shared/data/omniglot"
            rotations = true
            [model]
            type = "conv4"
            filters = 32
            [method]
            kind = "episodic"
            ways = 30
            shots = 1
            queries = 15
            [method.loss]
            terms = ["cross", "proto_triplet"]
            [optim]
            lr = 0.001
        "#;
        let config: FewshotConfig = toml::from_str(text).unwrap();
        config.validate().unwrap();
        assert_eq!(
            config.model,
            BackboneConfig::Conv4(Conv4Config {
                filters: 32,
                ..Conv4Config::default()
            })
        );
        assert!(matches!(
            &config.method,
            FewshotMethod::Episodic { ways: 30, loss, .. }
                if loss.terms == vec![EpisodeTerm::Cross, EpisodeTerm::ProtoTriplet]
        ));
        for (from, to) in [
            ("queries", "querys"),
            ("filters", "filter"),
            ("steps", "step"),
        ] {
            let typo = text.replacen(from, to, 1);
            let err = toml::from_str::<FewshotConfig>(&typo)
                .unwrap_err()
                .to_string();
            assert!(err.contains(to), "{err}");
        }
    }

    #[test]
    fn a_contrastive_file_parses() {
        let text = r#"
            task = "fewshot"
            [method]
            kind = "contrastive"
            batch_size = 64
            [method.heads]
            heads = 3
            objective = { type = "amcl", beta = 0.1, tau_min = 0.05, tau_max = 2.0, temperature_hidden = 32 }
            [augment]
            crop_min_scale = 0.5
            max_rotation_deg = 10
        "#;
        let config: FewshotConfig = toml::from_str(text).unwrap();
        config.validate().unwrap();
        assert!(matches!(
            config.method,
            FewshotMethod::Contrastive { heads, .. }
                if heads.heads == 3 && matches!(heads.objective, ContrastiveObjective::Amcl { .. })
        ));
    }

    #[test]
    fn bad_values_are_rejected() {
        let config = FewshotConfig {
            task: TaskKind::Text,
            ..FewshotConfig::default()
        };
        assert!(config.validate().unwrap_err().contains("task"));
        let config = FewshotConfig {
            method: FewshotMethod::Episodic {
                ways: 1,
                shots: 1,
                queries: 1,
                loss: EpisodeLossConfig::default(),
            },
            ..FewshotConfig::default()
        };
        assert!(config.validate().unwrap_err().contains("ways"));
        let config = FewshotConfig {
            steps: 0,
            ..FewshotConfig::default()
        };
        assert!(config.validate().unwrap_err().contains("steps"));
    }
}
