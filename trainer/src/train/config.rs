//! The experiment file of `pairwise train`: typed, with defaults, unknown keys rejected.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
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
    /// Evaluation on a dev split during training, keep-best and early stopping (off when
    /// absent).
    pub eval: Option<EvalSettings>,
    /// Resumable checkpoints (none written when absent).
    pub checkpoint: Option<CheckpointSettings>,
    /// Hard negatives mined before training (`data.kind = "beir"` only; none when absent).
    pub mining: Option<MiningSettings>,
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
    /// An image embedder trained on few-shot episodes or augmented views
    /// ([`FewshotConfig`](crate::fewshot::FewshotConfig)).
    Fewshot,
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
        Ok(parse_experiment::<Peek>(path)?.task)
    }
}

/// Parses a TOML experiment file into any configuration type (text, few-shot, faces).
///
/// # Errors
/// [`TrainError::BadConfig`] naming the file, with the parser's line and key for typos.
pub(crate) fn parse_experiment<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let text = fs_err::read_to_string(path)?;
    toml::from_str(&text).map_err(|e| bad_config(path, &e.to_string().trim().replace('\n', " ")))
}

/// Checks the `[schedule]` values every trainer shares: epochs, warm-up ratio, gradient clip.
///
/// # Errors
/// A message naming the offending key.
pub(crate) fn check_schedule(
    epochs: usize,
    warmup_ratio: f64,
    max_grad_norm: f64,
) -> std::result::Result<(), String> {
    if epochs == 0 {
        return Err("schedule.epochs must be at least 1".to_owned());
    }
    if !(0.0..1.0).contains(&warmup_ratio) {
        return Err(format!(
            "schedule.warmup_ratio must lie in [0, 1), got {warmup_ratio}"
        ));
    }
    if max_grad_norm.is_nan() || max_grad_norm <= 0.0 {
        return Err(format!(
            "schedule.max_grad_norm must be positive, got {max_grad_norm}"
        ));
    }
    Ok(())
}

/// The error of a configuration file that parsed but holds a value out of range.
pub(crate) fn bad_config(path: &Path, reason: &dyn std::fmt::Display) -> TrainError {
    TrainError::BadConfig {
        path: path.to_path_buf(),
        reason: reason.to_string(),
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
    /// One encoder for queries and documents (`shared`, the default) or two (`separate`).
    pub towers: Towers,
}

/// Whether queries and documents go through the same encoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Towers {
    /// One encoder for both (saved as `model/`).
    #[default]
    Shared,
    /// A query encoder and a document encoder, both starting from `model.base` (saved as
    /// `query_model/` and `document_model/`).
    Separate,
}

/// `[eval]`: evaluation on held-out queries every `every_steps` steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EvalSettings {
    /// Evaluate after every this many steps (and after the last step).
    pub every_steps: u64,
    /// The BEIR folder to evaluate on; default: the training data's (`data.kind = "beir"`).
    pub data: Option<PathBuf>,
    /// `held_out` (default): a seeded part of the training split's queries, removed from
    /// training; or the name of a qrels split of `data` (never `test`).
    pub split: String,
    /// With `split = "held_out"`: the fraction of the training queries held out.
    pub held_out_fraction: f64,
    /// With `split = "held_out"`: the seed that picks them (independent of `schedule.seed`, so
    /// every training seed sees the same split).
    pub held_out_seed: u64,
    /// The metric that picks the best model and drives early stopping.
    pub metric: EvalMetric,
    /// Stop after this many evaluations in a row without improvement (never when absent).
    pub patience: Option<u64>,
    /// Evaluate against at most this many documents: every document relevant to a dev query,
    /// then seeded random others (the whole corpus when absent). Cheaper, and easier: metrics
    /// on a capped corpus are higher than on the full one, so use them to compare steps only.
    pub corpus_cap: Option<usize>,
    /// Highest-scoring non-relevant documents per query in the pooled AUC.
    pub auc_negatives: usize,
}

/// The metric that picks the best evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvalMetric {
    /// nDCG@10.
    #[default]
    NdcgAt10,
    /// The pooled retrieval AUC.
    Auc,
}

