//! [`FewshotTrainer`]: trains an [`ImageEncoder`] on episodes or on pairs of augmented views.

use std::time::{Duration, Instant};

use pairwise_datasets::images::{Augmenter, ImageClassSet};
use pairwise_datasets::{EpisodeShape, EpisodicSampler};
use rand::rngs::StdRng;
use rand::seq::index::sample;
use rand::SeedableRng;
use serde::Serialize;
use tch::nn::VarStore;
use tch::{Device, Tensor};

use crate::error::{Result, TrainError};
use crate::fewshot::{FewshotConfig, FewshotMethod, ImageEncoder};
use crate::losses::common::class_major_labels;
use crate::losses::{ContrastiveHeads, EpisodeEmbeddings, EpisodeLoss, EpisodeObjective};
use crate::optim::{clip_grad_norm, AdamW};

/// Odd constant (2^64 / golden ratio) that spreads step numbers over the seed space.
const STEP_MIX: u64 = 0x9E37_79B9_7F4A_7C15;
/// Kept apart from the sampler's stream so augmentations and episodes are independent.
const AUGMENT_SALT: u64 = 0x5DEE_CE66_D1CE_4E5B;

/// What one optimisation step did.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FewshotStepReport {
    /// 1-based step number.
    pub step: u64,
    /// The loss of this step.
    pub loss: f64,
    /// The learning rate used.
    pub lr: f64,
    /// The global gradient norm before clipping; `None` when the run does not clip
    /// (`max_grad_norm` unset), which saves a device sync per step.
    pub grad_norm: Option<f64>,
    /// Images embedded per second in this step (augmentation included).
    pub images_per_second: f64,
}

/// What a finished run did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FewshotSummary {
    /// Steps (episodes or batches) taken.
    pub steps: u64,
    /// Wall-clock seconds of the loop.
    pub seconds: f64,
    /// Steps per second over the whole loop.
    pub steps_per_second: f64,
    /// Mean loss over the last 10% of the steps (at least one).
    pub final_loss: f64,
    /// Seconds the host spent waiting for losses to be read back. Near zero on a GPU means the
    /// host is the bottleneck (it queues work slower than the device runs it); near `seconds`
    /// means the device is.
    pub device_wait_seconds: f64,
}

/// The objective of a run.
#[derive(Debug)]
enum Objective {
    Episodic {
        shape: EpisodeShape,
        loss: EpisodeObjective,
    },
    Contrastive {
        batch_size: usize,
        heads: ContrastiveHeads,
        _vs: VarStore,
    },
}

/// Trains an [`ImageEncoder`] from a [`FewshotConfig`].
#[derive(Debug)]
pub struct FewshotTrainer {
    config: FewshotConfig,
    encoder: ImageEncoder,
    objective: Objective,
    optimizer: AdamW,
    augmenter: Augmenter,
}

impl FewshotTrainer {
    /// Builds the encoder (seeded), the objective and the optimiser.
    ///
    /// # Errors
    /// [`TrainError::InvalidInput`] for invalid settings; libtorch errors.
    pub fn new(config: FewshotConfig, device: Device) -> Result<Self> {
        config.validate().map_err(TrainError::InvalidInput)?;
        tch::manual_seed(i64::try_from(config.seed % (1 << 62)).unwrap_or(0));
        let encoder = ImageEncoder::new(config.model, config.data.image_size, device)?;
        let mut named: Vec<(String, Tensor)> = encoder
            .var_store()
            .variables()
            .into_iter()
            .filter(|(_, t)| t.requires_grad())
            .collect();
        let objective = match &config.method {
            FewshotMethod::Episodic {
                ways,
                shots,
                queries,
                loss,
            } => Objective::Episodic {
                shape: EpisodeShape {
                    ways: *ways,
                    shots: *shots,
                    queries: *queries,
                },
                loss: loss.build()?,
            },
            FewshotMethod::Contrastive { batch_size, heads } => {
                let vs = VarStore::new(device);
                let built = ContrastiveHeads::new(
                    &(vs.root() / "heads"),
                    encoder.spec().embedding_dim,
                    *heads,
                )?;
                named.extend(
                    vs.variables()
                        .into_iter()
                        .filter(|(_, t)| t.requires_grad()),
                );
                Objective::Contrastive {
                    batch_size: *batch_size,
                    heads: built,
                    _vs: vs,
                }
            }
        };
        let optimizer = AdamW::from_named(named, config.optim.clone())?;
        let augmenter = Augmenter::new(config.augment).map_err(TrainError::InvalidInput)?;
        Ok(Self {
            config,
            encoder,
            objective,
            optimizer,
            augmenter,
        })
    }

