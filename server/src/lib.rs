//! The pairwise HTTP search service.
//!
//! * [`app`] builds the router (`/v1` collections, documents, search, embeddings and
//!   evaluation; `/healthz`, `/readyz`, `/metrics`, `/openapi.json`) over an [`AppState`].
//! * [`serve`] runs it on a listener until a shutdown signal ([`shutdown_signal`]), then
//!   snapshots changed collections.
//! * The encoder runs on its own thread per model ([`EncoderHandle`]) and batches concurrent
//!   requests dynamically.
//! * Every failure is an [`ApiError`]: a status and `{"error": {"code", "message"}}`.
//! * [`ServerConfig`] holds every tunable; the binary layers TOML, environment and flags.

mod app;
mod auth;
mod config;
mod encoder;
mod error;
mod extract;
mod metrics;
pub mod routes;
mod run;
mod shutdown;
mod state;

pub use app::app;
pub use config::{AuthConfig, ConfigError, EncoderConfig, LimitsConfig, ServerConfig};
pub use encoder::{EncoderHandle, Encoders};
pub use error::ApiError;
pub use extract::{ApiJson, ApiPath, ApiQuery};
pub use metrics::{Metrics, SearchStage};
pub use run::run;
pub use shutdown::{serve, shutdown_signal};
pub use state::{valid_name, AppState, CollectionSlot};
