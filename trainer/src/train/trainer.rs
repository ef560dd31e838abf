//! [`Trainer`]: the loop that fine-tunes a sentence encoder on (query, positive[, negatives])
//! examples.

use std::time::Instant;

use pairwise_datasets::{NoDuplicatesBatchSampler, TrainingExample};
use serde::Serialize;
use tch::{Device, Tensor};

use crate::device::{DeviceChoice, Precision};
use crate::encoder::{EncoderOptions, SentenceEncoder};
use crate::error::{Result, TrainError};
use crate::losses::{EmbeddingBatch, EmbeddingLoss};
use crate::optim::{clip_grad_norm, AdamW, LrSchedule, WarmupLinear};
use crate::text::TokenizedText;
use crate::train::TrainConfig;

/// What one optimisation step did, for progress bars and the metrics log.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct StepReport {
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
    /// Training examples per second over this step.
    pub examples_per_second: f64,
}

/// What a finished run did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrainSummary {
    /// Steps taken.
    pub steps: u64,
    /// Examples seen.
    pub examples: u64,
    /// Wall-clock seconds of the loop.
    pub seconds: f64,
    /// Mean loss over the last epoch's steps.
    pub final_loss: f64,
}

/// Fine-tunes a [`SentenceEncoder`] with one of the [`losses`](crate::losses).
pub struct Trainer {
    config: TrainConfig,
    encoder: SentenceEncoder,
    loss: Box<dyn EmbeddingLoss>,
    optimizer: AdamW,
}

impl std::fmt::Debug for Trainer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trainer")
            .field("loss", &self.loss.name())
            .finish_non_exhaustive()
    }
}

impl Trainer {
    /// Loads the base model and builds the loss and optimiser.
    ///
    /// # Errors
    /// Model loading errors (naming the file) and invalid settings.
    pub fn new(config: TrainConfig, device: DeviceChoice) -> Result<Self> {
        config.validate().map_err(TrainError::InvalidInput)?;
        tch::manual_seed(i64::try_from(config.schedule.seed % (1 << 62)).unwrap_or(0));
        let options = EncoderOptions {
            max_length: Some(config.model.max_length),
            batch_size: config.schedule.batch_size,
            device,
            precision: Precision::F32,
        };
        let mut encoder = SentenceEncoder::load(&config.model.base, options)?;
        encoder.unfreeze();
        let optimizer = AdamW::new(encoder.var_store(), config.optim.clone())?;
        let loss = config.loss.build()?;
        Ok(Self {
            config,
            encoder,
            loss,
            optimizer,
        })
    }

    /// The model being trained.
    pub fn encoder(&self) -> &SentenceEncoder {
        &self.encoder
    }

    /// Runs the configured epochs (or `max_steps`) over `examples`, calling `on_step` after
    /// every step.
    ///
    /// # Errors
    /// [`TrainError::InvalidInput`] for too few examples, [`TrainError::NonFiniteLoss`] when a
    /// loss or gradient turns NaN or infinite (training stops; nothing is saved), and libtorch
    /// failures.
    pub fn fit(
        &mut self,
        examples: &[TrainingExample],
        mut on_step: impl FnMut(&StepReport),
    ) -> Result<TrainSummary> {
        let settings = self.config.schedule.clone();
        let sampler =
            NoDuplicatesBatchSampler::new(examples, settings.batch_size, settings.seed, true)
                .map_err(|e| TrainError::InvalidInput(e.to_string()))?;
        let batches_per_epoch = sampler.epoch(0).len() as u64;
        if batches_per_epoch == 0 {
            return Err(TrainError::InvalidInput(format!(
                "{} examples do not fill one batch of {}",
                examples.len(),
                settings.batch_size
            )));
        }
        let planned = batches_per_epoch * settings.epochs as u64;
        let total_steps = settings.max_steps.map_or(planned, |m| m.min(planned));
        let warmup_steps = (total_steps as f64 * settings.warmup_ratio).round() as u64;
        let schedule = WarmupLinear {
            peak_lr: self.config.optim.lr,
            warmup_steps,
            total_steps,
        };
        let started = Instant::now();
        let (mut step, mut seen, mut epoch_losses) = (0u64, 0u64, Vec::new());
        'epochs: for epoch in 0..settings.epochs {
            epoch_losses.clear();
            for batch in sampler.epoch(epoch as u64) {
                if step >= total_steps {
                    break 'epochs;
                }
                let tick = Instant::now();
                let chosen: Vec<&TrainingExample> = batch.iter().map(|&i| &examples[i]).collect();
                let lr = schedule.lr(step);
                let (loss, grad_norm) = self.step(&chosen, lr, settings.max_grad_norm)?;
                step += 1;
                seen += chosen.len() as u64;
                if !loss.is_finite() || !grad_norm.is_finite() {
                    return Err(TrainError::NonFiniteLoss {
                        step,
                        loss,
                        grad_norm,
                    });
                }
                epoch_losses.push(loss);
                let report = StepReport {
                    step,
                    epoch,
                    loss,
                    lr,
                    grad_norm,
                    examples_per_second: chosen.len() as f64 / tick.elapsed().as_secs_f64(),
                };
                on_step(&report);
            }
        }
        let final_loss = epoch_losses.iter().sum::<f64>() / epoch_losses.len().max(1) as f64;
        Ok(TrainSummary {
            steps: step,
            examples: seen,
            seconds: started.elapsed().as_secs_f64(),
            final_loss,
        })
    }

    /// One optimisation step; returns the loss and the gradient norm before clipping.
    fn step(
        &mut self,
        batch: &[&TrainingExample],
        lr: f64,
        max_grad_norm: f64,
    ) -> Result<(f64, f64)> {
        let queries: Vec<&str> = batch.iter().map(|e| e.query.as_str()).collect();
        let positives: Vec<&str> = batch.iter().map(|e| e.positive.as_str()).collect();
        let per_query = batch.iter().map(|e| e.negatives.len()).min().unwrap_or(0);
        let negatives: Vec<&str> = batch
            .iter()
            .flat_map(|e| e.negatives.iter().take(per_query).map(String::as_str))
            .collect();
        let autocast = matches!(self.encoder.device(), Device::Cuda(_));
        let loss = tch::autocast(autocast, || -> Result<Tensor> {
            let embed_batch = EmbeddingBatch {
                queries: self.embed(&queries)?,
                positives: self.embed(&positives)?,
                negatives: if per_query > 0 {
                    let flat = self.embed(&negatives)?;
                    let b = i64::try_from(batch.len()).unwrap_or(0);
                    Some(flat.f_view([b, i64::try_from(per_query).unwrap_or(0), -1])?)
                } else {
                    None
                },
            };
            self.loss.forward(&embed_batch)
        })?;
        self.optimizer.zero_grad()?;
        loss.f_backward()?;
        let grad_norm = clip_grad_norm(self.optimizer.tensors(), max_grad_norm)?;
        self.optimizer.step(lr)?;
        Ok((loss.f_double_value(&[])?, grad_norm))
    }

    /// Embeds texts with dropout on, keeping the graph for backward.
    fn embed(&self, texts: &[&str]) -> Result<Tensor> {
        let tokens = self.encoder.tokenizer().tokenize(texts)?;
        let refs: Vec<&TokenizedText> = tokens.iter().collect();
        let batch = self
            .encoder
            .tokenizer()
            .batch(&refs, self.encoder.device())?;
        Ok(self
            .encoder
            .embed_tokens_t(&batch.input_ids, &batch.attention_mask, true)?
            .f_to_kind(tch::Kind::Float)?)
    }
}