    /// The encoder being trained.
    pub fn encoder(&self) -> &ImageEncoder {
        &self.encoder
    }

    /// Runs `config.steps` steps on `data`, calling `on_step` after each.
    ///
    /// # Errors
    /// [`TrainError::InvalidInput`] when the data cannot fill an episode or a batch (N larger
    /// than the number of classes, a class with fewer than K + Q images);
    /// [`TrainError::NonFiniteLoss`] when the loss or gradient turns NaN or infinite;
    /// libtorch errors.
    #[expect(
        clippy::cast_precision_loss,
        reason = "step and image counts are far below 2^53"
    )]
    pub fn fit(
        &mut self,
        data: &ImageClassSet,
        mut on_step: impl FnMut(&FewshotStepReport),
    ) -> Result<FewshotSummary> {
        let steps = self.config.steps;
        let schedule = self.config.schedule.build(self.config.optim.lr, steps);
        let sampler = match &self.objective {
            Objective::Episodic { shape, .. } => Some(
                EpisodicSampler::new(data.class_items().to_vec(), *shape, self.config.seed)
                    .map_err(|e| TrainError::InvalidInput(e.to_string()))?,
            ),
            Objective::Contrastive { batch_size, .. } => {
                if *batch_size > data.len() {
                    return Err(TrainError::InvalidInput(format!(
                        "a batch of {batch_size} needs at least as many images, the data has {}",
                        data.len()
                    )));
                }
                None
            }
        };
        let started = Instant::now();
        let mut losses = Vec::with_capacity(usize::try_from(steps).unwrap_or(0));
        // The loss of a step is read back (a device sync) only once the next step is queued, so
        // an accelerator always has a step's work in its queue while the host prepares the next.
        let mut pending: Option<QueuedStep> = None;
        let mut waited = Duration::ZERO;
        for step in 0..steps {
            let tick = Instant::now();
            let lr = schedule.lr(step);
            let (loss, images) = match &sampler {
                Some(sampler) => self.episode_loss(data, sampler, step)?,
                None => self.contrastive_loss(data, step)?,
            };
            self.optimizer.zero_grad()?;
            loss.f_backward()?;
            // The global norm costs a reduction per parameter and a device sync: only clipping
            // pays for it. Without it a non-finite gradient shows as a non-finite loss one step on.
            let grad_norm = self
                .config
                .max_grad_norm
                .map(|max| clip_grad_norm(self.optimizer.tensors(), max))
                .transpose()?;
            if let Some(norm) = grad_norm.filter(|norm| !norm.is_finite()) {
                return Err(non_finite(step + 1, loss.f_double_value(&[])?, norm));
            }
            self.optimizer.step(lr)?;
            let queued = QueuedStep {
                step: step + 1,
                loss: loss.f_detach()?,
                lr,
                grad_norm,
                images,
                started: tick,
            };
            if let Some(previous) = pending.replace(queued) {
                waited += report(&previous, Some(tick), &mut losses, &mut on_step)?;
            }
        }
        if let Some(last) = pending.take() {
            waited += report(&last, None, &mut losses, &mut on_step)?;
        }
        let seconds = started.elapsed().as_secs_f64();
        let tail = (losses.len() / 10).max(1);
        let final_loss = losses.iter().rev().take(tail).sum::<f64>() / tail as f64;
        Ok(FewshotSummary {
            steps,
            seconds,
            steps_per_second: steps as f64 / seconds,
            final_loss,
            device_wait_seconds: waited.as_secs_f64(),
        })
    }

    /// The pixels of `items`, augmented with a generator seeded by the step and `view`.
    fn gather(
        &self,
        data: &ImageClassSet,
        items: &[usize],
        step: u64,
        view: u64,
    ) -> Result<Vec<f32>> {
        let side = data.side();
        let mut pixels = vec![0.0f32; items.len() * side * side];
        let mut rng = StdRng::seed_from_u64(
            self.config.seed
                ^ AUGMENT_SALT
                ^ step.wrapping_add(1).wrapping_mul(STEP_MIX)
                ^ view.wrapping_mul(AUGMENT_SALT.rotate_left(17)),
        );
        for (out, &item) in pixels.chunks_mut(side * side).zip(items) {
            let src = data
                .image(item)
                .ok_or_else(|| TrainError::InvalidInput(format!("image {item} is out of range")))?;
            self.augmenter.apply(src, side, &mut rng, out);
        }
        Ok(pixels)
    }

    /// The loss of training episode `step` and the number of images it embedded.
    fn episode_loss(
        &self,
        data: &ImageClassSet,
        sampler: &EpisodicSampler,
        step: u64,
    ) -> Result<(Tensor, usize)> {
        let Objective::Episodic { shape, loss } = &self.objective else {
            return Err(TrainError::InvalidInput("not an episodic run".to_owned()));
        };
        let episode = sampler.episode(step);
        let items: Vec<usize> = episode
            .support
            .iter()
            .chain(&episode.query)
            .copied()
            .collect();
        let pixels = self.gather(data, &items, step, 0)?;
        let images = self.encoder.images_tensor(&pixels, items.len())?;
        let embedded = self.encoder.forward_t(&images, true)?;
        let n_support = i64::try_from(episode.support.len()).unwrap_or(0);
        let n_query = i64::try_from(episode.query.len()).unwrap_or(0);
        let ways = i64::try_from(shape.ways).unwrap_or(0);
        let batch = EpisodeEmbeddings {
            support: embedded.f_narrow(0, 0, n_support)?,
            query: embedded.f_narrow(0, n_support, n_query)?,
            // Built on the device: no host-to-device copy (and its stream sync) per episode.
            query_labels: class_major_labels(
                ways,
                i64::try_from(shape.queries).unwrap_or(0),
                self.encoder.device(),
            )?,
            ways,
            shots: i64::try_from(shape.shots).unwrap_or(0),
        };
        Ok((loss.forward(&batch)?, items.len()))
    }

    /// The loss of contrastive batch `step` (two views of each image) and the images embedded.
    fn contrastive_loss(&self, data: &ImageClassSet, step: u64) -> Result<(Tensor, usize)> {
        let Objective::Contrastive {
            batch_size, heads, ..
        } = &self.objective
        else {
            return Err(TrainError::InvalidInput("not a contrastive run".to_owned()));
        };
        let mut rng =
            StdRng::seed_from_u64(self.config.seed ^ step.wrapping_add(1).wrapping_mul(STEP_MIX));
        let items = sample(&mut rng, data.len(), *batch_size).into_vec();
        let mut pixels = self.gather(data, &items, step, 1)?;
        pixels.extend(self.gather(data, &items, step, 2)?);
        let images = self.encoder.images_tensor(&pixels, 2 * items.len())?;
        let embedded = self.encoder.forward_t(&images, true)?;
        let b = i64::try_from(*batch_size).unwrap_or(0);
        let loss = heads.forward(&embedded.f_narrow(0, 0, b)?, &embedded.f_narrow(0, b, b)?)?;
        Ok((loss, 2 * items.len()))
    }
}