/// `[checkpoint]`: a resumable checkpoint folder, `<output>/checkpoint/`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CheckpointSettings {
    /// Write the checkpoint after every this many steps, and after the last step.
    pub every_steps: u64,
}

/// `[mining]`: hard negatives for each (query, positive) example of a BEIR split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MiningSettings {
    /// `bm25` (the index crate's BM25 over title and text) or `dense` (exact cosine with the
    /// model as it is when training starts).
    pub method: MiningMethod,
    /// The rank window `[first, last]`, 1-based and inclusive, counted in the query's ranking
    /// after its relevant documents are removed.
    pub ranks: [usize; 2],
    /// Negatives per example, drawn (seeded by `schedule.seed`) from the window.
    pub per_query: usize,
}

/// How hard negatives are found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MiningMethod {
    /// BM25 keyword ranking.
    #[default]
    Bm25,
    /// Exact cosine ranking with the current model.
    Dense,
}

impl Default for EvalSettings {
    fn default() -> Self {
        Self {
            every_steps: 50,
            data: None,
            split: HELD_OUT.to_owned(),
            held_out_fraction: 0.1,
            held_out_seed: 0,
            metric: EvalMetric::NdcgAt10,
            patience: None,
            corpus_cap: None,
            auc_negatives: 500,
        }
    }
}

impl Default for CheckpointSettings {
    fn default() -> Self {
        Self { every_steps: 100 }
    }
}

impl Default for MiningSettings {
    fn default() -> Self {
        Self {
            method: MiningMethod::Bm25,
            ranks: [10, 50],
            per_query: 1,
        }
    }
}

/// The `eval.split` value that carves dev queries out of the training split.
pub const HELD_OUT: &str = "held_out";

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
    /// On CUDA, run the forward pass and the loss under bf16 autocast (weights, gradients and
    /// the optimiser stay f32); `false` trains in f32 throughout. Ignored on the CPU.
    pub bf16_autocast: bool,
    /// On the CPU, run the encoder's matrix products in bf16 (weights, gradients, the optimiser
    /// and everything between the products stay f32): faster on CPUs with bf16 matrix units
    /// (Intel AMX, AVX512-BF16), slower elsewhere. Ignored on CUDA (see `bf16_autocast`). The
    /// `[eval]` runs during training use the same products; the saved model is plain f32.
    pub cpu_bf16_matmul: bool,
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
            eval: None,
            checkpoint: None,
            mining: None,
            output: PathBuf::from("runs/default"),
        }
    }
}

impl Default for ModelConfig {
    fn default() -> Self {
        Self {
            base: PathBuf::from("models/all-MiniLM-L6-v2"),
            max_length: 128,
            towers: Towers::Shared,
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
            bf16_autocast: true,
            cpu_bf16_matmul: false,
        }
    }
}

impl TrainConfig {
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
    /// A message naming the offending key.
    pub fn validate(&self) -> std::result::Result<(), String> {
        let s = &self.schedule;
        if s.batch_size < 2 {
            return Err("schedule.batch_size must be at least 2 (in-batch negatives)".to_owned());
        }
        check_schedule(s.epochs, s.warmup_ratio, s.max_grad_norm)?;
        if self.model.max_length < 8 {
            return Err("model.max_length must be at least 8".to_owned());
        }
        if let Some(eval) = &self.eval {
            self.validate_eval(eval)?;
        }
        if let Some(checkpoint) = &self.checkpoint {
            if checkpoint.every_steps == 0 {
                return Err("checkpoint.every_steps must be at least 1".to_owned());
            }
        }
        if let Some(mining) = &self.mining {
            if !matches!(self.data, DataConfig::Beir { .. }) {
                return Err("mining needs data.kind = \"beir\" (a corpus to mine)".to_owned());
            }
            let [first, last] = mining.ranks;
            if first == 0 || last < first {
                return Err(format!(
                    "mining.ranks must be [first, last] with 1 <= first <= last, got {:?}",
                    mining.ranks
                ));
            }
            if mining.per_query == 0 || mining.per_query > last - first + 1 {
                return Err(format!(
                    "mining.per_query must lie in 1..={} (the window's size), got {}",
                    last - first + 1,
                    mining.per_query
                ));
            }
        }
        self.optim.validate().map_err(|e| e.to_string())
    }

