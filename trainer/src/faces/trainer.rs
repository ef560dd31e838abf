//! [`FaceTrainer`]: trains a [`FaceModel`] with a margin head (and optionally UNPG) on P×K
//! batches, and [`load_face_data`], which reads the configured image sets and applies the
//! identity split.

use std::path::PathBuf;
use std::time::Instant;

use pairwise_datasets::{
    all_pairs, exclude_pair_identities, read_face_pairs, ClassBalancedBatchSampler, FacePair,
    Image, ImageFolder, SmallClassPolicy,
};
use serde::Serialize;
use tch::{nn, Device, Kind, Tensor};

use crate::device::DeviceChoice;
use crate::error::{Result, TrainError};
use crate::faces::{FaceModel, FacesConfig};
use crate::losses::{ClassificationLoss, MarginSoftmax, Unpg};
use crate::optim::{clip_grad_norm, AdamW, LrSchedule, WarmupLinear};

/// The decoded training images with dense labels.
#[derive(Debug)]
pub struct FaceTrainingData {
    /// Images, decoded to the model's input.
    pub images: Vec<Image>,
    /// Label of each image, in `[0, classes.len())`.
    pub labels: Vec<usize>,
    /// Identity names, `<source index>/<folder name>`.
    pub classes: Vec<String>,
    /// Pairs of the held-out identities (paths relative to `held_out_root`), if any.
    pub held_out_pairs: Vec<FacePair>,
    /// The image folder the held-out pairs refer to.
    pub held_out_root: Option<PathBuf>,
    /// Identities removed because a pair file of `exclude_pairs` names them.
    pub excluded_identities: usize,
}

/// Reads every source of `config.data`, removes the identities of `exclude_pairs` and the
/// held-out ones (whose all-pairs list is returned), and decodes the rest for `model`.
///
/// # Errors
/// Data-set errors naming the file, or no identity left.
pub fn load_face_data(config: &FacesConfig, model: &FaceModel) -> Result<FaceTrainingData> {
    let mut excluded = Vec::new();
    for path in &config.data.exclude_pairs {
        excluded.extend(read_face_pairs(path)?);
    }
    let mut data = FaceTrainingData {
        images: Vec::new(),
        labels: Vec::new(),
        classes: Vec::new(),
        held_out_pairs: Vec::new(),
        held_out_root: None,
        excluded_identities: 0,
    };
    for (index, source) in config.data.sources.iter().enumerate() {
        let folder = ImageFolder::open(&source.images)?;
        let kept = exclude_pair_identities(&folder, &excluded);
        data.excluded_identities += folder.classes().len() - kept.classes().len();
        if !source.held_out.is_empty() {
            let held = folder.retain_classes(|name, _| source.held_out.iter().any(|h| h == name));
            if held.classes().len() != source.held_out.len() {
                return Err(TrainError::InvalidInput(format!(
                    "{}: held_out names {} identities, {} of them exist",
                    source.images.display(),
                    source.held_out.len(),
                    held.classes().len()
                )));
            }
            data.held_out_pairs = all_pairs(&held, 10);
            data.held_out_root = Some(source.images.clone());
        }
        let train = kept.retain_classes(|name, _| !source.held_out.iter().any(|h| h == name));
        let options = model.image_options(source.center_crop);
        let offset = data.classes.len();
        data.images.extend(train.load_images(&options)?);
        data.labels
            .extend(train.labels().iter().map(|l| l + offset));
        data.classes
            .extend(train.classes().iter().map(|c| format!("{index}/{c}")));
    }
    if data.classes.is_empty() {
        return Err(TrainError::InvalidInput(
            "no training identity is left after the exclusions".to_owned(),
        ));
    }
    Ok(data)
}

/// What one optimisation step did.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FaceStepReport {
    /// 1-based step number.
    pub step: u64,
    /// 0-based epoch.
    pub epoch: usize,
    /// The loss of this step's batch.
    pub loss: f64,
    /// The learning rate used.
    pub lr: f64,
    /// The global gradient norm before clipping.
    pub grad_norm: f64,
    /// Training images per second over this step.
    pub images_per_second: f64,
}