/// A step whose update is queued and whose loss has not been read back yet.
struct QueuedStep {
    step: u64,
    loss: Tensor,
    lr: f64,
    grad_norm: Option<f64>,
    images: usize,
    started: Instant,
}

/// Reads back a queued step's loss (the device sync) and reports it; a non-finite loss ends the
/// run. `ended` is when the next step began; `None` for the last step (then: after the sync).
/// Returns how long the read-back waited.
#[expect(
    clippy::cast_precision_loss,
    reason = "image counts are far below 2^53"
)]
fn report(
    queued: &QueuedStep,
    ended: Option<Instant>,
    losses: &mut Vec<f64>,
    on_step: &mut impl FnMut(&FewshotStepReport),
) -> Result<Duration> {
    let asked = Instant::now();
    let value = queued.loss.f_double_value(&[])?;
    let waited = asked.elapsed();
    if !value.is_finite() {
        return Err(non_finite(
            queued.step,
            value,
            queued.grad_norm.unwrap_or(f64::NAN),
        ));
    }
    let ended = ended.unwrap_or_else(Instant::now);
    losses.push(value);
    on_step(&FewshotStepReport {
        step: queued.step,
        loss: value,
        lr: queued.lr,
        grad_norm: queued.grad_norm,
        images_per_second: queued.images as f64
            / ended.duration_since(queued.started).as_secs_f64(),
    });
    Ok(waited)
}

