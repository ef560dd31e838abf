//! AdamW with decoupled weight decay, kept in our own tensors so that its state can be saved.
//!
//! The update is exactly `torch.optim.AdamW` (single-tensor path, `amsgrad=False`):
//!
//! ```text
//! p ← p · (1 − lr·wd)                      (skipped for `no_decay` names)
//! m ← m + (1 − β1)·(g − m)                 (= β1·m + (1 − β1)·g, torch's `lerp_`)
//! v ← β2·v + (1 − β2)·g·g
//! p ← p − (lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + ε)
//! ```

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tch::nn::VarStore;
use tch::Tensor;

use crate::error::{Result, TrainError};
use crate::optim::packed::{Member, Packed};

/// Hyper-parameters of [`AdamW`]; defaults are those of HF / sentence-transformers fine-tuning.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdamWConfig {
    /// Peak learning rate (the schedule scales it per step).
    pub lr: f64,
    /// Decay rate of the first moment, in `[0, 1)`.
    pub beta1: f64,
    /// Decay rate of the second moment, in `[0, 1)`.
    pub beta2: f64,
    /// Added to the denominator for numerical stability (HF uses 1e-6, torch 1e-8).
    pub eps: f64,
    /// Decoupled weight decay coefficient.
    pub weight_decay: f64,
    /// Parameters whose name contains one of these substrings get no weight decay.
    pub no_decay: Vec<String>,
}

impl Default for AdamWConfig {
    fn default() -> Self {
        Self {
            lr: 2e-5,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-6,
            weight_decay: 0.01,
            no_decay: vec!["bias".to_owned(), "LayerNorm".to_owned()],
        }
    }
}

impl AdamWConfig {
    /// Checks that every value is usable.
    ///
    /// # Errors
    /// A message naming the first offending field.
    pub fn validate(&self) -> std::result::Result<(), String> {
        let non_negative = [
            ("lr", self.lr),
            ("eps", self.eps),
            ("weight_decay", self.weight_decay),
        ];
        if let Some((name, value)) = non_negative
            .iter()
            .find(|(_, v)| !v.is_finite() || *v < 0.0)
        {
            return Err(format!("{name} must be finite and >= 0, got {value}"));
        }
        for (name, value) in [("beta1", self.beta1), ("beta2", self.beta2)] {
            if !(0.0..1.0).contains(&value) {
                return Err(format!("{name} must be in [0, 1), got {value}"));
            }
        }
        if let Some(empty) = self.no_decay.iter().position(String::is_empty) {
            return Err(format!(
                "no_decay[{empty}] is empty and would match every parameter"
            ));
        }
        Ok(())
    }

    /// Whether the parameter `name` gets weight decay.
    pub fn decays(&self, name: &str) -> bool {
        !self.no_decay.iter().any(|s| name.contains(s.as_str()))
    }
}

/// One parameter with its moments.
struct ParamState {
    name: String,
    var: Tensor,
    exp_avg: Tensor,
    exp_avg_sq: Tensor,
    /// Updates applied to this parameter (torch keeps the count per parameter).
    step: u64,
    decay: bool,
}

/// AdamW over a fixed, name-sorted list of parameters (see the module docs for the update).
pub struct AdamW {
    config: AdamWConfig,
    params: Vec<ParamState>,
    /// The parameters, gradients and moments as views of one buffer each (see
    /// [`super::packed`]); `None` when they cannot share one (mixed dtypes or devices).
    packed: Option<Packed>,
    step: u64,
}

impl fmt::Debug for AdamW {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdamW")
            .field("config", &self.config)
            .field("params", &self.params.len())
            .field("packed", &self.packed.is_some())
            .field("step", &self.step)
            .finish()
    }
}

/// Name of the tensor that holds the JSON [`StateMeta`] in a state file.
const META_KEY: &str = "__meta__";
/// Format tag written into every state file.
const FORMAT: &str = "pairwise-adamw-v1";

/// What a state file records besides the moments.
#[derive(Debug, Serialize, Deserialize)]
struct StateMeta {
    format: String,
    step: u64,
    config: AdamWConfig,
    params: Vec<ParamMeta>,
}

/// Name, shape and update count of one parameter in a state file.
#[derive(Debug, Serialize, Deserialize)]
struct ParamMeta {
    name: String,
    shape: Vec<i64>,
    step: u64,
}

impl AdamW {
    /// Optimises every trainable (`requires_grad`) variable of `vs`.
    ///
    /// # Errors
    /// [`TrainError::InvalidInput`] when the config is invalid; libtorch errors.
    pub fn new(vs: &VarStore, config: AdamWConfig) -> Result<Self> {
        let named = vs
            .variables()
            .into_iter()
            .filter(|(_, t)| t.requires_grad())
            .collect();
        Self::from_named(named, config)
    }