/// What a finished run did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FaceTrainSummary {
    /// Steps taken.
    pub steps: u64,
    /// Images seen (with repeats over epochs).
    pub images: u64,
    /// Wall-clock seconds of the loop.
    pub seconds: f64,
    /// Images per second over the whole loop.
    pub images_per_second: f64,
    /// Seconds spent in the loss forward (head and UNPG term), part of `seconds`.
    pub loss_forward_seconds: f64,
    /// Mean loss over the last epoch's steps.
    pub final_loss: f64,
    /// Identities that fill at least one P×K group.
    pub classes_used: usize,
    /// Identities left out for having fewer than K images.
    pub classes_skipped: usize,
}

/// The mean loss of the last epoch in `losses` (0 when there is none).
fn final_epoch_mean(losses: &[(usize, f64)]) -> f64 {
    let Some(&(last, _)) = losses.last() else {
        return 0.0;
    };
    let values: Vec<f64> = losses
        .iter()
        .filter(|(epoch, _)| *epoch == last)
        .map(|(_, loss)| *loss)
        .collect();
    values.iter().sum::<f64>() / values.len() as f64
}

/// Trains a [`FaceModel`] and its class weights.
pub struct FaceTrainer {
    config: FacesConfig,
    model: FaceModel,
    head_vs: nn::VarStore,
    head_weight: Tensor,
    loss: Box<dyn ClassificationLoss>,
    optimizer: AdamW,
}

impl std::fmt::Debug for FaceTrainer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaceTrainer")
            .field("loss", &self.loss.name())
            .finish_non_exhaustive()
    }
}

impl FaceTrainer {
    /// A freshly initialised model (seeded with `schedule.seed`) and its loss and optimiser.
    ///
    /// # Errors
    /// Invalid settings, an unavailable device.
    pub fn new(config: FacesConfig, device: DeviceChoice) -> Result<Self> {
        config.validate()?;
        let device = device.resolve()?;
        tch::manual_seed(i64::try_from(config.schedule.seed % (1 << 62)).unwrap_or(0));
        let model = FaceModel::initialised(config.model.clone(), device)?;
        let loss: Box<dyn ClassificationLoss> = match config.unpg {
            Some(unpg) => Box::new(Unpg::new(config.head, unpg)?),
            None => Box::new(MarginSoftmax::new(config.head)?),
        };
        let head_vs = nn::VarStore::new(device);
        let head_weight = Tensor::zeros([1, 1], (Kind::Float, device));
        let optimizer = AdamW::new(model.var_store(), config.optim.clone())?;
        Ok(Self {
            config,
            model,
            head_vs,
            head_weight,
            loss,
            optimizer,
        })
    }

    /// The model being trained.
    pub fn model(&self) -> &FaceModel {
        &self.model
    }

