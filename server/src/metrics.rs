//! Prometheus metrics: requests by route, search latency by stage, encoder batching.

use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry, TextEncoder,
};

use crate::error::ApiError;
use crate::state::AppState;

/// Latency buckets from 100 µs to 10 s.
const LATENCY_BUCKETS: [f64; 16] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

/// The server's metrics, registered in their own registry.
#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    request_seconds: HistogramVec,
    search_stage_seconds: HistogramVec,
    encoder_batch_texts: Histogram,
    encoder_queue_seconds: Histogram,
}

/// A stage of a search, timed separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchStage {
    /// Encoding the query text (queue wait included).
    Encode,
    /// The vector index.
    Vector,
    /// The BM25 index.
    Bm25,
    /// Rank fusion (hybrid).
    Fusion,
}

impl SearchStage {
    fn label(self) -> &'static str {
        match self {
            Self::Encode => "encode",
            Self::Vector => "vector",
            Self::Bm25 => "bm25",
            Self::Fusion => "fusion",
        }
    }
}

impl Metrics {
    /// Creates and registers every metric.
    ///
    /// # Errors
    /// [`ApiError::Internal`] if registration fails (a duplicate name: a bug).
    pub fn new() -> Result<Self, ApiError> {
        let registry = Registry::new();
        let latency = |name: &str, help: &str| {
            HistogramOpts::new(name, help).buckets(LATENCY_BUCKETS.to_vec())
        };
        let requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests by method, route and status.",
            ),
            &["method", "route", "status"],
        )
        .map_err(internal)?;
        let request_seconds = HistogramVec::new(
            latency(
                "http_request_duration_seconds",
                "HTTP request latency by route.",
            ),
            &["method", "route"],
        )
        .map_err(internal)?;
        let search_stage_seconds = HistogramVec::new(
            latency("search_stage_duration_seconds", "Search latency by stage."),
            &["stage"],
        )
        .map_err(internal)?;
        let encoder_batch_texts = Histogram::with_opts(
            HistogramOpts::new("encoder_batch_texts", "Texts per encoder forward pass.")
                .buckets(vec![1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0]),
        )
        .map_err(internal)?;
        let encoder_queue_seconds = Histogram::with_opts(latency(
            "encoder_queue_seconds",
            "Time an encode request waits before its batch starts.",
        ))
        .map_err(internal)?;
        registry
            .register(Box::new(requests.clone()))
            .and_then(|()| registry.register(Box::new(request_seconds.clone())))
            .and_then(|()| registry.register(Box::new(search_stage_seconds.clone())))
            .and_then(|()| registry.register(Box::new(encoder_batch_texts.clone())))
            .and_then(|()| registry.register(Box::new(encoder_queue_seconds.clone())))
            .map_err(internal)?;
        Ok(Self {
            registry,
            requests,
            request_seconds,
            search_stage_seconds,
            encoder_batch_texts,
            encoder_queue_seconds,
        })
    }

    /// Records one search stage.
    pub fn observe_stage(&self, stage: SearchStage, elapsed: Duration) {
        self.search_stage_seconds
            .with_label_values(&[stage.label()])
            .observe(elapsed.as_secs_f64());
    }

    /// Records one encoder batch and how long its requests waited.
    pub(crate) fn observe_encoder_batch(
        &self,
        texts: usize,
        waits: impl Iterator<Item = Duration>,
    ) {
        self.encoder_batch_texts.observe(texts as f64);
        for wait in waits {
            self.encoder_queue_seconds.observe(wait.as_secs_f64());
        }
    }

    /// The Prometheus text exposition of every metric.
    ///
    /// # Errors
    /// [`ApiError::Internal`] if encoding fails.
    pub fn render(&self) -> Result<String, ApiError> {
        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .map_err(internal)?;
        String::from_utf8(out).map_err(internal)
    }
}

fn internal(error: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(format!("metrics: {error}"))
}

/// Middleware: counts and times every request by its matched route (not the raw path, so ids
/// do not explode the label space).
pub(crate) async fn track_metrics(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let start = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_owned();
    let method = request.method().as_str().to_owned();
    let response = next.run(request).await;
    let metrics = state.metrics();
    metrics
        .request_seconds
        .with_label_values(&[method.as_str(), route.as_str()])
        .observe(start.elapsed().as_secs_f64());
    metrics
        .requests
        .with_label_values(&[method.as_str(), route.as_str(), response.status().as_str()])
        .inc();
    response
}
