//! A short real training run: the loss falls, the saved folder loads and embeds.

use pairwise_datasets::TrainingExample;
use pairwise_trainer::losses::{InfoNceConfig, LossConfig};
use pairwise_trainer::train::{DataConfig, ModelConfig, ScheduleSettings, TrainConfig, Trainer};
use pairwise_trainer::{DeviceChoice, EncoderOptions, SentenceEncoder};

use crate::minilm_dir;

/// Sixteen (question, answer) pairs on unrelated topics.
fn examples() -> Vec<TrainingExample> {
    let topics = [
        "cats",
        "rockets",
        "bread",
        "volcanoes",
        "chess",
        "insulin",
        "glaciers",
        "violins",
        "bees",
        "tides",
        "copper",
        "tea",
        "owls",
        "radar",
        "coral",
        "wheat",
    ];
    topics
        .iter()
        .map(|t| {
            TrainingExample::pair(
                format!("tell me about {t}"),
                format!("a short passage all about {t} and nothing else"),
            )
        })
        .collect()
}

fn config(output: &std::path::Path) -> TrainConfig {
    TrainConfig {
        model: ModelConfig {
            base: minilm_dir(),
            max_length: 32,
        },
        data: DataConfig::Jsonl {
            path: "unused.jsonl".into(),
        },
        loss: LossConfig::InfoNce(InfoNceConfig {
            scale: 20.0,
            ..InfoNceConfig::default()
        }),
        schedule: ScheduleSettings {
            batch_size: 8,
            epochs: 6,
            warmup_ratio: 0.0,
            seed: 7,
            ..ScheduleSettings::default()
        },
        output: output.to_path_buf(),
        ..TrainConfig::default()
    }
}

#[test]
fn loss_falls_and_the_saved_model_reloads() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(dir.path());
    config.optim.lr = 1e-4;
    let mut trainer = Trainer::new(config, DeviceChoice::Cpu).unwrap();
    let mut losses = Vec::new();
    let summary = trainer
        .fit(&examples(), |report| losses.push(report.loss))
        .unwrap();
    assert_eq!(summary.steps, 12);
    let first: f64 = losses[..2].iter().sum::<f64>() / 2.0;
    let last: f64 = losses[losses.len() - 2..].iter().sum::<f64>() / 2.0;
    assert!(last < first * 0.8, "loss did not fall: {losses:?}");

    let model = dir.path().join("model");
    trainer.encoder().save(&model).unwrap();
    let options = EncoderOptions {
        device: DeviceChoice::Cpu,
        ..EncoderOptions::default()
    };
    let reloaded = SentenceEncoder::load(&model, options).unwrap();
    let text = ["tell me about owls"];
    let a = reloaded.encode(&text).unwrap();
    let b = trainer.encoder().encode(&text).unwrap();
    let cos: f32 = a
        .row(0)
        .unwrap()
        .iter()
        .zip(b.row(0).unwrap())
        .map(|(x, y)| x * y)
        .sum();
    assert!(cos > 0.99999, "{cos}");
    let base = SentenceEncoder::load(&minilm_dir(), options)
        .unwrap()
        .encode(&text)
        .unwrap();
    let moved: f32 = a
        .row(0)
        .unwrap()
        .iter()
        .zip(base.row(0).unwrap())
        .map(|(x, y)| x * y)
        .sum();
    assert!(moved < 0.99999, "training changed nothing");
}

#[test]
fn too_few_examples_for_a_batch_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut trainer = Trainer::new(config(dir.path()), DeviceChoice::Cpu).unwrap();
    let err = trainer
        .fit(&examples()[..3], |_| {})
        .unwrap_err()
        .to_string();
    assert!(err.contains("batch"), "{err}");
}