    /// The loss's name, e.g. `arcface+unpg`.
    pub fn loss_name(&self) -> &'static str {
        self.loss.name()
    }

    /// Creates the class weights (`N(0, 0.01)`, as insightface) for `classes` identities and
    /// the optimiser over backbone and head.
    fn init_head(&mut self, classes: usize) -> Result<()> {
        let dim = self.config.model.embedding_dim();
        let classes = i64::try_from(classes).unwrap_or(i64::MAX);
        self.head_weight = (self.head_vs.root() / "head").var(
            "weight",
            &[classes, dim],
            nn::Init::Randn {
                mean: 0.0,
                stdev: 0.01,
            },
        );
        let mut named: Vec<(String, Tensor)> = self
            .model
            .var_store()
            .variables()
            .into_iter()
            .filter(|(_, t)| t.requires_grad())
            .collect();
        named.push(("head.weight".to_owned(), self.head_weight.shallow_clone()));
        self.optimizer = AdamW::from_named(named, self.config.optim.clone())?;
        Ok(())
    }

    /// Runs the configured epochs (or `max_steps`) of P×K batches over `data`, calling
    /// `on_step` after every step.
    ///
    /// # Errors
    /// [`TrainError::InvalidInput`] when no P×K batch can be formed,
    /// [`TrainError::NonFiniteLoss`] when the loss turns NaN or infinite, libtorch failures.
    pub fn fit(
        &mut self,
        data: &FaceTrainingData,
        mut on_step: impl FnMut(&FaceStepReport),
    ) -> Result<FaceTrainSummary> {
        let s = self.config.schedule.clone();
        let sampler = ClassBalancedBatchSampler::new(
            &data.labels,
            s.classes_per_batch,
            s.images_per_class,
            s.seed,
            SmallClassPolicy::Skip,
        )
        .map_err(|e| TrainError::InvalidInput(e.to_string()))?;
        self.init_head(data.classes.len())?;
        let device = self.model.device();
        let all_images: Vec<&Image> = data.images.iter().collect();
        let pixels = self.model.images_to_tensor(&all_images, device)?;
        let labels =
            Tensor::f_from_slice(&data.labels.iter().map(|&l| l as i64).collect::<Vec<_>>())?
                .f_to_device(device)?;
        let batches_per_epoch = sampler.epoch(0).len() as u64;
        let planned = batches_per_epoch * s.epochs as u64;
        let total_steps = s.max_steps.map_or(planned, |m| m.min(planned));
        let schedule = WarmupLinear {
            peak_lr: self.config.optim.lr,
            warmup_steps: (total_steps as f64 * s.warmup_ratio).round() as u64,
            total_steps,
        };
        let started = Instant::now();
        let (mut step, mut seen, mut loss_seconds) = (0, 0, 0.0);
        // (epoch, loss) of every step: the summary's final loss is the mean over the last epoch
        // that took a step.
        let mut losses: Vec<(usize, f64)> = Vec::new();
        'epochs: for epoch in 0..s.epochs {
            for batch in sampler.epoch(epoch as u64) {
                if step >= total_steps {
                    break 'epochs;
                }
                let tick = Instant::now();
                let index =
                    Tensor::f_from_slice(&batch.iter().map(|&i| i as i64).collect::<Vec<_>>())?
                        .f_to_device(device)?;
                let lr = schedule.lr(step);
                let (loss, grad_norm, loss_time) = self.step(&pixels, &labels, &index, lr)?;
                step += 1;
                seen += batch.len() as u64;
                loss_seconds += loss_time;
                if !loss.is_finite() || !grad_norm.is_finite() {
                    return Err(TrainError::NonFiniteLoss {
                        step,
                        loss,
                        grad_norm,
                        kept: "face runs keep no checkpoint".to_owned(),
                    });
                }
                losses.push((epoch, loss));
                on_step(&FaceStepReport {
                    step,
                    epoch,
                    loss,
                    lr,
                    grad_norm,
                    images_per_second: batch.len() as f64 / tick.elapsed().as_secs_f64(),
                });
            }
        }
        let seconds = started.elapsed().as_secs_f64();
        Ok(FaceTrainSummary {
            steps: step,
            images: seen,
            seconds,
            images_per_second: seen as f64 / seconds.max(1e-9),
            loss_forward_seconds: loss_seconds,
            final_loss: final_epoch_mean(&losses),
            classes_used: data.classes.len() - sampler.skipped_classes().len(),
            classes_skipped: sampler.skipped_classes().len(),
        })
    }

    /// One step; returns the loss, the gradient norm before clipping and the loss-forward time.
    fn step(
        &mut self,
        pixels: &Tensor,
        labels: &Tensor,
        index: &Tensor,
        lr: f64,
    ) -> Result<(f64, f64, f64)> {
        let mut xs = pixels.f_index_select(0, index)?;
        if self.config.schedule.random_flip {
            let n = index.size().first().copied().unwrap_or(0);
            let flip = Tensor::f_rand([n, 1, 1, 1], (Kind::Float, xs.device()))?.f_lt(0.5)?;
            xs = xs.f_flip([3])?.f_where_self(&flip, &xs)?;
        }
        let y = labels.f_index_select(0, index)?;
        let features = self.model.forward_t(&xs, true)?;
        let tick = Instant::now();
        let loss = self.loss.forward(&features, &self.head_weight, &y)?;
        if let Device::Cuda(ordinal) = xs.device() {
            tch::Cuda::synchronize(i64::try_from(ordinal).unwrap_or(0));
        }
        let loss_time = tick.elapsed().as_secs_f64();
        self.optimizer.zero_grad()?;
        loss.f_backward()?;
        let grad_norm =
            clip_grad_norm(self.optimizer.tensors(), self.config.schedule.max_grad_norm)?;
        self.optimizer.step(lr)?;
        Ok((loss.f_double_value(&[])?, grad_norm, loss_time))
    }
}
