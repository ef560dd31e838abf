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

/// libtorch's random generator is global to the process: training draws dropout masks from
/// it and building a model draws initial weights from it. Every test that loads or trains a
/// model takes its turn, so that a resumed run draws exactly the masks an uninterrupted one
/// drew.
static TORCH_RNG: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Waits for this test's turn with libtorch's generator.
pub fn rng_turn() -> std::sync::MutexGuard<'static, ()> {
    TORCH_RNG
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
