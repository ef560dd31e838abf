//! Resumable checkpoints.
//!
//! ```text
//! <output>/checkpoint/
//!   state.json               format, step, config hash and config, base-model identity,
//!                            best dev evaluation, evaluations since the best, mined negatives
//!   optimizer.safetensors    AdamW moments and step counts (see `optim::AdamW::save_state`)
//!   model/                   the weights (sentence-transformers folder), or, with separate
//!   query_model/             towers, these two
//!   document_model/
//! ```
//!
//! A checkpoint is written into `<output>/.checkpoint.partial/`, then swapped in with two
//! renames (the old one goes to `.checkpoint.old/` and is deleted last), so `checkpoint/` is
//! always complete; if a crash falls between the renames, [`locate`] finds `.checkpoint.old/`.
//! The sampler and dropout need no saved state: batches are a pure function of (seed, epoch)
//! and every step reseeds libtorch from (seed, step).

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Result, TrainError};
use crate::train::dev::DevMetrics;
use crate::train::TrainConfig;

/// The checkpoint folder inside a run folder.
pub const CHECKPOINT_DIR: &str = "checkpoint";
const PARTIAL_DIR: &str = ".checkpoint.partial";
const OLD_DIR: &str = ".checkpoint.old";
const STATE_FILE: &str = "state.json";
/// The optimiser state inside a checkpoint folder.
pub const OPTIMIZER_FILE: &str = "optimizer.safetensors";
const FORMAT: &str = "pairwise-checkpoint-v1";

/// What `state.json` records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointState {
    /// Format tag.
    pub format: String,
    /// Steps completed.
    pub step: u64,
    /// [`config_hash`] of the run's configuration.
    pub config_hash: String,
    /// The configuration itself, for humans.
    pub config: TrainConfig,
    /// The model training started from.
    pub base_model: ModelIdentity,
    /// The best dev evaluation so far.
    pub best: Option<DevMetrics>,
    /// Dev evaluations since the best one (early stopping).
    pub evals_since_best: u64,
    /// Mined negatives per example (corpus indices), reused on resume.
    pub negatives: Option<Vec<Vec<usize>>>,
}

/// Which model a run started from: its folder and a digest of its config and weights.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelIdentity {
    /// The folder, as configured.
    pub path: PathBuf,
    /// SHA-256 of `config.json` followed by `model.safetensors`.
    pub sha256: String,
}