    /// Optimises the given named tensors (leaf tensors with `requires_grad`), sorted by name.
    ///
    /// # Errors
    /// [`TrainError::InvalidInput`] when the config is invalid or a name repeats; libtorch errors.
    pub fn from_named(named: Vec<(String, Tensor)>, config: AdamWConfig) -> Result<Self> {
        Self::build(named, config, true)
    }

    /// [`AdamW::from_named`], packing the parameters into one buffer (see [`super::packed`])
    /// when `pack` and they can share one.
    pub(super) fn build(
        mut named: Vec<(String, Tensor)>,
        config: AdamWConfig,
        pack: bool,
    ) -> Result<Self> {
        config.validate().map_err(TrainError::InvalidInput)?;
        named.sort_by(|a, b| a.0.cmp(&b.0));
        if let Some(w) = named.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(TrainError::InvalidInput(format!(
                "parameter name `{}` appears twice",
                w[0].0
            )));
        }
        let decays: Vec<bool> = named.iter().map(|(name, _)| config.decays(name)).collect();
        let members: Vec<Member<'_>> = named
            .iter()
            .zip(&decays)
            .map(|((_, var), &decay)| Member { var, decay })
            .collect();
        let packed = if pack { Packed::pack(&members)? } else { None };
        let params = tch::no_grad(|| {
            named
                .into_iter()
                .zip(decays)
                .enumerate()
                .map(|(index, ((name, var), decay))| {
                    let (exp_avg, exp_avg_sq) = match &packed {
                        Some(packed) => (
                            packed.view(&packed.exp_avg, index, &var)?,
                            packed.view(&packed.exp_avg_sq, index, &var)?,
                        ),
                        None => (var.f_zeros_like()?, var.f_zeros_like()?),
                    };
                    Ok(ParamState {
                        decay,
                        exp_avg,
                        exp_avg_sq,
                        name,
                        var,
                        step: 0,
                    })
                })
                .collect::<Result<Vec<_>>>()
        })?;
        Ok(Self {
            config,
            params,
            packed,
            step: 0,
        })
    }

    /// The hyper-parameters.
    pub fn config(&self) -> &AdamWConfig {
        &self.config
    }

    /// Whether the parameters, gradients and moments live in one buffer each.
    pub fn is_packed(&self) -> bool {
        self.packed.is_some()
    }

    /// How many times [`AdamW::step`] has run (restored by [`AdamW::load_state`]).
    pub fn steps(&self) -> u64 {
        self.step
    }

    /// The optimised parameters, sorted by name.
    pub fn parameters(&self) -> impl Iterator<Item = (&str, &Tensor)> {
        self.params.iter().map(|p| (p.name.as_str(), &p.var))
    }

    /// The optimised tensors, sorted by name (e.g. for [`crate::optim::clip_grad_norm`]).
    pub fn tensors(&self) -> impl Iterator<Item = &Tensor> {
        self.params.iter().map(|p| &p.var)
    }

    /// Applies one update with learning rate `lr` (from the schedule); parameters without a
    /// gradient are left untouched and their moments and step count do not advance.
    ///
    /// # Errors
    /// [`TrainError::InvalidInput`] when `lr` is negative or not finite; libtorch errors.
    pub fn step(&mut self, lr: f64) -> Result<()> {
        if !lr.is_finite() || lr < 0.0 {
            return Err(TrainError::InvalidInput(format!(
                "learning rate must be finite and >= 0, got {lr}"
            )));
        }
        let config = &self.config;
        tch::no_grad(|| -> Result<()> {
            if let Some(packed) = &mut self.packed {
                if packed_step(packed, &mut self.params, lr, config)? {
                    return Ok(());
                }
            }
            for param in &mut self.params {
                let grad = param.var.f_grad()?;
                if grad.defined() {
                    param.step += 1;
                    if param.decay && config.weight_decay != 0.0 {
                        let _ = param
                            .var
                            .shallow_clone()
                            .f_mul_scalar_(1.0 - lr * config.weight_decay)?;
                    }
                    adam_update(
                        &param.var,
                        &param.exp_avg,
                        &param.exp_avg_sq,
                        &grad,
                        param.step,
                        lr,
                        config,
                    )?;
                }
            }
            Ok(())
        })?;
        self.step += 1;
        Ok(())
    }

    /// Zeroes every gradient that exists (like torch's `zero_grad(set_to_none=False)`: a
    /// zeroed gradient still counts as a gradient in the next [`AdamW::step`]).
    ///
    /// # Errors
    /// libtorch errors.
    pub fn zero_grad(&mut self) -> Result<()> {
        if let Some(grads) = self.packed.as_ref().and_then(|p| p.grads.as_ref()) {
            let _ = grads.shallow_clone().f_zero_()?;
            return Ok(());
        }
        for param in &self.params {
            let mut grad = param.var.f_grad()?;
            if grad.defined() {
                let _ = grad.f_detach_()?;
                let _ = grad.f_zero_()?;
            }
        }
        Ok(())
    }

    /// Writes the moments, step counts, config and parameter names/shapes to a safetensors
    /// file (via a temporary file in the same folder, renamed into place).
    ///
    /// # Errors
    /// I/O and libtorch errors.
    pub fn save_state(&self, path: &Path) -> Result<()> {
        let meta = StateMeta {
            format: FORMAT.to_owned(),
            step: self.step,
            config: self.config.clone(),
            params: self
                .params
                .iter()
                .map(|p| ParamMeta {
                    name: p.name.clone(),
                    shape: p.var.size(),
                    step: p.step,
                })
                .collect(),
        };
        let meta = serde_json::to_vec(&meta).map_err(|e| TrainError::BadWeights {
            path: path.to_path_buf(),
            reason: format!("cannot encode optimiser metadata: {e}"),
        })?;
        let mut tensors = vec![(META_KEY.to_owned(), Tensor::f_from_slice(&meta)?)];
        for p in &self.params {
            tensors.push((moment_key(&p.name, 1), p.exp_avg.shallow_clone()));
            tensors.push((moment_key(&p.name, 2), p.exp_avg_sq.shallow_clone()));
        }
        let tmp = temp_path(path);
        Tensor::write_safetensors(&tensors, &tmp)?;
        fs_err::rename(&tmp, path)?;
        Ok(())
    }

    /// Restores a state written by [`AdamW::save_state`] for the same parameters. The config
    /// in the file is informational: this optimiser keeps its own. Nothing changes on error.
    ///
    /// # Errors
    /// [`TrainError::BadWeights`] naming the file when it is not an AdamW state or its
    /// parameters differ from this optimiser's (names the first mismatch); libtorch errors.
    pub fn load_state(&mut self, path: &Path) -> Result<()> {
        let bad = |reason: String| TrainError::BadWeights {
            path: path.to_path_buf(),
            reason,
        };
        let mut tensors: HashMap<String, Tensor> = Tensor::read_safetensors(path)
            .map_err(|e| bad(format!("not a safetensors file: {e}")))?
            .into_iter()
            .collect();
        let meta = read_meta(&tensors).map_err(&bad)?;
        check_params(&meta.params, &self.params).map_err(&bad)?;
        let mut moments = Vec::with_capacity(self.params.len());
        for p in &self.params {
            let m = take_moment(&mut tensors, &p.name, 1, &p.var).map_err(&bad)?;
            let v = take_moment(&mut tensors, &p.name, 2, &p.var).map_err(&bad)?;
            moments.push((m, v));
        }
        tch::no_grad(|| -> Result<()> {
            for (p, (m, v)) in self.params.iter_mut().zip(&moments) {
                p.exp_avg.f_copy_(m)?;
                p.exp_avg_sq.f_copy_(v)?;
            }
            Ok(())
        })?;
        for (p, saved) in self.params.iter_mut().zip(&meta.params) {
            p.step = saved.step;
        }
        self.step = meta.step;
        Ok(())
    }
}

