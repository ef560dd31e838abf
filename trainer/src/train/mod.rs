//! Fine-tuning: the experiment file and the training loop.

mod config;
mod trainer;

pub use config::{DataConfig, ModelConfig, ScheduleSettings, TaskKind, TrainConfig};
pub use trainer::{StepReport, TrainSummary, Trainer};
