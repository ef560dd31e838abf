//! Loading `model.safetensors` into a var store, with checks that name the offending tensor.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use tch::nn::VarStore;
use tch::Tensor;

use crate::error::{Result, TrainError};

/// Prefixes under which checkpoints commonly nest the encoder (`BertForMaskedLM` → `bert.`).
const KNOWN_PREFIXES: [&str; 3] = ["", "bert.", "model."];

/// What a weights load did, for logging.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeightsReport {
    /// The prefix stripped from the file's names (empty when none).
    pub prefix: String,
    /// Number of variables filled.
    pub loaded: usize,
    /// File tensors that no variable asked for (e.g. a pooler or an MLM head).
    pub unused: Vec<String>,
}

/// Copies every variable of `vs` from the safetensors file at `path`.
///
/// The file may nest names under a known prefix (`bert.`), detected automatically. Tensors of
/// another float type are converted to the variable's type. Unused file tensors are reported,
/// not rejected.
///
/// # Errors
/// [`TrainError::BadWeights`] when a variable is missing from the file or its shape differs;
/// [`TrainError::MissingFile`] when the file does not exist.
pub fn load_safetensors(vs: &mut VarStore, path: &Path) -> Result<WeightsReport> {
    load_safetensors_where(vs, path, "model weights", |_| true)
}

/// Like [`load_safetensors`], for the variables whose name passes `wanted` only (the others
/// keep their values); `what` names the file in a missing-file error.
///
/// # Errors
/// As [`load_safetensors`].
pub(crate) fn load_safetensors_where(
    vs: &VarStore,
    path: &Path,
    what: &'static str,
    wanted: impl Fn(&str) -> bool,
) -> Result<WeightsReport> {
    if !path.is_file() {
        return Err(TrainError::MissingFile {
            path: path.to_path_buf(),
            what,
        });
    }
    let bad = |reason: String| TrainError::BadWeights {
        path: path.to_path_buf(),
        reason,
    };
    let tensors = Tensor::read_safetensors(path)
        .map_err(|e| bad(format!("not a readable safetensors file: {e}")))?;
    let tensors: HashMap<String, Tensor> = tensors.into_iter().collect();
    // Sorted, so that the first reported problem is the same on every run.
    let wanted: std::collections::BTreeMap<String, Tensor> = vs
        .variables()
        .into_iter()
        .filter(|(name, _)| wanted(name))
        .collect();
    let prefix = KNOWN_PREFIXES
        .iter()
        .copied()
        .max_by_key(|prefix| {
            wanted
                .keys()
                .filter(|name| tensors.contains_key(&format!("{prefix}{name}")))
                .count()
        })
        .unwrap_or("");
    let mut used = BTreeSet::new();
    tch::no_grad(|| -> Result<()> {
        for (name, mut var) in wanted {
            let key = format!("{prefix}{name}");
            let source = tensors
                .get(&key)
                .ok_or_else(|| bad(format!("tensor {key:?} is missing")))?;
            if source.size() != var.size() {
                return Err(bad(format!(
                    "tensor {key:?} has shape {:?}, the config needs {:?}",
                    source.size(),
                    var.size()
                )));
            }
            var.f_copy_(&source.f_to_kind(var.kind())?)?;
            used.insert(key);
        }
        Ok(())
    })?;
    let mut unused: Vec<String> = tensors.into_keys().filter(|n| !used.contains(n)).collect();
    unused.sort();
    Ok(WeightsReport {
        prefix: prefix.to_owned(),
        loaded: used.len(),
        unused,
    })
}
