//! Integration tests of the trainer crate against the real all-MiniLM-L6-v2 weights.
//!
//! The weights are fetched by `scripts/setup.sh` into `models/all-MiniLM-L6-v2`.

#![allow(clippy::unwrap_used, reason = "test helpers fail loudly")]

mod encoder;
mod model_dir;
mod training;

use std::path::PathBuf;

/// The model folder written by the set-up script; panics with a clear message when absent.
pub fn minilm_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models/all-MiniLM-L6-v2");
    assert!(
        dir.join("model.safetensors").is_file(),
        "{} is missing: run scripts/setup.sh (or make test) first",
        dir.display()
    );
    dir
}
