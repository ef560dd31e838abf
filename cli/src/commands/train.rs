//! `pairwise train --config FILE`: fine-tune a sentence encoder from a TOML experiment file.

use std::ops::ControlFlow;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use pairwise_trainer::train::{TaskKind, TrainConfig, TrainEvent, Trainer, TrainingData};
use pairwise_trainer::DeviceChoice;

use crate::commands::write_json;
use crate::metrics_log::MetricsLog;
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
    /// Continue from this checkpoint (a run folder or its checkpoint/ folder); the config and
    /// overrides must be those of the interrupted run (only --output may differ)
    #[arg(long, value_name = "DIR")]
    pub(crate) resume: Option<PathBuf>,
    /// auto, cpu, cuda or cuda:N
    #[arg(long, default_value = "auto", value_parser = clap::value_parser!(DeviceChoice))]
    pub(crate) device: DeviceChoice,
}

pub(crate) fn run(args: &TrainArgs) -> anyhow::Result<()> {
    let task = TaskKind::of_file(&args.config)?;
    if task != TaskKind::Text && args.resume.is_some() {
        anyhow::bail!("--resume works for text runs only; image runs keep no checkpoint");
    }
    match task {
        TaskKind::Text => run_text(args),
        TaskKind::Faces => crate::commands::train_faces::run(args),
        TaskKind::Fewshot => crate::commands::train_fewshot::run(
            &args.config,
            &crate::commands::train_fewshot::Overrides {
                output: args.output.as_deref(),
                seed: args.seed,
                max_steps: args.max_steps,
                device: args.device,
            },
        ),
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
    let data = TrainingData::load(&config)?;
    let output = config.output.clone();
    let mut trainer = match &args.resume {
        Some(dir) => Trainer::resume(config.clone(), args.device, dir)?,
        None => Trainer::new(config.clone(), args.device)?,
    };
    fs_err::create_dir_all(&output)?;
    // A resumed run appends to the interrupted run's log.
    let mut log = MetricsLog::open(&output, args.resume.is_some())?;
    let batches = data.examples.len() / config.schedule.batch_size;
    let planned = config
        .schedule
        .max_steps
        .unwrap_or(u64::MAX)
        .min((batches * config.schedule.epochs) as u64);
    let bar = progress::steps_bar(planned);
    bar.set_position(trainer.step());
    let summary = trainer.fit(&data, |event| {
        let write = match event {
            TrainEvent::Step(report) => {
                bar.set_position(report.step);
                bar.set_message(format!(
                    "loss {:.4} lr {:.2e} {:.1} ex/s",
                    report.loss, report.lr, report.examples_per_second
                ));
                report.step % config.schedule.log_every_steps.max(1) == 0 || report.step == planned
            }
            TrainEvent::Eval { metrics, best } => {
                let show = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.4}"));
                bar.println(format!(
                    "step {}: dev nDCG@10 {} AUC {} ({} queries, {} docs, {:.0} s){}",
                    metrics.step,
                    show(metrics.ndcg_at_10),
                    show(metrics.auc),
                    metrics.n_queries,
                    metrics.n_docs,
                    metrics.seconds,
                    if *best { " best so far" } else { "" }
                ));
                true
            }
            TrainEvent::EarlyStop { step, best_step } => {
                bar.println(format!(
                    "step {step}: early stop (best dev evaluation at step {best_step})"
                ));
                true
            }
            TrainEvent::Mined { .. } | TrainEvent::Checkpoint { .. } => true,
        };
        if write {
            log.write(event);
        }
        ControlFlow::Continue(())
    });
    bar.finish_and_clear();
    log.finish()?;
    let summary = summary?;
    let models = trainer
        .save_models(&output, "")
        .with_context(|| format!("cannot save the model to {}", output.display()))?;
    let record = serde_json::json!({
        "config": config,
        "summary": summary,
        "n_examples": data.examples.len(),
        "n_dev_queries": data.dev.as_ref().map(|d| d.queries.len()),
        "resumed_from": args.resume,
        "device": format!("{:?}", trainer.encoder().device()).to_lowercase(),
        "commit": env!("PAIRWISE_COMMIT"),
    });
    write_json(&output.join("pairwise_training.json"), &record)?;
    let names: Vec<String> = models.iter().map(|m| m.display().to_string()).collect();
    eprintln!(
        "trained {} steps ({} examples, {:.0} s, final loss {:.4}); model saved to {}",
        summary.steps,
        summary.examples,
        summary.seconds,
        summary.final_loss,
        names.join(" and ")
    );
    if let Some(best) = summary.best {
        eprintln!(
            "best dev evaluation: step {} (nDCG@10 {:?}, AUC {:?}), model in {}",
            best.step,
            best.ndcg_at_10,
            best.auc,
            output.join("best_*").display()
        );
    }
    Ok(())
}
