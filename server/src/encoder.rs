//! The encoder worker: one dedicated thread per model (tch tensors are not `Sync`), fed through
//! a bounded queue, batching concurrent requests dynamically.
//!
//! The worker takes the first waiting request, then everything already queued, then waits up
//! to `max_wait` for more while the batch holds fewer than `max_batch` texts; it encodes the
//! batch in one forward pass and answers each request on its own oneshot channel. With
//! `max_batch = 1` every request is encoded alone.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pairwise_trainer::{DeviceChoice, EncoderOptions, Precision, SentenceEncoder};
use tokio::sync::{oneshot, Mutex};

use crate::config::EncoderConfig;
use crate::error::ApiError;
use crate::metrics::Metrics;

type Reply = oneshot::Sender<Result<Vec<Vec<f32>>, String>>;

/// One request: texts in, one vector per text out.
struct Job {
    texts: Vec<String>,
    reply: Reply,
    enqueued: Instant,
}

/// A cheap, cloneable handle to one model's worker thread.
#[derive(Debug, Clone)]
pub struct EncoderHandle {
    sender: SyncSender<Job>,
    dim: usize,
    model: Arc<PathBuf>,
}

impl EncoderHandle {
    /// Loads the model on a new thread and returns once it is ready. Blocks: call it off the
    /// async executor.
    ///
    /// # Errors
    /// [`ApiError::ModelUnavailable`] when the model cannot be loaded.
    pub fn start(model: &Path, config: &EncoderConfig, metrics: Metrics) -> Result<Self, ApiError> {
        let device = DeviceChoice::from_str(&config.device)
            .map_err(|e| ApiError::ModelUnavailable(format!("encoder device: {e}")))?;
        let options = EncoderOptions {
            max_length: Some(config.max_length),
            batch_size: config.max_batch,
            device,
            precision: Precision::F32,
        };
        let (sender, receiver) = mpsc::sync_channel::<Job>(config.queue_capacity);
        let (ready_tx, ready_rx) = mpsc::channel::<Result<usize, String>>();
        let dir = model.to_path_buf();
        let batching = Batching {
            max_batch: config.max_batch,
            max_wait: config.max_wait(),
        };
        let threads = config.threads;
        std::thread::Builder::new()
            .name("encoder".to_owned())
            .spawn(move || {
                if threads > 0 {
                    tch::set_num_threads(i32::try_from(threads).unwrap_or(i32::MAX));
                }
                match SentenceEncoder::load(&dir, options) {
                    Ok(encoder) => {
                        // The receiver is gone only if `start` returned already.
                        if ready_tx.send(Ok(encoder.dim())).is_ok() {
                            run(&encoder, &receiver, batching, &metrics);
                        }
                    }
                    Err(error) => {
                        let _ = ready_tx.send(Err(error.to_string()));
                    }
                }
            })
            .map_err(|e| ApiError::Internal(format!("cannot start the encoder thread: {e}")))?;
        let dim = ready_rx
            .recv()
            .map_err(|_| ApiError::ModelUnavailable("the encoder thread stopped".to_owned()))?
            .map_err(|e| {
                ApiError::ModelUnavailable(format!(
                    "cannot load the model in {}: {e}",
                    model.display()
                ))
            })?;
        tracing::info!(model = %model.display(), dim, "encoder ready");
        Ok(Self {
            sender,
            dim,
            model: Arc::new(model.to_path_buf()),
        })
    }

    /// The embedding width.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The model folder.
    pub fn model(&self) -> &Path {
        &self.model
    }

    /// Encodes texts (batched with other concurrent requests); one vector per text, in order.
    ///
    /// # Errors
    /// [`ApiError::Overloaded`] when the queue is full; [`ApiError::Internal`] when encoding
    /// fails.
    pub async fn encode(&self, texts: Vec<String>) -> Result<Vec<Vec<f32>>, ApiError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let (reply, answer) = oneshot::channel();
        let job = Job {
            texts,
            reply,
            enqueued: Instant::now(),
        };
        self.sender.try_send(job).map_err(|e| match e {
            TrySendError::Full(_) => ApiError::Overloaded,
            TrySendError::Disconnected(_) => {
                ApiError::ModelUnavailable("the encoder has stopped".to_owned())
            }
        })?;
        answer
            .await
            .map_err(|_| ApiError::Internal("the encoder dropped a request".to_owned()))?
            .map_err(|e| ApiError::Internal(format!("encoder: {e}")))
    }
}