/// The update of all parameters at once over the packed buffers; `false` (nothing done) until
/// every parameter has a gradient, or when their update counts differ (after a state load).
fn packed_step(
    packed: &mut Packed,
    params: &mut [ParamState],
    lr: f64,
    config: &AdamWConfig,
) -> Result<bool> {
    let step = params.first().map_or(0, |p| p.step);
    if params.iter().any(|p| p.step != step) {
        return Ok(false);
    }
    if packed.grads.is_none() {
        let vars: Vec<&Tensor> = params.iter().map(|p| &p.var).collect();
        if !packed.bind_grads(&vars)? {
            return Ok(false);
        }
    }
    let Some(grads) = &packed.grads else {
        return Ok(false);
    };
    for param in params.iter_mut() {
        param.step += 1;
    }
    if packed.decayed > 0 && config.weight_decay != 0.0 {
        let _ = packed
            .decayed_params()?
            .f_mul_scalar_(1.0 - lr * config.weight_decay)?;
    }
    adam_update(
        &packed.params,
        &packed.exp_avg,
        &packed.exp_avg_sq,
        grads,
        step + 1,
        lr,
        config,
    )?;
    Ok(true)
}

/// The Adam part of an update (weight decay is the caller's), for one parameter or the packed
/// buffers, in the operation order of torch's `_single_tensor_adamw`; `step` is the 1-based
/// update count of these elements.
fn adam_update(
    var: &Tensor,
    exp_avg: &Tensor,
    exp_avg_sq: &Tensor,
    grad: &Tensor,
    step: u64,
    lr: f64,
    config: &AdamWConfig,
) -> Result<()> {
    let (mut var, mut exp_avg, mut exp_avg_sq) = (
        var.shallow_clone(),
        exp_avg.shallow_clone(),
        exp_avg_sq.shallow_clone(),
    );
    let _ = exp_avg.f_lerp_(grad, 1.0 - config.beta1)?;
    // torch: exp_avg_sq.mul_(β2).addcmul_(g, g, value=1−β2), computed as v + ((1−β2)·g)·g.
    let mut scratch = grad.f_mul_scalar(1.0 - config.beta2)?;
    let _ = scratch.f_mul_(grad)?;
    let _ = exp_avg_sq.f_mul_scalar_(config.beta2)?;
    let _ = exp_avg_sq.f_add_(&scratch)?;
    // The exponent saturates long before u64::MAX steps, so the cast loses nothing that matters.
    let t = i32::try_from(step).unwrap_or(i32::MAX);
    let bias_correction1 = 1.0 - config.beta1.powi(t);
    let bias_correction2_sqrt = (1.0 - config.beta2.powi(t)).sqrt();
    let step_size = lr / bias_correction1;
    // denom = √v / √bc2 + ε, reusing the scratch buffer.
    scratch.f_copy_(&exp_avg_sq)?;
    let _ = scratch.f_sqrt_()?;
    let _ = scratch.f_div_scalar_(bias_correction2_sqrt)?;
    let _ = scratch.f_add_scalar_(config.eps)?;
    // torch: p.addcdiv_(m, denom, value=−step_size), computed as p + (−step_size·m)/denom.
    let mut delta = exp_avg.f_mul_scalar(-step_size)?;
    let _ = delta.f_div_(&scratch)?;
    let _ = var.f_add_(&delta)?;
    Ok(())
}