    /// The BEIR folder and split the dev evaluation reads, when `[eval]` is set.
    pub fn eval_source(&self) -> Option<(PathBuf, String)> {
        let eval = self.eval.as_ref()?;
        let data = match (&eval.data, &self.data) {
            (Some(path), _) => path.clone(),
            (None, DataConfig::Beir { path, .. }) => path.clone(),
            (None, _) => return None,
        };
        Some((data, eval.split.clone()))
    }

    fn validate_eval(&self, eval: &EvalSettings) -> std::result::Result<(), String> {
        if eval.every_steps == 0 {
            return Err("eval.every_steps must be at least 1".to_owned());
        }
        if eval.split == "test" {
            return Err(
                "eval.split must not be `test`: the test split is for the final \
                        evaluation only (use `held_out` or a dev split)"
                    .to_owned(),
            );
        }
        if eval.patience == Some(0) {
            return Err("eval.patience must be at least 1".to_owned());
        }
        if eval.corpus_cap == Some(0) {
            return Err("eval.corpus_cap must be at least 1".to_owned());
        }
        let Some((data, split)) = self.eval_source() else {
            return Err("eval.data is required when data.kind is not `beir`".to_owned());
        };
        if split == HELD_OUT {
            if !matches!(self.data, DataConfig::Beir { .. }) || eval.data.is_some() {
                return Err(
                    "eval.split = \"held_out\" needs data.kind = \"beir\" and no \
                            eval.data (it holds out part of the training queries)"
                        .to_owned(),
                );
            }
            if !(eval.held_out_fraction > 0.0 && eval.held_out_fraction < 1.0) {
                return Err(format!(
                    "eval.held_out_fraction must lie in (0, 1), got {}",
                    eval.held_out_fraction
                ));
            }
        } else if let DataConfig::Beir {
            path,
            split: train_split,
        } = &self.data
        {
            if *path == data && *train_split == split {
                return Err(format!(
                    "eval.split `{split}` is the training split: use `held_out` instead"
                ));
            }
        }
        Ok(())
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

    #[test]
    fn eval_never_reads_the_test_split_or_trains_on_its_dev_queries() {
        let mut config = TrainConfig {
            eval: Some(EvalSettings::default()),
            ..TrainConfig::default()
        };
        assert_eq!(config.validate(), Ok(()));
        let eval = |config: &mut TrainConfig| config.eval.as_mut().unwrap().split = "x".into();
        eval(&mut config);
        assert_eq!(config.validate(), Ok(()));
        config.eval.as_mut().unwrap().split = "test".into();
        assert!(config.validate().unwrap_err().contains("test"));
        config.eval.as_mut().unwrap().split = "train".into();
        assert!(config.validate().unwrap_err().contains("training split"));
        config.eval = Some(EvalSettings::default());
        config.data = DataConfig::Jsonl { path: "x".into() };
        assert!(config.validate().unwrap_err().contains("eval.data"));
    }

    #[test]
    fn every_text_config_in_configs_loads() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs");
        let mut loaded = 0;
        for entry in fs_err::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            // configs/server.toml is `pairwise serve`'s file, not an experiment.
            if path.extension().is_some_and(|e| e == "toml")
                && path.file_name().is_some_and(|n| n != "server.toml")
                && matches!(TaskKind::of_file(&path), Ok(TaskKind::Text))
            {
                TrainConfig::load(&path).unwrap();
                loaded += 1;
            }
        }
        assert!(loaded >= 6, "{loaded} configs in {}", dir.display());
    }

    #[test]
    fn mining_windows_are_checked() {
        let mut config = TrainConfig {
            mining: Some(MiningSettings::default()),
            ..TrainConfig::default()
        };
        assert_eq!(config.validate(), Ok(()));
        for (ranks, per_query) in [([0, 5], 1), ([5, 4], 1), ([10, 12], 4), ([1, 3], 0)] {
            config.mining = Some(MiningSettings {
                ranks,
                per_query,
                ..MiningSettings::default()
            });
            assert!(
                config.validate().unwrap_err().contains("mining"),
                "{ranks:?}"
            );
        }
    }
}
