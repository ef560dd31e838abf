//! `pairwise train` for `task = "faces"`: a face embedder with a margin head (and UNPG).

use anyhow::Context;
use pairwise_datasets::write_face_pairs;
use pairwise_trainer::faces::{load_face_data, FaceTrainer, FacesConfig};

use crate::commands::bench::peak_rss_mib;
use crate::commands::train::TrainArgs;
use crate::commands::write_json;
use crate::metrics_log::MetricsLog;
use crate::progress;

/// Trains, then writes `model/`, `metrics.jsonl`, `pairwise_training.json` and, when
/// identities are held out, `eval_pairs.tsv`.
pub(crate) fn run(args: &TrainArgs) -> anyhow::Result<()> {
    let mut config = FacesConfig::load(&args.config)?;
    if let Some(output) = &args.output {
        config.output.clone_from(output);
    }
    if let Some(seed) = args.seed {
        config.schedule.seed = seed;
    }
    if args.max_steps.is_some() {
        config.schedule.max_steps = args.max_steps;
    }
    let output = config.output.clone();
    let mut trainer = FaceTrainer::new(config.clone(), args.device)?;
    let data = load_face_data(&config, trainer.model())?;
    eprintln!(
        "{} training images of {} identities ({} identities excluded by pair files, {} held out)",
        data.images.len(),
        data.classes.len(),
        data.excluded_identities,
        config
            .data
            .sources
            .iter()
            .map(|s| s.held_out.len())
            .sum::<usize>()
    );
    fs_err::create_dir_all(&output)?;
    if let Some(root) = &data.held_out_root {
        let path = output.join("eval_pairs.tsv");
        write_face_pairs(&path, &data.held_out_pairs)?;
        eprintln!(
            "{} pairs of the held-out identities written to {} (images under {})",
            data.held_out_pairs.len(),
            path.display(),
            root.display()
        );
    }
    let mut log = MetricsLog::open(&output, false)?;
    let bar = progress::steps_bar(0);
    let every = config.schedule.log_every_steps.max(1);
    let summary = trainer.fit(&data, |report| {
        bar.set_position(report.step);
        bar.set_message(format!(
            "loss {:.3} lr {:.1e} {:.0} img/s",
            report.loss, report.lr, report.images_per_second
        ));
        if report.step % every == 0 || report.step == 1 {
            log.write(report);
        }
    });
    bar.finish_and_clear();
    log.finish()?;
    let summary = summary?;
    let model_dir = output.join("model");
    let record = serde_json::json!({
        "task": "faces",
        "config": config,
        "loss": trainer.loss_name(),
        "summary": summary,
        "train_images": data.images.len(),
        "train_identities": data.classes.len(),
        "excluded_identities": data.excluded_identities,
        "held_out_pairs": data.held_out_pairs.len(),
        "peak_rss_mib": peak_rss_mib(),
        "threads": tch::get_num_threads(),
        "device": format!("{:?}", trainer.model().device()).to_lowercase(),
        "commit": env!("PAIRWISE_COMMIT"),
    });
    trainer
        .model()
        .save(&model_dir, Some(record.clone()))
        .with_context(|| format!("cannot save the model to {}", model_dir.display()))?;
    write_json(&output.join("pairwise_training.json"), &record)?;
    eprintln!(
        "trained {} steps ({} images, {:.0} s, {:.1} img/s, loss forward {:.1} s, final loss {:.3}); \
         model saved to {}",
        summary.steps,
        summary.images,
        summary.seconds,
        summary.images_per_second,
        summary.loss_forward_seconds,
        summary.final_loss,
        model_dir.display()
    );
    Ok(())
}
