//! A short real training run: the loss falls, the saved folder loads and embeds.

use std::ops::ControlFlow;

use pairwise_datasets::TrainingExample;
use pairwise_trainer::losses::{InfoNceConfig, LossConfig, MwConfig};
use pairwise_trainer::train::{
    CheckpointSettings, DataConfig, ModelConfig, ScheduleSettings, Towers, TrainConfig, TrainEvent,
    Trainer, TrainingData,
};
use pairwise_trainer::{DeviceChoice, EncoderOptions, SentenceEncoder, TrainError};

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
            towers: Towers::Shared,
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
        .fit(&TrainingData::from_examples(examples()), |event| {
            if let TrainEvent::Step(report) = event {
                losses.push(report.loss);
            }
            ControlFlow::Continue(())
        })
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
        .fit(
            &TrainingData::from_examples(examples()[..3].to_vec()),
            |_| ControlFlow::Continue(()),
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("batch"), "{err}");
}

/// Every trainable tensor of the trainer's encoders, by name.
fn weights(trainer: &Trainer) -> Vec<(String, tch::Tensor)> {
    let mut all: Vec<(String, tch::Tensor)> = trainer
        .encoder()
        .var_store()
        .variables()
        .into_iter()
        .collect();
    all.sort_by(|a, b| a.0.cmp(&b.0));
    all
}

fn max_abs_diff(a: &[(String, tch::Tensor)], b: &[(String, tch::Tensor)]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|((na, ta), (nb, tb))| {
            assert_eq!(na, nb);
            (ta - tb).abs().max().double_value(&[])
        })
        .fold(0.0, f64::max)
}

/// 16 examples, batch 8, 2 epochs: 4 steps, a checkpoint after steps 3 and 4.
fn resumable_config(output: &std::path::Path) -> TrainConfig {
    let mut config = config(output);
    config.model.max_length = 16;
    config.schedule.epochs = 2;
    config.schedule.warmup_ratio = 0.25;
    config.optim.lr = 1e-4;
    config.checkpoint = Some(CheckpointSettings { every_steps: 3 });
    config
}

#[test]
fn a_resumed_run_ends_with_the_weights_of_an_uninterrupted_one() {
    let dir = tempfile::tempdir().unwrap();
    let data = TrainingData::from_examples(examples());
    let mut straight =
        Trainer::new(resumable_config(&dir.path().join("a")), DeviceChoice::Cpu).unwrap();
    let summary = straight.fit(&data, |_| ControlFlow::Continue(())).unwrap();
    assert_eq!(summary.steps, 4);

    // Stop right after the checkpoint of step 3 (in the second epoch), then resume.
    let interrupted_dir = dir.path().join("b");
    let mut first = Trainer::new(resumable_config(&interrupted_dir), DeviceChoice::Cpu).unwrap();
    let summary = first
        .fit(&data, |event| match event {
            TrainEvent::Checkpoint { step: 3, .. } => ControlFlow::Break(()),
            _ => ControlFlow::Continue(()),
        })
        .unwrap();
    assert_eq!((summary.steps, summary.interrupted), (3, true));
    let after_three = weights(&first);
    drop(first);
    let mut resumed = Trainer::resume(
        resumable_config(&interrupted_dir),
        DeviceChoice::Cpu,
        &interrupted_dir,
    )
    .unwrap();
    assert_eq!(resumed.step(), 3);
    assert!(max_abs_diff(&weights(&resumed), &after_three) == 0.0);
    let summary = resumed.fit(&data, |_| ControlFlow::Continue(())).unwrap();
    assert_eq!((summary.steps, summary.resumed_at), (4, 3));
    let diff = max_abs_diff(&weights(&straight), &weights(&resumed));
    assert!(diff < 1e-6, "resumed weights differ by {diff}");
    assert!(max_abs_diff(&weights(&straight), &after_three) > 1e-6);
}

#[test]
fn a_checkpoint_from_another_config_or_model_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let mut trainer = Trainer::new(resumable_config(&run), DeviceChoice::Cpu).unwrap();
    trainer
        .fit(&TrainingData::from_examples(examples()), |_| {
            ControlFlow::Continue(())
        })
        .unwrap();

    let mut other = resumable_config(&run);
    other.optim.lr = 3e-5;
    let err = Trainer::resume(other, DeviceChoice::Cpu, &run).unwrap_err();
    assert!(matches!(err, TrainError::BadCheckpoint { .. }), "{err}");
    assert!(err.to_string().contains("another configuration"), "{err}");

    // The same architecture with a different config.json is another model.
    let model = dir.path().join("other-model");
    fs_err::create_dir_all(&model).unwrap();
    for file in ["model.safetensors", "tokenizer.json"] {
        std::os::unix::fs::symlink(minilm_dir().join(file), model.join(file)).unwrap();
    }
    let config_json = fs_err::read_to_string(minilm_dir().join("config.json")).unwrap();
    fs_err::write(model.join("config.json"), config_json + "\n").unwrap();
    let mut moved = resumable_config(&run);
    moved.model.base = model;
    let err = Trainer::resume(moved, DeviceChoice::Cpu, &run).unwrap_err();
    assert!(err.to_string().contains("another model"), "{err}");

    let err = Trainer::resume(resumable_config(&run), DeviceChoice::Cpu, dir.path()).unwrap_err();
    assert!(err.to_string().contains("state.json"), "{err}");
}

#[test]
fn a_non_finite_loss_stops_the_run_and_says_what_was_kept() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = resumable_config(&dir.path().join("run"));
    // A temperature that underflows to 0 in f32 turns every score difference infinite.
    config.loss = LossConfig::Mw(MwConfig {
        temperature: 1e-300,
        ..MwConfig::default()
    });
    let mut trainer = Trainer::new(config, DeviceChoice::Cpu).unwrap();
    let err = trainer
        .fit(&TrainingData::from_examples(examples()), |_| {
            ControlFlow::Continue(())
        })
        .unwrap_err();
    assert!(
        matches!(err, TrainError::NonFiniteLoss { step: 1, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("no checkpoint"), "{err}");
    assert!(!dir.path().join("run").join("model").exists());
}

#[test]
fn separate_towers_train_apart_and_save_two_models() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(dir.path());
    config.model.towers = Towers::Separate;
    config.model.max_length = 16;
    config.schedule.epochs = 1;
    config.optim.lr = 1e-4;
    let mut trainer = Trainer::new(config, DeviceChoice::Cpu).unwrap();
    trainer
        .fit(&TrainingData::from_examples(examples()), |_| {
            ControlFlow::Continue(())
        })
        .unwrap();
    let text = ["tell me about owls"];
    let q = trainer.encoder().encode(&text).unwrap();
    let d = trainer.document_encoder().encode(&text).unwrap();
    assert_ne!(q.row(0), d.row(0), "the towers did not train apart");
    let saved = trainer.save_models(dir.path(), "").unwrap();
    let names: Vec<_> = saved
        .iter()
        .map(|p| p.file_name().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["query_model", "document_model"]);
    let options = EncoderOptions {
        device: DeviceChoice::Cpu,
        ..EncoderOptions::default()
    };
    let reloaded = SentenceEncoder::load(&saved[1], options).unwrap();
    let again = reloaded.encode(&text).unwrap();
    let cos: f32 = again
        .row(0)
        .unwrap()
        .iter()
        .zip(d.row(0).unwrap())
        .map(|(x, y)| x * y)
        .sum();
    assert!(cos > 0.99999, "{cos}");
}
