//! `pairwise train --config FILE` for `task = "fewshot"`: an image embedder trained on Omniglot
//! episodes (ProtoNet, Proto-Triplet, ICNN) or on augmented views (SimCLR, AMCL).

use std::path::{Path, PathBuf};

use anyhow::Context;
use pairwise_datasets::images::{load_omniglot, OmniglotOptions, OmniglotSplit};
use pairwise_trainer::fewshot::{FewshotConfig, FewshotTrainer};
use pairwise_trainer::DeviceChoice;

use crate::commands::write_json;
use crate::metrics_log::MetricsLog;
use crate::progress;

/// Command-line overrides of the experiment file.
#[derive(Debug)]
pub(crate) struct Overrides<'a> {
    pub(crate) output: Option<&'a Path>,
    pub(crate) seed: Option<u64>,
    pub(crate) max_steps: Option<u64>,
    pub(crate) device: DeviceChoice,
}

pub(crate) fn run(config_path: &Path, overrides: &Overrides<'_>) -> anyhow::Result<()> {
    let mut config = FewshotConfig::load(config_path)?;
    if let Some(output) = overrides.output {
        config.output = output.to_path_buf();
    }
    if let Some(seed) = overrides.seed {
        config.seed = seed;
    }
    if let Some(steps) = overrides.max_steps {
        config.steps = steps;
    }
    let options = OmniglotOptions {
        image_size: config.data.image_size,
        rotations: config.data.rotations,
        max_characters: config.data.max_characters,
    };
    let data = load_omniglot(&config.data.path, OmniglotSplit::Background, &options)
        .context("cannot load the training images")?;
    let device = overrides.device.resolve()?;
    let output: PathBuf = config.output.clone();
    let mut trainer = FewshotTrainer::new(config.clone(), device)?;
    fs_err::create_dir_all(&output)?;
    let mut log = MetricsLog::open(&output, false)?;
    let bar = progress::steps_bar(config.steps);
    let every = config.log_every_steps.max(1);
    let summary = trainer.fit(&data, |report| {
        bar.set_position(report.step);
        bar.set_message(format!(
            "loss {:.4} lr {:.2e} {:.0} img/s",
            report.loss, report.lr, report.images_per_second
        ));
        if report.step % every == 0 || report.step == config.steps {
            log.write(report);
        }
    });
    bar.finish_and_clear();
    log.finish()?;
    let summary = summary?;
    let model_dir = output.join("model");
    trainer
        .encoder()
        .save(&model_dir)
        .with_context(|| format!("cannot save the model to {}", model_dir.display()))?;
    let record = serde_json::json!({
        "config": config,
        "summary": summary,
        "n_images": data.len(),
        "n_classes": data.num_classes(),
        "device": format!("{device:?}").to_lowercase(),
        "threads": tch::get_num_threads(),
        "commit": env!("PAIRWISE_COMMIT"),
    });
    write_json(&output.join("pairwise_training.json"), &record)?;
    eprintln!(
        "trained {} steps ({:.0} s, {:.2} steps/s, final loss {:.4}); model saved to {}",
        summary.steps,
        summary.seconds,
        summary.steps_per_second,
        summary.final_loss,
        model_dir.display()
    );
    Ok(())
}