impl ModelIdentity {
    /// Digests the model folder at `path`.
    ///
    /// # Errors
    /// A missing or unreadable file.
    pub fn of(path: &Path) -> Result<Self> {
        let mut hasher = Sha256::new();
        let mut buffer = vec![0u8; 1 << 20];
        for file in ["config.json", "model.safetensors"] {
            let mut reader = fs_err::File::open(path.join(file))?;
            loop {
                let n = reader.read(&mut buffer)?;
                if n == 0 {
                    break;
                }
                hasher.update(&buffer[..n]);
            }
        }
        Ok(Self {
            path: path.to_path_buf(),
            sha256: hex(&hasher.finalize()),
        })
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of the configuration's JSON with `output` left out (a run may be resumed into
/// another folder); every other setting must match for a resume.
///
/// # Errors
/// Never in practice (the configuration always serialises).
pub fn config_hash(config: &TrainConfig) -> Result<String> {
    let mut value =
        serde_json::to_value(config).map_err(|e| TrainError::InvalidInput(e.to_string()))?;
    if let Some(map) = value.as_object_mut() {
        map.remove("output");
    }
    Ok(hex(&Sha256::digest(value.to_string().as_bytes())))
}

/// The checkpoint folder `dir` names: `dir` itself when it holds `state.json`, else
/// `dir/checkpoint/`, else an interrupted swap's `dir/.checkpoint.old/`.
///
/// # Errors
/// [`TrainError::BadCheckpoint`] when none of these holds a checkpoint.
pub fn locate(dir: &Path) -> Result<PathBuf> {
    [
        dir.to_path_buf(),
        dir.join(CHECKPOINT_DIR),
        dir.join(OLD_DIR),
    ]
    .into_iter()
    .find(|d| d.join(STATE_FILE).is_file())
    .ok_or_else(|| TrainError::BadCheckpoint {
        path: dir.to_path_buf(),
        reason: format!("no {STATE_FILE} here or in {CHECKPOINT_DIR}/"),
    })
}

/// Reads `dir/state.json` and checks that it may resume `config` (same configuration hash,
/// same base model).
///
/// # Errors
/// [`TrainError::BadCheckpoint`] naming the folder and what differs.
pub fn read_for(dir: &Path, config: &TrainConfig) -> Result<CheckpointState> {
    let bad = |reason: String| TrainError::BadCheckpoint {
        path: dir.to_path_buf(),
        reason,
    };
    let text = fs_err::read_to_string(dir.join(STATE_FILE))?;
    let state: CheckpointState =
        serde_json::from_str(&text).map_err(|e| bad(format!("unreadable {STATE_FILE}: {e}")))?;
    if state.format != FORMAT {
        return Err(bad(format!(
            "format `{}`, expected `{FORMAT}`",
            state.format
        )));
    }
    let base = ModelIdentity::of(&config.model.base)?;
    if base.sha256 != state.base_model.sha256 {
        return Err(bad(format!(
            "it was trained from another model ({}, sha256 {}…) than model.base = {} (sha256 {}…)",
            state.base_model.path.display(),
            &state.base_model.sha256[..12.min(state.base_model.sha256.len())],
            config.model.base.display(),
            &base.sha256[..12]
        )));
    }
    let hash = config_hash(config)?;
    if hash != state.config_hash {
        return Err(bad(format!(
            "it was written for another configuration (compare the `config` in its {STATE_FILE} \
             with --config and the command-line overrides; only `output` may differ)"
        )));
    }
    Ok(state)
}

/// Writes a checkpoint into `run_dir/checkpoint/` atomically: `fill` writes the models and
/// the optimiser state into the staging folder it is given, then `state.json` is added and the
/// folder swapped in. Returns the checkpoint folder.
///
/// # Errors
/// I/O errors and those of `fill`; `run_dir/checkpoint/` is then left as it was.
pub fn write(
    run_dir: &Path,
    state: &CheckpointState,
    fill: impl FnOnce(&Path) -> Result<()>,
) -> Result<PathBuf> {
    let partial = run_dir.join(PARTIAL_DIR);
    if partial.exists() {
        fs_err::remove_dir_all(&partial)?;
    }
    fs_err::create_dir_all(&partial)?;
    fill(&partial)?;
    let json =
        serde_json::to_vec_pretty(state).map_err(|e| TrainError::InvalidInput(e.to_string()))?;
    let state_path = partial.join(STATE_FILE);
    {
        let file = fs_err::File::create(&state_path)?;
        std::io::Write::write_all(&mut &file, &json)?;
        file.sync_all()?;
    }
    let target = run_dir.join(CHECKPOINT_DIR);
    let old = run_dir.join(OLD_DIR);
    if old.exists() {
        fs_err::remove_dir_all(&old)?;
    }
    if target.exists() {
        fs_err::rename(&target, &old)?;
    }
    fs_err::rename(&partial, &target)?;
    if old.exists() {
        fs_err::remove_dir_all(&old)?;
    }
    Ok(target)
}

/// A new state for a checkpoint after `step` steps.
pub(crate) fn new_state(
    config: &TrainConfig,
    base_model: ModelIdentity,
    step: u64,
) -> Result<CheckpointState> {
    Ok(CheckpointState {
        format: FORMAT.to_owned(),
        step,
        config_hash: config_hash(config)?,
        config: config.clone(),
        base_model,
        best: None,
        evals_since_best: 0,
        negatives: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_hash_ignores_output_only() {
        let a = TrainConfig::default();
        let mut b = a.clone();
        b.output = "elsewhere".into();
        assert_eq!(config_hash(&a).unwrap(), config_hash(&b).unwrap());
        b.schedule.seed += 1;
        assert_ne!(config_hash(&a).unwrap(), config_hash(&b).unwrap());
    }

    #[test]
    fn write_swaps_atomically_and_locate_finds_it() {
        let dir = tempfile::tempdir().unwrap();
        let state = CheckpointState {
            format: FORMAT.to_owned(),
            step: 3,
            config_hash: "h".into(),
            config: TrainConfig::default(),
            base_model: ModelIdentity {
                path: "m".into(),
                sha256: "0".repeat(64),
            },
            best: None,
            evals_since_best: 0,
            negatives: Some(vec![vec![1, 2]]),
        };
        let written = write(dir.path(), &state, |d| {
            fs_err::write(d.join("x"), b"1")?;
            Ok(())
        })
        .unwrap();
        assert_eq!(locate(dir.path()).unwrap(), written);
        let failed = write(dir.path(), &state, |_| {
            Err(TrainError::InvalidInput("boom".into()))
        });
        assert!(failed.is_err());
        assert_eq!(fs_err::read(written.join("x")).unwrap(), b"1");
        let mut later = state.clone();
        later.step = 6;
        write(dir.path(), &later, |_| Ok(())).unwrap();
        let text = fs_err::read_to_string(written.join(STATE_FILE)).unwrap();
        let read: CheckpointState = serde_json::from_str(&text).unwrap();
        assert_eq!(read.step, 6);
        assert!(!written.join("x").exists());
        assert!(locate(&dir.path().join("nothing")).is_err());
    }
}
