//! The experiment file of a face run (`task = "faces"`): typed, with defaults, unknown keys
//! rejected.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Result, TrainError};
use crate::faces::FaceBackboneConfig;
use crate::losses::{MarginHeadConfig, UnpgConfig};
use crate::optim::AdamWConfig;
use crate::train::{bad_config, check_schedule, parse_experiment, TaskKind};

/// A whole face-recognition training run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FacesConfig {
    /// Always `faces` (see [`TaskKind`]).
    pub task: TaskKind,
    /// The run folder: `model/` (`model.safetensors` + `face_model.json`), `metrics.jsonl`,
    /// `pairwise_training.json`, and `eval_pairs.tsv` when identities are held out.
    pub output: PathBuf,
    /// The training images.
    pub data: FaceDataConfig,
    /// The backbone (`type = "iresnet"`, the default, or `"efficientnet_lite0"`); its
    /// `input_size` and `in_channels` also fix how images are decoded.
    pub model: FaceBackboneConfig,
    /// The margin head (ArcFace or CosFace).
    pub head: MarginHeadConfig,
    /// UNPG on top of the head, when present.
    pub unpg: Option<UnpgConfig>,
    /// The optimiser.
    pub optim: AdamWConfig,
    /// Batches, steps and schedule.
    pub schedule: FaceSchedule,
}

/// One class-per-folder image set (one folder per identity).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaceSource {
    /// The folder holding one sub-folder per identity.
    pub images: PathBuf,
    /// Centre crop `[width, height]` before resizing (e.g. the face in 250×250 LFW images).
    #[serde(default)]
    pub center_crop: Option<[u32; 2]>,
    /// Identities of this set kept out of training; all pairs of their images are written to
    /// `eval_pairs.tsv` (paths relative to `images`) for `pairwise eval verify`.
    #[serde(default)]
    pub held_out: Vec<String>,
}

/// Where the training images come from.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaceDataConfig {
    /// The image sets; their identities are kept apart (labels never merge across sets).
    pub sources: Vec<FaceSource>,
    /// Pair files (any format of `read_face_pairs`) whose identities are excluded from
    /// training in every source, so that training never sees an evaluation identity.
    pub exclude_pairs: Vec<PathBuf>,
}

/// Batches and schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaceSchedule {
    /// `P`: identities per batch.
    pub classes_per_batch: usize,
    /// `K`: images per identity in a batch; identities with fewer images are left out.
    pub images_per_class: usize,
    /// Passes over the data.
    pub epochs: usize,
    /// Stop after this many steps, when set (0 saves the untrained network, a baseline).
    pub max_steps: Option<u64>,
    /// Fraction of the steps spent warming the learning rate up linearly.
    pub warmup_ratio: f64,
    /// Clip the global gradient norm to this.
    pub max_grad_norm: f64,
    /// Flip each training image horizontally with probability 1/2.
    pub random_flip: bool,
    /// Seed of the sampler, the augmentation and the initialisation.
    pub seed: u64,
    /// Write a metrics line every this many steps.
    pub log_every_steps: u64,
}

impl Default for FacesConfig {
    fn default() -> Self {
        Self {
            task: TaskKind::Faces,
            output: PathBuf::from("runs/faces"),
            data: FaceDataConfig::default(),
            model: FaceBackboneConfig::default(),
            head: MarginHeadConfig::default(),
            unpg: None,
            optim: AdamWConfig {
                lr: 1e-3,
                weight_decay: 5e-4,
                no_decay: ["bias", "bn", "prelu", "features"]
                    .map(str::to_owned)
                    .to_vec(),
                ..AdamWConfig::default()
            },
            schedule: FaceSchedule::default(),
        }
    }
}

impl Default for FaceSchedule {
    fn default() -> Self {
        Self {
            classes_per_batch: 16,
            images_per_class: 4,
            epochs: 10,
            max_steps: None,
            warmup_ratio: 0.05,
            max_grad_norm: 5.0,
            random_flip: true,
            seed: 42,
            log_every_steps: 10,
        }
    }
}

impl FacesConfig {
    /// Reads a TOML experiment file.
    ///
    /// # Errors
    /// [`TrainError::BadConfig`] naming the file, with the parser's line and key for typos.
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
    /// [`TrainError::InvalidInput`] naming the offending key.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(TrainError::InvalidInput(m));
        if self.task != TaskKind::Faces {
            return bad("task must be \"faces\"".to_owned());
        }
        if self.data.sources.is_empty() {
            return bad("data.sources must name at least one image folder".to_owned());
        }
        if self
            .data
            .sources
            .iter()
            .filter(|s| !s.held_out.is_empty())
            .count()
            > 1
        {
            return bad("only one data source may hold identities out".to_owned());
        }
        let s = &self.schedule;
        if s.classes_per_batch < 2 || s.images_per_class < 1 {
            return bad("schedule: classes_per_batch must be >= 2, images_per_class >= 1".into());
        }
        if let Err(reason) = check_schedule(s.epochs, s.warmup_ratio, s.max_grad_norm) {
            return bad(reason);
        }
        self.model.validate()?;
        self.head.validate()?;
        if let Some(unpg) = self.unpg {
            crate::losses::Unpg::new(self.head, unpg)?;
        }
        self.optim.validate().map_err(TrainError::InvalidInput)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"
        task = "faces"
        output = "runs/x"
        [data]
        sources = [{ images = "orl", held_out = ["s31"] }, { images = "lfw", center_crop = [120, 120] }]
        exclude_pairs = ["pairs.tsv"]
        [model]
        input_size = [32, 32]
        widths = [8, 16]
        blocks = [1, 1]
        [head]
        type = "cosface"
        margin = 0.4
        [unpg]
        whisker = 1.0
        [schedule]
        classes_per_batch = 8
        images_per_class = 2
    "#;

    #[test]
    fn a_full_file_parses_and_a_typo_is_named() {
        let config: FacesConfig = toml::from_str(FILE).unwrap();
        config.validate().unwrap();
        assert_eq!(config.data.sources[1].center_crop, Some([120, 120]));
        assert_eq!(config.unpg, Some(UnpgConfig { whisker: 1.0 }));
        assert!(matches!(config.head, MarginHeadConfig::CosFace(c) if c.margin == 0.4));
        let typo = FILE.replace("whisker", "wisker");
        let err = toml::from_str::<FacesConfig>(&typo)
            .unwrap_err()
            .to_string();
        assert!(err.contains("wisker"), "{err}");
        let arc_typo = FILE.replace("cosface", "arc_face");
        assert!(toml::from_str::<FacesConfig>(&arc_typo).is_err());
    }

    #[test]
    fn out_of_range_values_are_rejected() {
        let mut config: FacesConfig = toml::from_str(FILE).unwrap();
        config.schedule.classes_per_batch = 1;
        assert!(config.validate().is_err());
        let mut config: FacesConfig = toml::from_str(FILE).unwrap();
        config.data.sources.clear();
        assert!(config.validate().is_err());
        let mut config: FacesConfig = toml::from_str(FILE).unwrap();
        config.unpg = Some(UnpgConfig { whisker: -1.0 });
        assert!(config.validate().is_err());
    }
}
