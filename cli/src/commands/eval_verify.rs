//! `pairwise eval verify`: face verification of image pairs with a face model: cosine scores,
//! AUC, EER, TAR@FAR and the LFW protocol's 10-fold accuracy.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use pairwise_datasets::{check_pair_images, load_image, read_face_pairs, Image};
use pairwise_eval::{cosine, verification_report, RocOptions, RocSummary, DEFAULT_FARS};
use pairwise_trainer::faces::{FaceModel, FACE_MODEL_FILE};
use pairwise_trainer::DeviceChoice;
use rayon::prelude::*;

use crate::commands::report::{build_report, write_report, ROC_SUMMARY_KEY};
use crate::commands::write_json;

/// Arguments of `pairwise eval verify`.
#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// Face model folder (model.safetensors + face_model.json, as `pairwise train` writes)
    #[arg(long, value_name = "DIR")]
    model: PathBuf,
    /// Pairs file: LFW pairs.txt, LFW TSV (pairs_available.tsv) or `fold path1 path2 same` TSV
    #[arg(long, value_name = "FILE")]
    pairs: PathBuf,
    /// Folder the pairs' image paths are relative to
    #[arg(long, value_name = "DIR")]
    images: PathBuf,
    /// Centre crop WIDTH,HEIGHT before resizing to the model's input (e.g. 120,120 for LFW)
    #[arg(long, value_name = "W,H", value_delimiter = ',')]
    center_crop: Option<Vec<u32>>,
    /// Embed each image and its mirror image and add the two embeddings
    #[arg(long)]
    flip: bool,
    /// Images per forward pass
    #[arg(long, default_value_t = 64)]
    batch_size: usize,
    /// auto, cpu, cuda or cuda:N
    #[arg(long, default_value = "auto", value_parser = clap::value_parser!(DeviceChoice))]
    device: DeviceChoice,
    /// Write the results as JSON to this file
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Write an HTML report (ROC curve, score histograms, metrics) to this file
    #[arg(long, value_name = "FILE.html")]
    report: Option<PathBuf>,
}

pub(crate) fn run(args: &VerifyArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let pairs = read_face_pairs(&args.pairs)?;
    check_pair_images(&pairs, &args.images).with_context(|| {
        format!(
            "{} names an image that is not under {} (for LFW use pairs_available.tsv, the \
             pairs whose images are present)",
            args.pairs.display(),
            args.images.display()
        )
    })?;
    let model = FaceModel::load(&args.model, args.device.resolve()?)
        .with_context(|| format!("cannot load the face model in {}", args.model.display()))?;
    let crop = match args.center_crop.as_deref() {
        None => None,
        Some(&[w, h]) => Some([w, h]),
        Some(other) => anyhow::bail!("--center-crop takes WIDTH,HEIGHT, got {other:?}"),
    };
    let options = model.image_options(crop);
    let mut index: BTreeMap<&std::path::Path, usize> = BTreeMap::new();
    for pair in &pairs {
        for path in [pair.left.as_path(), pair.right.as_path()] {
            let next = index.len();
            index.entry(path).or_insert(next);
        }
    }
    let mut paths: Vec<(&std::path::Path, usize)> = index.iter().map(|(p, i)| (*p, *i)).collect();
    paths.sort_by_key(|(_, i)| *i);
    let images: Vec<Image> = paths
        .par_iter()
        .map(|(path, _)| load_image(&args.images.join(path), &options))
        .collect::<Result<_, _>>()?;
    let refs: Vec<&Image> = images.iter().collect();
    let embed_started = Instant::now();
    let embeddings = model.embed(&refs, args.flip, args.batch_size)?;
    let embed_seconds = embed_started.elapsed().as_secs_f64();
    let scores: Vec<f64> = pairs
        .iter()
        .map(|p| {
            cosine(
                &embeddings[index[p.left.as_path()]],
                &embeddings[index[p.right.as_path()]],
            )
        })
        .collect();
    let labels: Vec<bool> = pairs.iter().map(|p| p.same).collect();
    let folds: Vec<usize> = pairs.iter().map(|p| p.fold).collect();
    let report = verification_report(&labels, &scores, &folds, &DEFAULT_FARS)?;
    let fmt = |v: Option<f64>| v.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.4}"));
    eprintln!(
        "{} pairs ({} same, {} different), {} images: AUC {}, EER {}, accuracy {} ± {}, TAR@FAR {}",
        report.pairs,
        report.same,
        report.different,
        images.len(),
        fmt(report.auc),
        fmt(report.eer),
        fmt(report.accuracy),
        fmt(report.accuracy_std),
        report
            .tar_at_far
            .iter()
            .map(|(far, tar)| format!("{far}: {}", fmt(*tar)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let training: serde_json::Value = fs_err::read_to_string(args.model.join(FACE_MODEL_FILE))
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|v| v.get("training").cloned())
        .unwrap_or(serde_json::Value::Null);
    // The report's ROC panel (with a bootstrap interval for the AUC); `None` with one class.
    let roc_summary = RocSummary::compute(&labels, &scores, &RocOptions::default()).ok();
    let mut result = serde_json::to_value(&report)?;
    if let Some(map) = result.as_object_mut() {
        map.insert("task".to_owned(), "verify".into());
        map.insert("data".to_owned(), args.pairs.display().to_string().into());
        map.insert(
            "encoder".to_owned(),
            serde_json::json!({ "model": args.model.display().to_string() }),
        );
        map.insert(
            "settings".to_owned(),
            serde_json::json!({
                "images": args.images.display().to_string(),
                "center_crop": crop,
                "flip": args.flip,
                "device": format!("{:?}", model.device()).to_lowercase(),
            }),
        );
        map.insert("images_embedded".to_owned(), images.len().into());
        map.insert("embed_seconds".to_owned(), embed_seconds.into());
        map.insert("seconds".to_owned(), started.elapsed().as_secs_f64().into());
        map.insert(
            ROC_SUMMARY_KEY.to_owned(),
            serde_json::to_value(&roc_summary)?,
        );
        map.insert("training".to_owned(), training);
        map.insert("commit".to_owned(), env!("PAIRWISE_COMMIT").into());
    }
    if let Some(path) = &args.json {
        write_json(path, &result).with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(path) = &args.report {
        write_report(
            path,
            &build_report(None, &[(None, result, args.pairs.clone())])?,
        )?;
    }
    Ok(())
}
