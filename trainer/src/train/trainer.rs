//! [`Trainer`]: the loop that fine-tunes a sentence encoder (or a query and a document tower)
//! on (query, positive[, negatives]) examples, with dev evaluation, keep-best, early stopping
//! and resumable checkpoints.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
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
use crate::train::checkpoint::{self, CheckpointState, ModelIdentity, OPTIMIZER_FILE};
use crate::train::config::Towers;
use crate::train::dev::{DevMetrics, DevSet};
use crate::train::mining::mine_negatives;
use crate::train::seeded::mix;
use crate::train::{TrainConfig, TrainingData};

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

/// Something the training loop did, in order; the metrics log has one JSON line per event.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum TrainEvent {
    /// Hard negatives were mined (before the first step).
    Mined {
        /// Examples that got at least one negative.
        examples_with_negatives: usize,
        /// Negatives in all.
        negatives: usize,
        /// Wall-clock seconds.
        seconds: f64,
    },
    /// One optimisation step.
    Step(StepReport),
    /// A dev evaluation.
    Eval {
        /// Its metrics.
        #[serde(flatten)]
        metrics: DevMetrics,
        /// Whether it is the best so far (its model was saved as the best).
        best: bool,
    },
    /// A checkpoint was written.
    Checkpoint {
        /// Steps completed.
        step: u64,
        /// The folder.
        path: PathBuf,
    },
    /// Training stopped early: `patience` evaluations without improvement.
    EarlyStop {
        /// The last step.
        step: u64,
        /// The step of the best evaluation.
        best_step: u64,
    },
}

/// What a finished run did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrainSummary {
    /// Steps completed (counting those before a resume).
    pub steps: u64,
    /// The step this run resumed after (0 for a fresh run).
    pub resumed_at: u64,
    /// Examples seen by this run.
    pub examples: u64,
    /// Wall-clock seconds of the loop.
    pub seconds: f64,
    /// Mean loss over this run's steps of the last epoch.
    pub final_loss: f64,
    /// The best dev evaluation (its model is in the `best_*` folder).
    pub best: Option<DevMetrics>,
    /// Whether early stopping ended the run.
    pub stopped_early: bool,
    /// Whether the caller stopped the run (the event callback returned `Break`).
    pub interrupted: bool,
}

/// Fine-tunes a [`SentenceEncoder`] (or two, see [`Towers`]) with one of the
/// [`losses`](crate::losses).
pub struct Trainer {
    config: TrainConfig,
    /// The query tower; with shared towers, the only encoder.
    query: SentenceEncoder,
    /// The document tower when towers are separate.
    document: Option<SentenceEncoder>,
    loss: Box<dyn EmbeddingLoss>,
    optimizer: AdamW,
    /// The checkpoint state this trainer resumes from, or a fresh one.
    state: CheckpointState,
}

impl std::fmt::Debug for Trainer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trainer")
            .field("loss", &self.loss.name())
            .field("step", &self.state.step)
            .finish_non_exhaustive()
    }
}

/// Model folder names inside a run or checkpoint folder, with `prefix` (`""` or `"best_"`).
fn model_dirs(towers: Towers, prefix: &str) -> Vec<String> {
    match towers {
        Towers::Shared => vec![format!("{prefix}model")],
        Towers::Separate => vec![
            format!("{prefix}query_model"),
            format!("{prefix}document_model"),
        ],
    }
}

impl Trainer {
    /// Loads the base model (twice with separate towers) and builds the loss and optimiser.
    ///
    /// # Errors
    /// Model loading errors (naming the file) and invalid settings.
    pub fn new(config: TrainConfig, device: DeviceChoice) -> Result<Self> {
        config.validate().map_err(TrainError::InvalidInput)?;
        let base = ModelIdentity::of(&config.model.base)?;
        let dirs = match config.model.towers {
            Towers::Shared => vec![config.model.base.clone()],
            Towers::Separate => vec![config.model.base.clone(), config.model.base.clone()],
        };
        let state = checkpoint::new_state(&config, base, 0)?;
        Self::build(config, device, &dirs, state)
    }