#[derive(Debug, Clone, Copy)]
struct Batching {
    max_batch: usize,
    max_wait: Duration,
}

/// The worker loop: runs until every handle is dropped.
fn run(encoder: &SentenceEncoder, receiver: &Receiver<Job>, batching: Batching, metrics: &Metrics) {
    while let Ok(first) = receiver.recv() {
        let mut texts = first.texts.len();
        let mut jobs = vec![first];
        let deadline = Instant::now() + batching.max_wait;
        while texts < batching.max_batch {
            let next = match receiver.try_recv() {
                Ok(job) => Ok(job),
                Err(_) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        break;
                    }
                    receiver.recv_timeout(left)
                }
            };
            match next {
                Ok(job) => {
                    texts += job.texts.len();
                    jobs.push(job);
                }
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => break,
            }
        }
        // Callers that gave up (timeout, disconnect) need no work.
        jobs.retain(|job| !job.reply.is_closed());
        if jobs.is_empty() {
            continue;
        }
        let started = Instant::now();
        metrics.observe_encoder_batch(
            jobs.iter().map(|j| j.texts.len()).sum(),
            jobs.iter().map(|j| started.duration_since(j.enqueued)),
        );
        encode_batch(encoder, jobs);
    }
}

/// Encodes every job's texts in one call and answers each job with its own rows.
fn encode_batch(encoder: &SentenceEncoder, jobs: Vec<Job>) {
    let all: Vec<&str> = jobs
        .iter()
        .flat_map(|j| j.texts.iter().map(String::as_str))
        .collect();
    match encoder.encode(&all) {
        Ok(embeddings) => {
            let mut rows = embeddings.rows();
            for job in jobs {
                let vectors: Vec<Vec<f32>> = rows
                    .by_ref()
                    .take(job.texts.len())
                    .map(<[f32]>::to_vec)
                    .collect();
                let _ = job.reply.send(Ok(vectors));
            }
        }
        Err(error) => {
            let message = error.to_string();
            tracing::error!(error = %message, "encoding failed");
            for job in jobs {
                let _ = job.reply.send(Err(message.clone()));
            }
        }
    }
}

/// One worker per model folder, started on first use.
#[derive(Debug)]
pub struct Encoders {
    config: EncoderConfig,
    metrics: Metrics,
    workers: Mutex<HashMap<PathBuf, EncoderHandle>>,
}

impl Encoders {
    /// An empty pool; workers start on demand.
    pub fn new(config: EncoderConfig, metrics: Metrics) -> Self {
        Self {
            config,
            metrics,
            workers: Mutex::new(HashMap::new()),
        }
    }

    /// The worker for `model`, loading it on first use (off the executor).
    ///
    /// # Errors
    /// [`ApiError::ModelUnavailable`] when the model cannot be loaded.
    pub async fn get(&self, model: &Path) -> Result<EncoderHandle, ApiError> {
        let mut workers = self.workers.lock().await;
        if let Some(handle) = workers.get(model) {
            return Ok(handle.clone());
        }
        let (dir, config, metrics) = (
            model.to_path_buf(),
            self.config.clone(),
            self.metrics.clone(),
        );
        let handle =
            tokio::task::spawn_blocking(move || EncoderHandle::start(&dir, &config, metrics))
                .await??;
        workers.insert(model.to_path_buf(), handle.clone());
        Ok(handle)
    }

    /// Stops every worker (each ends once its queue is drained and its handles are dropped).
    pub async fn stop(&self) {
        self.workers.lock().await.clear();
    }
}
