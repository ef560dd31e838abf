//! Fine-tuning: the experiment file, the data, hard-negative mining, dev evaluation,
//! checkpoints and the training loop.

pub mod checkpoint;
mod config;
mod data;
mod dev;
mod mining;
mod seeded;
mod trainer;

pub(crate) use config::{bad_config, check_schedule, parse_experiment};
pub use config::{
    CheckpointSettings, DataConfig, EvalMetric, EvalSettings, MiningMethod, MiningSettings,
    ModelConfig, ScheduleSettings, TaskKind, Towers, TrainConfig, HELD_OUT,
};
pub use data::{split_held_out, BeirSource, TrainingData};
pub use dev::{rank_and_pool, AucInputs, DevMetrics, DevSet};
pub use mining::{mine_negatives, pick_negatives};
pub use trainer::{StepReport, TrainEvent, TrainSummary, Trainer};