    /// Continues the run whose checkpoint is in `dir` (a checkpoint folder or a run folder
    /// holding `checkpoint/`): weights, AdamW moments, step, best evaluation and mined
    /// negatives come from it; batches and dropout continue exactly where they stopped.
    ///
    /// # Errors
    /// [`TrainError::BadCheckpoint`] when it was written for another configuration (only
    /// `output` may differ) or from another base model; loading errors.
    pub fn resume(config: TrainConfig, device: DeviceChoice, dir: &Path) -> Result<Self> {
        config.validate().map_err(TrainError::InvalidInput)?;
        let dir = checkpoint::locate(dir)?;
        let state = checkpoint::read_for(&dir, &config)?;
        let dirs: Vec<PathBuf> = model_dirs(config.model.towers, "")
            .into_iter()
            .map(|d| dir.join(d))
            .collect();
        let mut trainer = Self::build(config, device, &dirs, state)?;
        trainer
            .optimizer
            .load_state(&dir.join(OPTIMIZER_FILE))
            .map_err(|e| TrainError::BadCheckpoint {
                path: dir.clone(),
                reason: e.to_string(),
            })?;
        Ok(trainer)
    }

    fn build(
        config: TrainConfig,
        device: DeviceChoice,
        dirs: &[PathBuf],
        state: CheckpointState,
    ) -> Result<Self> {
        tch::manual_seed(i64::try_from(config.schedule.seed % (1 << 62)).unwrap_or(0));
        let options = EncoderOptions {
            max_length: Some(config.model.max_length),
            batch_size: config.schedule.batch_size,
            device,
            precision: Precision::F32,
        };
        let mut encoders = dirs
            .iter()
            .map(|dir| {
                let mut encoder = SentenceEncoder::load(dir, options)?;
                encoder.unfreeze();
                if config.schedule.cpu_bf16_matmul && encoder.device() == Device::Cpu {
                    encoder.set_matmul_kind(Some(tch::Kind::BFloat16));
                }
                Ok(encoder)
            })
            .collect::<Result<Vec<_>>>()?;
        let document = if encoders.len() > 1 {
            encoders.pop()
        } else {
            None
        };
        let query = encoders
            .pop()
            .ok_or_else(|| TrainError::InvalidInput("no model to train".to_owned()))?;
        let optimizer = match &document {
            None => AdamW::new(query.var_store(), config.optim.clone())?,
            Some(doc) => {
                let named = tower_variables("query", &query)
                    .chain(tower_variables("document", doc))
                    .collect();
                AdamW::from_named(named, config.optim.clone())?
            }
        };
        let loss = config.loss.build()?;
        Ok(Self {
            config,
            query,
            document,
            loss,
            optimizer,
            state,
        })
    }

    /// The model being trained (the query tower when towers are separate).
    pub fn encoder(&self) -> &SentenceEncoder {
        &self.query
    }

    /// The document tower (the same encoder as [`encoder`](Self::encoder) when shared).
    pub fn document_encoder(&self) -> &SentenceEncoder {
        self.document.as_ref().unwrap_or(&self.query)
    }

    /// Steps completed (those of the checkpoint after [`resume`](Self::resume)).
    pub fn step(&self) -> u64 {
        self.state.step
    }

    /// Writes the model folders into `dir`: `{prefix}model/`, or `{prefix}query_model/` and
    /// `{prefix}document_model/` with separate towers. Returns them.
    ///
    /// # Errors
    /// I/O and libtorch errors.
    pub fn save_models(&self, dir: &Path, prefix: &str) -> Result<Vec<PathBuf>> {
        let names = model_dirs(self.config.model.towers, prefix);
        let encoders = [Some(&self.query), self.document.as_ref()];
        let mut written = Vec::new();
        for (name, encoder) in names.iter().zip(encoders.into_iter().flatten()) {
            let path = dir.join(name);
            encoder.save(&path)?;
            written.push(path);
        }
        Ok(written)
    }