/// The error of a step whose loss or gradient norm is not finite.
fn non_finite(step: u64, loss: f64, grad_norm: f64) -> TrainError {
    TrainError::NonFiniteLoss {
        step,
        loss,
        grad_norm,
        kept: "nothing: image runs keep no checkpoint".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use pairwise_datasets::images::{load_omniglot, OmniglotOptions, OmniglotSplit};

    use super::*;
    use crate::fewshot::FewshotData;
    use crate::losses::EpisodeLossConfig;

    fn omniglot(characters: usize) -> ImageClassSet {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/omniglot");
        let options = OmniglotOptions {
            max_characters: Some(characters),
            ..OmniglotOptions::default()
        };
        load_omniglot(&dir, OmniglotSplit::Background, &options).unwrap()
    }

    fn episodic(ways: usize, shots: usize, queries: usize, steps: u64) -> FewshotConfig {
        FewshotConfig {
            method: FewshotMethod::Episodic {
                ways,
                shots,
                queries,
                loss: EpisodeLossConfig::default(),
            },
            steps,
            data: FewshotData::default(),
            ..FewshotConfig::default()
        }
    }

    #[test]
    fn protonet_training_lowers_the_loss_on_real_omniglot() {
        let data = omniglot(20);
        let mut trainer = FewshotTrainer::new(episodic(5, 2, 3, 30), Device::Cpu).unwrap();
        let mut losses = Vec::new();
        let summary = trainer.fit(&data, |r| losses.push(r.loss)).unwrap();
        assert_eq!(summary.steps, 30);
        let first: f64 = losses[..5].iter().sum::<f64>() / 5.0;
        let last: f64 = losses[25..].iter().sum::<f64>() / 5.0;
        assert!(last < first, "loss went from {first} to {last}");
    }

    #[test]
    fn every_step_is_reported_once_in_order() {
        // Losses are read back one step late (see `fit`); the reports must not show it.
        let data = omniglot(10);
        let mut trainer = FewshotTrainer::new(episodic(5, 1, 2, 4), Device::Cpu).unwrap();
        let mut reports = Vec::new();
        let summary = trainer.fit(&data, |r| reports.push(*r)).unwrap();
        let steps: Vec<u64> = reports.iter().map(|r| r.step).collect();
        assert_eq!(steps, [1, 2, 3, 4]);
        assert_eq!(summary.final_loss, reports[3].loss);
        assert!(reports.iter().all(|r| r.images_per_second > 0.0));
        assert!((0.0..=summary.seconds).contains(&summary.device_wait_seconds));
    }

    #[test]
    fn same_seed_same_run() {
        let data = omniglot(10);
        let run = || {
            let mut trainer = FewshotTrainer::new(episodic(5, 1, 2, 3), Device::Cpu).unwrap();
            let mut losses = Vec::new();
            trainer.fit(&data, |r| losses.push(r.loss)).unwrap();
            losses
        };
        assert_eq!(run(), run());
    }

    #[test]
    fn too_many_ways_and_too_small_classes_are_clear_errors() {
        let data = omniglot(4);
        let mut trainer = FewshotTrainer::new(episodic(5, 1, 1, 1), Device::Cpu).unwrap();
        let err = trainer.fit(&data, |_| {}).unwrap_err().to_string();
        assert!(
            err.contains("5-way episodes need at least 5 classes"),
            "{err}"
        );
        let mut trainer = FewshotTrainer::new(episodic(2, 15, 10, 1), Device::Cpu).unwrap();
        let err = trainer.fit(&data, |_| {}).unwrap_err().to_string();
        assert!(err.contains("fewer than shots + queries = 25"), "{err}");
    }

    #[test]
    fn contrastive_amcl_runs_and_trains_the_backbone() {
        let data = omniglot(8);
        let text = r#"
            task = "fewshot"
            steps = 2
            [method]
            kind = "contrastive"
            batch_size = 8
            [method.heads]
            heads = 3
            hidden_dim = 16
            proj_dim = 8
            objective = { type = "amcl", beta = 0.1, tau_min = 0.05, tau_max = 2.0, temperature_hidden = 8 }
            [augment]
            crop_min_scale = 0.6
            max_rotation_deg = 10
            noise_std = 0.05
        "#;
        let config: FewshotConfig = toml::from_str(text).unwrap();
        let mut trainer = FewshotTrainer::new(config, Device::Cpu).unwrap();
        let before = trainer.encoder().embed_all(&data, 64).unwrap();
        let summary = trainer.fit(&data, |r| assert!(r.loss.is_finite())).unwrap();
        assert_eq!(summary.steps, 2);
        assert_ne!(trainer.encoder().embed_all(&data, 64).unwrap(), before);
    }
}
