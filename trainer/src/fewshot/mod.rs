//! Few-shot and self-supervised image embedders: the experiment file ([`FewshotConfig`],
//! `task = "fewshot"`), the image encoder with its model folder ([`ImageEncoder`]:
//! `model.safetensors` + `fewshot_model.json`), and the loop ([`FewshotTrainer`]) that trains
//! it on N-way K-shot episodes ([`EpisodeLossConfig`](crate::losses::EpisodeLossConfig)) or on
//! pairs of augmented views ([`ContrastiveConfig`](crate::losses::ContrastiveConfig)).

mod config;
mod encoder;
mod trainer;

pub use config::{BackboneConfig, FewshotConfig, FewshotData, FewshotMethod};
pub use encoder::{ImageEncoder, ImageModelSpec, MODEL_SPEC_FILE, MODEL_WEIGHTS_FILE};
pub use trainer::{FewshotStepReport, FewshotSummary, FewshotTrainer};