/// Key of the first (`which = 1`) or second moment of `name` in a state file.
fn moment_key(name: &str, which: u8) -> String {
    match which {
        1 => format!("{name}.exp_avg"),
        _ => format!("{name}.exp_avg_sq"),
    }
}

/// `dir/name.tmp` next to `path`.
fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}

/// Decodes the JSON metadata tensor of a state file.
fn read_meta(tensors: &HashMap<String, Tensor>) -> std::result::Result<StateMeta, String> {
    let raw = tensors
        .get(META_KEY)
        .ok_or_else(|| format!("not an AdamW state file (no `{META_KEY}` tensor)"))?;
    let bytes = Vec::<u8>::try_from(raw).map_err(|e| format!("unreadable `{META_KEY}`: {e}"))?;
    let meta: StateMeta =
        serde_json::from_slice(&bytes).map_err(|e| format!("unreadable `{META_KEY}`: {e}"))?;
    if meta.format != FORMAT {
        return Err(format!(
            "state format `{}`, expected `{FORMAT}`",
            meta.format
        ));
    }
    Ok(meta)
}

/// Checks that the file's parameter list equals the optimiser's, naming the first mismatch.
fn check_params(saved: &[ParamMeta], ours: &[ParamState]) -> std::result::Result<(), String> {
    for (i, (s, o)) in saved.iter().zip(ours).enumerate() {
        let shape = o.var.size();
        if s.name != o.name || s.shape != shape {
            return Err(format!(
                "optimiser state is for another model: parameter {i} is `{}` {:?} in the file \
                 but `{}` {:?} in the model",
                s.name, s.shape, o.name, shape
            ));
        }
    }
    if saved.len() != ours.len() {
        let (extra, place) = if saved.len() > ours.len() {
            (&saved[ours.len()].name, "the file but not the model")
        } else {
            (&ours[saved.len()].name, "the model but not the file")
        };
        return Err(format!(
            "optimiser state is for another model: {} parameters in the file, {} in the model; \
             `{extra}` is in {place}",
            saved.len(),
            ours.len()
        ));
    }
    Ok(())
}

/// Removes one moment tensor from the file's tensors, checking its shape against `var`.
fn take_moment(
    tensors: &mut HashMap<String, Tensor>,
    name: &str,
    which: u8,
    var: &Tensor,
) -> std::result::Result<Tensor, String> {
    let key = moment_key(name, which);
    let t = tensors
        .remove(&key)
        .ok_or_else(|| format!("missing tensor `{key}`"))?;
    if t.size() != var.size() {
        return Err(format!(
            "tensor `{key}` has shape {:?}, parameter has {:?}",
            t.size(),
            var.size()
        ));
    }
    Ok(t)
}