    /// Runs the configured epochs (or `max_steps`) over `data`, from the step this trainer
    /// starts at. Before the first step, mines hard negatives when `[mining]` is set (unless
    /// they came with a checkpoint). After each step, in this order: `on_event(Step)`, the dev
    /// evaluation when due (the best model is saved to `output/best_*`), the checkpoint when
    /// due; early stopping after `patience` evaluations without improvement. `on_event`
    /// returning `Break` stops the run after the current step (its checkpoint, if due, is
    /// written first).
    ///
    /// # Errors
    /// [`TrainError::InvalidInput`] for too few examples or a dev set without queries,
    /// [`TrainError::NonFiniteLoss`] when a loss or gradient turns NaN or infinite (training
    /// stops; the last checkpoint is kept as it was), and I/O and libtorch failures.
    pub fn fit(
        &mut self,
        data: &TrainingData,
        mut on_event: impl FnMut(&TrainEvent) -> ControlFlow<()>,
    ) -> Result<TrainSummary> {
        let settings = self.config.schedule.clone();
        let examples = self.examples_with_negatives(data, &mut on_event)?;
        let dev = match (&self.config.eval, &data.dev) {
            (Some(eval), Some(set)) => {
                if set.queries.is_empty() {
                    return Err(TrainError::InvalidInput(
                        "the dev set has no queries".to_owned(),
                    ));
                }
                Some(DevSet::new(
                    set.clone(),
                    eval.corpus_cap,
                    eval.held_out_seed,
                    eval.auc_negatives,
                ))
            }
            (Some(_), None) => {
                return Err(TrainError::InvalidInput(
                    "[eval] is set but no dev set was loaded".to_owned(),
                ))
            }
            _ => None,
        };
        let sampler =
            NoDuplicatesBatchSampler::new(&examples, settings.batch_size, settings.seed, true)
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
        let resumed_at = self.state.step;
        let (mut position, mut seen, mut epoch_losses) = (0u64, 0u64, Vec::new());
        let (mut stopped_early, mut interrupted) = (false, false);
        'epochs: for epoch in 0..settings.epochs {
            epoch_losses.clear();
            for batch in sampler.epoch(epoch as u64) {
                if self.state.step >= total_steps || stopped_early || interrupted {
                    break 'epochs;
                }
                position += 1;
                if position <= resumed_at {
                    continue;
                }
                let tick = Instant::now();
                let chosen: Vec<&TrainingExample> = batch.iter().map(|&i| &examples[i]).collect();
                let lr = schedule.lr(self.state.step);
                // Dropout depends only on (seed, step), so a resumed run draws the same masks.
                let step_seed = mix(settings.seed, self.state.step) % (1 << 62);
                tch::manual_seed(i64::try_from(step_seed).unwrap_or(0));
                let (loss, grad_norm) = self.train_step(&chosen, lr, settings.max_grad_norm)?;
                let step = self.state.step + 1;
                if !loss.is_finite() || !grad_norm.is_finite() {
                    return Err(TrainError::NonFiniteLoss {
                        step,
                        loss,
                        grad_norm,
                        kept: self.kept_description(),
                    });
                }
                self.state.step = step;
                seen += chosen.len() as u64;
                epoch_losses.push(loss);
                let report = StepReport {
                    step,
                    epoch,
                    loss,
                    lr,
                    grad_norm,
                    examples_per_second: chosen.len() as f64 / tick.elapsed().as_secs_f64(),
                };
                interrupted |= on_event(&TrainEvent::Step(report)).is_break();
                let last = step == total_steps;
                if let (Some(dev), Some(eval)) = (&dev, self.config.eval.clone()) {
                    if step.is_multiple_of(eval.every_steps) || last {
                        let metrics = dev.evaluate(&self.query, self.document_encoder(), step)?;
                        let best = self.record_eval(metrics, eval.metric)?;
                        interrupted |= on_event(&TrainEvent::Eval { metrics, best }).is_break();
                        if eval
                            .patience
                            .is_some_and(|p| self.state.evals_since_best >= p)
                        {
                            stopped_early = true;
                            let best_step = self.state.best.map_or(0, |b| b.step);
                            interrupted |=
                                on_event(&TrainEvent::EarlyStop { step, best_step }).is_break();
                        }
                    }
                }
                if let Some(every) = self.config.checkpoint.as_ref().map(|c| c.every_steps) {
                    if step.is_multiple_of(every) || last || stopped_early || interrupted {
                        let path = self.write_checkpoint()?;
                        interrupted |= on_event(&TrainEvent::Checkpoint { step, path }).is_break();
                    }
                }
            }
        }
        let final_loss = epoch_losses.iter().sum::<f64>() / epoch_losses.len().max(1) as f64;
        Ok(TrainSummary {
            steps: self.state.step,
            resumed_at,
            examples: seen,
            seconds: started.elapsed().as_secs_f64(),
            final_loss,
            best: self.state.best,
            stopped_early,
            interrupted,
        })
    }

    /// The examples with their mined negatives (mined now, or restored from the checkpoint).
    fn examples_with_negatives(
        &mut self,
        data: &TrainingData,
        on_event: &mut impl FnMut(&TrainEvent) -> ControlFlow<()>,
    ) -> Result<Vec<TrainingExample>> {
        let mut examples = data.examples.clone();
        let Some(mining) = self.config.mining.clone() else {
            return Ok(examples);
        };
        let source = data.beir.as_ref().ok_or_else(|| {
            TrainError::InvalidInput("mining needs examples from a BEIR split".to_owned())
        })?;
        let negatives = match &self.state.negatives {
            Some(saved) => saved.clone(),
            None => {
                let started = Instant::now();
                let mined = mine_negatives(
                    &mining,
                    source,
                    self.config.schedule.seed,
                    Some((&self.query, self.document_encoder())),
                )?;
                let _ = on_event(&TrainEvent::Mined {
                    examples_with_negatives: mined.iter().filter(|n| !n.is_empty()).count(),
                    negatives: mined.iter().map(Vec::len).sum(),
                    seconds: started.elapsed().as_secs_f64(),
                });
                self.state.negatives = Some(mined.clone());
                mined
            }
        };
        if negatives.len() != examples.len() {
            return Err(TrainError::InvalidInput(format!(
                "{} mined negative lists for {} examples (the data changed since the checkpoint)",
                negatives.len(),
                examples.len()
            )));
        }
        for (example, docs) in examples.iter_mut().zip(&negatives) {
            example.negatives = docs
                .iter()
                .filter_map(|&d| source.set.corpus.get(d).map(|doc| doc.beir_text()))
                .collect();
        }
        Ok(examples)
    }

    /// Updates the best evaluation; saves the best model when this one improves on it.
    fn record_eval(
        &mut self,
        metrics: DevMetrics,
        metric: crate::train::EvalMetric,
    ) -> Result<bool> {
        let value = metrics.get(metric).unwrap_or(f64::NEG_INFINITY);
        let best_value = self
            .state
            .best
            .and_then(|b| b.get(metric))
            .unwrap_or(f64::NEG_INFINITY);
        let improved = self.state.best.is_none() || value > best_value;
        if improved {
            self.state.best = Some(metrics);
            self.state.evals_since_best = 0;
            self.save_models(&self.config.output, "best_")?;
        } else {
            self.state.evals_since_best += 1;
        }
        Ok(improved)
    }

    fn write_checkpoint(&self) -> Result<PathBuf> {
        fs_err::create_dir_all(&self.config.output)?;
        checkpoint::write(&self.config.output, &self.state, |dir| {
            self.save_models(dir, "")?;
            self.optimizer.save_state(&dir.join(OPTIMIZER_FILE))
        })
    }

    fn kept_description(&self) -> String {
        match checkpoint::locate(&self.config.output) {
            Ok(dir) if self.config.checkpoint.is_some() => {
                let step = fs_err::read_to_string(dir.join("state.json"))
                    .ok()
                    .and_then(|t| serde_json::from_str::<CheckpointState>(&t).ok())
                    .map_or_else(|| "?".to_owned(), |s| s.step.to_string());
                format!(
                    "the last good checkpoint, after step {step}, is kept in {}",
                    dir.display()
                )
            }
            _ => "no checkpoint had been written".to_owned(),
        }
    }

    /// One optimisation step; returns the loss and the gradient norm before clipping.
    fn train_step(
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
        let autocast =
            self.config.schedule.bf16_autocast && matches!(self.query.device(), Device::Cuda(_));
        let documents = self.document_encoder();
        let loss = tch::autocast(autocast, || -> Result<Tensor> {
            let embed_batch = EmbeddingBatch {
                queries: embed(&self.query, &queries)?,
                positives: embed(documents, &positives)?,
                negatives: if per_query > 0 {
                    let flat = embed(documents, &negatives)?;
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
}

/// The trainable variables of `encoder`, named `{tower}.{name}`.
fn tower_variables<'a>(
    tower: &'a str,
    encoder: &SentenceEncoder,
) -> impl Iterator<Item = (String, Tensor)> + 'a {
    encoder
        .var_store()
        .variables()
        .into_iter()
        .filter(|(_, t)| t.requires_grad())
        .map(move |(name, t)| (format!("{tower}.{name}"), t))
}

/// Embeds texts with dropout on, keeping the graph for backward.
fn embed(encoder: &SentenceEncoder, texts: &[&str]) -> Result<Tensor> {
    let tokens = encoder.tokenizer().tokenize(texts)?;
    let refs: Vec<&TokenizedText> = tokens.iter().collect();
    let batch = encoder.tokenizer().batch(&refs, encoder.device())?;
    Ok(encoder
        .embed_tokens_t(&batch.input_ids, &batch.attention_mask, true)?
        .f_to_kind(tch::Kind::Float)?)
}
