//! [`ServerConfig`]: every tunable of the server, read from TOML (the binary layers environment
//! variables and command-line flags on top; this library never reads either).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Why a configuration was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// TOML that does not parse, or an unknown key.
    #[error("invalid server config: {0}")]
    Parse(#[from] toml::de::Error),
    /// A value out of range.
    #[error("invalid server config: {0}")]
    Invalid(String),
}

/// The server's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to listen on.
    pub addr: SocketAddr,
    /// Folder holding one sub-folder per collection (created when missing).
    pub data_dir: PathBuf,
    /// The default encoder's model folder; `None` takes the embedded all-MiniLM-L6-v2 (the
    /// binary resolves it).
    pub model: Option<PathBuf>,
    /// Further models that `POST /v1/collections` may name: name → model folder.
    pub models: BTreeMap<String, PathBuf>,
    /// Who may call which route.
    pub auth: AuthConfig,
    /// Request size and count limits.
    pub limits: LimitsConfig,
    /// The encoder worker and its dynamic batching.
    pub encoder: EncoderConfig,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("data"),
            model: None,
            models: BTreeMap::new(),
            auth: AuthConfig::default(),
            limits: LimitsConfig::default(),
            encoder: EncoderConfig::default(),
        }
    }
}

/// API keys.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// Accepted bearer tokens; when empty, no route needs a key.
    pub api_keys: Vec<String>,
    /// Whether reads (gets, searches, embeddings) need a key too; writes and admin routes always
    /// do when keys are configured. Health, readiness, metrics and the OpenAPI document never do.
    pub protect_reads: bool,
}

/// Limits that keep one request from taking the server down.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Largest request body, in bytes (413 above).
    pub max_body_bytes: usize,
    /// Most documents in one upsert or delete (413 above).
    pub max_batch_docs: usize,
    /// Most texts in one embed request (413 above).
    pub max_embed_texts: usize,
    /// Largest `k` a search accepts (422 above).
    pub max_k: usize,
    /// Longest query or document text, in bytes (422 above).
    pub max_text_bytes: usize,
    /// Requests running longer are answered 503 `timeout`, in milliseconds.
    pub request_timeout_ms: u64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: 16 * 1024 * 1024,
            max_batch_docs: 1024,
            max_embed_texts: 256,
            max_k: 1000,
            max_text_bytes: 64 * 1024,
            request_timeout_ms: 30_000,
        }
    }
}

impl LimitsConfig {
    /// The request timeout.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }
}

/// The encoder worker: one thread per model, batching concurrent requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EncoderConfig {
    /// Most texts encoded in one forward pass; 1 turns dynamic batching off.
    pub max_batch: usize,
    /// How long the worker waits for more requests after the first one, in microseconds.
    pub max_wait_us: u64,
    /// Requests that may wait for the encoder; more are answered 503 `overloaded`.
    pub queue_capacity: usize,
    /// Maximum tokens per text, special tokens included.
    pub max_length: usize,
    /// `auto`, `cpu`, `cuda` or `cuda:N`.
    pub device: String,
    /// libtorch intra-op threads for the encoder; 0 keeps libtorch's default.
    pub threads: usize,
}

impl Default for EncoderConfig {
    fn default() -> Self {
        Self {
            max_batch: 64,
            max_wait_us: 2_000,
            queue_capacity: 1024,
            max_length: 256,
            device: "auto".to_owned(),
            threads: 0,
        }
    }
}

impl EncoderConfig {
    /// The batching window.
    pub fn max_wait(&self) -> Duration {
        Duration::from_micros(self.max_wait_us)
    }
}

impl ServerConfig {
    /// Parses TOML (unknown keys are errors) and validates it.
    ///
    /// # Errors
    /// [`ConfigError`] naming the key.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let config: Self = toml::from_str(text)?;
        config.validate()?;
        Ok(config)
    }

    /// Checks every value's range.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming the setting.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let positive = [
            ("limits.max_body_bytes", self.limits.max_body_bytes),
            ("limits.max_batch_docs", self.limits.max_batch_docs),
            ("limits.max_embed_texts", self.limits.max_embed_texts),
            ("limits.max_k", self.limits.max_k),
            ("limits.max_text_bytes", self.limits.max_text_bytes),
            ("encoder.max_batch", self.encoder.max_batch),
            ("encoder.queue_capacity", self.encoder.queue_capacity),
        ];
        for (name, value) in positive {
            if value == 0 {
                return Err(ConfigError::Invalid(format!("{name} must be at least 1")));
            }
        }
        if self.limits.request_timeout_ms == 0 {
            return Err(ConfigError::Invalid(
                "limits.request_timeout_ms must be at least 1".to_owned(),
            ));
        }
        if self.encoder.max_length < 2 {
            return Err(ConfigError::Invalid(
                "encoder.max_length must be at least 2".to_owned(),
            ));
        }
        if self.auth.api_keys.iter().any(|k| k.trim().is_empty()) {
            return Err(ConfigError::Invalid("an API key is empty".to_owned()));
        }
        if let Some(name) = self.models.keys().find(|n| !crate::state::valid_name(n)) {
            return Err(ConfigError::Invalid(format!(
                "model name {name:?} must be 1-64 letters, digits, '-' or '_'"
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_partial_file_over_the_defaults() {
        let config = ServerConfig::from_toml(
            "addr = \"0.0.0.0:9000\"\n[encoder]\nmax_batch = 1\n[auth]\napi_keys = [\"k\"]\n",
        )
        .unwrap();
        assert_eq!(config.addr.port(), 9000);
        assert_eq!(config.encoder.max_batch, 1);
        assert_eq!(config.encoder.max_wait_us, 2_000);
        assert_eq!(config.auth.api_keys, ["k"]);
    }

    #[test]
    fn a_typo_or_a_bad_value_fails() {
        let typo = ServerConfig::from_toml("[encoder]\nmax_bach = 4\n").unwrap_err();
        assert!(typo.to_string().contains("max_bach"), "{typo}");
        let zero = ServerConfig::from_toml("[limits]\nmax_k = 0\n").unwrap_err();
        assert!(zero.to_string().contains("max_k"), "{zero}");
    }
}
