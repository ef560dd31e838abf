//! `pairwise eval fewshot`: N-way K-shot nearest-prototype accuracy on the Omniglot evaluation
//! alphabets, with a 95% confidence interval over episodes.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use pairwise_datasets::images::{
    load_omniglot, load_omniglot_runs, OmniglotOptions, OmniglotSplit,
};
use pairwise_datasets::{EpisodeShape, EpisodicSampler};
use pairwise_eval::{nearest_prototype_accuracy, summarize_episodes};
use pairwise_trainer::fewshot::ImageEncoder;
use pairwise_trainer::DeviceChoice;

use crate::commands::write_json;
use crate::data_source;

/// Arguments of `pairwise eval fewshot`.
#[derive(Debug, Args)]
pub(crate) struct FewshotArgs {
    /// Image model folder (model.safetensors + fewshot_model.json), e.g. RUN/model
    #[arg(long, value_name = "DIR")]
    model: PathBuf,
    /// Omniglot folder (images_evaluation.npz) [default: the shared data's omniglot]
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Classes per episode (N)
    #[arg(long, default_value_t = 5)]
    ways: usize,
    /// Support images per class (K)
    #[arg(long, default_value_t = 1)]
    shots: usize,
    /// Query images per class
    #[arg(long, default_value_t = 15)]
    queries: usize,
    /// Test episodes
    #[arg(long, default_value_t = 1000)]
    episodes: u64,
    /// Seed of the episode sampler
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Add the 90° rotations of the evaluation characters as classes (the Prototypical
    /// Networks protocol); off: the 659 evaluation characters as they are
    #[arg(long)]
    rotations: bool,
    /// Images per forward pass
    #[arg(long, default_value_t = 512)]
    batch_size: usize,
    /// auto, cpu, cuda or cuda:N
    #[arg(long, default_value = "auto", value_parser = clap::value_parser!(DeviceChoice))]
    device: DeviceChoice,
    /// Instead of sampled episodes, Lake et al.'s 20 official 20-way one-shot runs
    /// (all_runs.zip): accuracy and CI over the 20 runs; --ways/--shots/--episodes are ignored
    #[arg(long)]
    official_runs: bool,
    /// Write the results as JSON to this file
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

#[expect(clippy::print_stdout, reason = "the result is the command's output")]
pub(crate) fn run(args: &FewshotArgs) -> anyhow::Result<()> {
    let data_dir = match &args.data {
        Some(dir) => dir.clone(),
        None => data_source::shared_data("omniglot")?,
    };
    let device = args.device.resolve()?;
    let encoder = ImageEncoder::load(&args.model, device)
        .with_context(|| format!("cannot load the model in {}", args.model.display()))?;
    if args.official_runs {
        return run_official(args, &data_dir, &encoder, device);
    }
    let options = OmniglotOptions {
        image_size: encoder.spec().image_size,
        rotations: args.rotations,
        max_characters: None,
    };
    let data = load_omniglot(&data_dir, OmniglotSplit::Evaluation, &options)
        .context("cannot load the evaluation images")?;
    let shape = EpisodeShape {
        ways: args.ways,
        shots: args.shots,
        queries: args.queries,
    };
    let sampler = EpisodicSampler::new(data.class_items().to_vec(), shape, args.seed)?;
    let started = std::time::Instant::now();
    let embeddings = encoder.embed_all(&data, args.batch_size)?;
    let dim = usize::try_from(encoder.spec().embedding_dim)?;
    let accuracies = (0..args.episodes)
        .map(|i| {
            let episode = sampler.episode(i);
            nearest_prototype_accuracy(
                &embeddings,
                dim,
                &episode.support,
                &episode.query,
                args.ways,
                args.shots,
            )
        })
        .collect::<Result<Vec<f64>, _>>()?;
    let summary =
        summarize_episodes(&accuracies)?.context("no episodes: --episodes must be at least 1")?;
    println!(
        "Omniglot evaluation alphabets, {}-way {}-shot ({} queries/class, {} episodes): accuracy {:.2}% ± {:.2}",
        args.ways, args.shots, args.queries, summary.episodes, summary.accuracy, summary.ci95
    );
    if let Some(json) = &args.json {
        let training = training_record(&args.model);
        let record = serde_json::json!({
            "accuracy": summary.accuracy,
            "ci95": summary.ci95,
            "std": summary.std,
            "episodes": summary.episodes,
            "ways": args.ways,
            "shots": args.shots,
            "queries": args.queries,
            "seed": args.seed,
            "split": "evaluation",
            "rotations": args.rotations,
            "classes": data.num_classes(),
            "model": args.model.display().to_string(),
            "model_spec": encoder.spec(),
            "data": data_dir.display().to_string(),
            "device": format!("{device:?}").to_lowercase(),
            "seconds": started.elapsed().as_secs_f64(),
            "training": training,
            "commit": env!("PAIRWISE_COMMIT"),
        });
        write_json(json, &record)?;
    }
    Ok(())
}

/// The 20 official runs: each is one 20-way 1-shot episode with one test image per class.
#[expect(clippy::print_stdout, reason = "the result is the command's output")]
fn run_official(
    args: &FewshotArgs,
    data_dir: &std::path::Path,
    encoder: &ImageEncoder,
    device: tch::Device,
) -> anyhow::Result<()> {
    let runs = load_omniglot_runs(&data_dir.join("all_runs.zip"), encoder.spec().image_size)
        .context("cannot load the official one-shot runs")?;
    let dim = usize::try_from(encoder.spec().embedding_dim)?;
    let mut accuracies = Vec::with_capacity(runs.len());
    for run in &runs {
        let embeddings = encoder.embed_all(&run.images, args.batch_size)?;
        let items = run.images.class_items();
        let support: Vec<usize> = items.iter().map(|c| c[0]).collect();
        let query: Vec<usize> = items.iter().map(|c| c[1]).collect();
        accuracies.push(nearest_prototype_accuracy(
            &embeddings,
            dim,
            &support,
            &query,
            items.len(),
            1,
        )?);
    }
    let summary = summarize_episodes(&accuracies)?.context("the archive holds no runs")?;
    println!(
        "Omniglot official one-shot runs ({} runs of 20-way 1-shot): accuracy {:.2}% ± {:.2} (error rate {:.2}%)",
        summary.episodes,
        summary.accuracy,
        summary.ci95,
        100.0 - summary.accuracy
    );
    if let Some(json) = &args.json {
        let record = serde_json::json!({
            "accuracy": summary.accuracy,
            "ci95": summary.ci95,
            "std": summary.std,
            "error_rate": 100.0 - summary.accuracy,
            "runs": accuracies,
            "protocol": "lake-official-runs",
            "model": args.model.display().to_string(),
            "model_spec": encoder.spec(),
            "data": data_dir.display().to_string(),
            "device": format!("{device:?}").to_lowercase(),
            "training": training_record(&args.model),
            "commit": env!("PAIRWISE_COMMIT"),
        });
        write_json(json, &record)?;
    }
    Ok(())
}

/// The `pairwise_training.json` next to a run's `model/` folder, when there is one.
fn training_record(model: &std::path::Path) -> Option<serde_json::Value> {
    let text = std::fs::read_to_string(model.parent()?.join("pairwise_training.json")).ok()?;
    serde_json::from_str(&text).ok()
}
