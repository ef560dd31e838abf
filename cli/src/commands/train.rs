//! `pairwise train --config FILE`: fine-tune a sentence encoder from a TOML experiment file.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use pairwise_datasets::{
    beir_training_examples, read_nli_triplets, read_training_jsonl, BeirDataset, TrainingExample,
};
use pairwise_trainer::train::{DataConfig, TaskKind, TrainConfig, Trainer};
use pairwise_trainer::DeviceChoice;

use crate::commands::write_json;
use crate::progress;

/// Arguments of `pairwise train`.
#[derive(Debug, Args)]
pub(crate) struct TrainArgs {
    /// TOML experiment file (see configs/)
    #[arg(long, value_name = "FILE")]
    pub(crate) config: PathBuf,
    /// Override `output` (the run folder: model/, metrics.jsonl, pairwise_training.json)
    #[arg(long, value_name = "DIR")]
    pub(crate) output: Option<PathBuf>,
    /// Override `schedule.seed`
    #[arg(long)]
    pub(crate) seed: Option<u64>,
    /// Override `schedule.max_steps`
    #[arg(long)]
    pub(crate) max_steps: Option<u64>,
    /// auto, cpu, cuda or cuda:N
    #[arg(long, default_value = "auto", value_parser = clap::value_parser!(DeviceChoice))]
    pub(crate) device: DeviceChoice,
}

pub(crate) fn run(args: &TrainArgs) -> anyhow::Result<()> {
    match TaskKind::of_file(&args.config)? {
        TaskKind::Text => run_text(args),
        TaskKind::Faces => crate::commands::train_faces::run(args),
    }
}

/// A sentence-encoder run ([`TrainConfig`]).
fn run_text(args: &TrainArgs) -> anyhow::Result<()> {
    let mut config = TrainConfig::load(&args.config)?;
    if let Some(output) = &args.output {
        config.output.clone_from(output);
    }
    if let Some(seed) = args.seed {
        config.schedule.seed = seed;
    }
    if args.max_steps.is_some() {
        config.schedule.max_steps = args.max_steps;
    }
    let examples = load_examples(&config.data)?;
    let output = config.output.clone();
    let mut trainer = Trainer::new(config.clone(), args.device)?;
    fs_err::create_dir_all(&output)?;
    let log_path = output.join("metrics.jsonl");
    let mut log = std::io::BufWriter::new(fs_err::File::create(&log_path)?);
    let planned = config
        .schedule
        .max_steps
        .unwrap_or(u64::MAX)
        .min((examples.len() / config.schedule.batch_size * config.schedule.epochs) as u64);
    let bar = progress::steps_bar(planned);
    let mut log_error = None;
    let summary = trainer.fit(&examples, |report| {
        bar.set_position(report.step);
        bar.set_message(format!(
            "loss {:.4} lr {:.2e} {:.1} ex/s",
            report.loss, report.lr, report.examples_per_second
        ));
        if report.step % config.schedule.log_every_steps.max(1) == 0 || report.step == planned {
            if let Err(e) = serde_json::to_writer(&mut log, report)
                .map_err(std::io::Error::from)
                .and_then(|()| log.write_all(b"\n"))
            {
                log_error.get_or_insert(e);
            }
        }
    });
    bar.finish_and_clear();
    log.flush()?;
    if let Some(e) = log_error {
        return Err(e).with_context(|| format!("cannot write {}", log_path.display()));
    }
    let summary = summary?;
    let model_dir = output.join("model");
    trainer
        .encoder()
        .save(&model_dir)
        .with_context(|| format!("cannot save the model to {}", model_dir.display()))?;
    let record = serde_json::json!({
        "config": config,
        "summary": summary,
        "n_examples": examples.len(),
        "device": format!("{:?}", trainer.encoder().device()).to_lowercase(),
        "commit": env!("PAIRWISE_COMMIT"),
    });
    write_json(&output.join("pairwise_training.json"), &record)?;
    eprintln!(
        "trained {} steps ({} examples, {:.0} s, final loss {:.4}); model saved to {}",
        summary.steps,
        summary.examples,
        summary.seconds,
        summary.final_loss,
        model_dir.display()
    );
    Ok(())
}

fn load_examples(data: &DataConfig) -> anyhow::Result<Vec<TrainingExample>> {
    Ok(match data {
        DataConfig::Beir { path, split } => {
            beir_training_examples(&BeirDataset::open(path)?.load_split(split)?)
        }
        DataConfig::Jsonl { path } => read_training_jsonl(path)?,
        DataConfig::Nli { path, split } => read_nli_triplets(path, split)?,
    })
}
