//! One buffer for all parameters, one for their gradients and one per moment, so that an AdamW
//! step is a dozen tensor operations in all instead of a dozen per parameter.
//!
//! A small model's step on a GPU is bound by kernel launches, not arithmetic: Conv-4 has 16
//! parameter tensors, so the per-tensor update launches ~200 kernels a step (torch avoids this
//! with its multi-tensor `foreach` and `fused` paths, which tch does not expose). Packing makes
//! every parameter, gradient and moment a view into one contiguous buffer each; the update then
//! runs once over the buffers, elementwise exactly as over the separate tensors.
//!
//! Layout: parameters with weight decay first, then those without, so decay is one operation on
//! a prefix of the buffer.

use tch::{Kind, Tensor};

use crate::error::{Result, TrainError};

/// Where one parameter lives in the packed buffers.
#[derive(Debug, Clone, Copy)]
pub(super) struct Slot {
    offset: i64,
    numel: i64,
}

/// The packed buffers of an [`super::AdamW`].
#[derive(Debug)]
pub(super) struct Packed {
    /// All parameters, the decaying ones first.
    pub(super) params: Tensor,
    /// All first moments, laid out as `params`.
    pub(super) exp_avg: Tensor,
    /// All second moments, laid out as `params`.
    pub(super) exp_avg_sq: Tensor,
    /// All gradients, laid out as `params`; `None` until the first step in which every
    /// parameter has a gradient (autograd creates them in the first backward pass).
    pub(super) grads: Option<Tensor>,
    /// Elements at the front of the buffers that get weight decay.
    pub(super) decayed: i64,
    /// One slot per parameter, in the optimiser's (name) order.
    slots: Vec<Slot>,
}

/// A parameter as the packer sees it: its tensor and whether it decays.
pub(super) struct Member<'a> {
    pub(super) var: &'a Tensor,
    pub(super) decay: bool,
}

impl Packed {
    /// Moves the values of `members` into one buffer and makes each parameter a view of it.
    /// Returns `None` (nothing changed) when they cannot share one buffer: none at all,
    /// different dtypes or devices, a non-floating dtype, or one tensor listed twice.
    ///
    /// # Errors
    /// libtorch errors.
    pub(super) fn pack(members: &[Member<'_>]) -> Result<Option<Self>> {
        let Some(first) = members.first() else {
            return Ok(None);
        };
        let (kind, device) = (first.var.f_kind()?, first.var.device());
        if !matches!(
            kind,
            Kind::Float | Kind::Double | Kind::Half | Kind::BFloat16
        ) || members
            .iter()
            .any(|m| m.var.kind() != kind || m.var.device() != device)
        {
            return Ok(None);
        }
        let mut pointers: Vec<usize> = members.iter().map(|m| m.var.data_ptr() as usize).collect();
        pointers.sort_unstable();
        if pointers.windows(2).any(|w| w[0] == w[1]) {
            return Ok(None);
        }
        // Decaying parameters first, each group in the optimiser's order.
        let order: Vec<usize> = (0..members.len())
            .filter(|&i| members[i].decay)
            .chain((0..members.len()).filter(|&i| !members[i].decay))
            .collect();
        let mut slots = vec![
            Slot {
                offset: 0,
                numel: 0
            };
            members.len()
        ];
        let mut offset = 0i64;
        for &i in &order {
            let numel = i64::try_from(members[i].var.numel()).unwrap_or(i64::MAX);
            slots[i] = Slot { offset, numel };
            offset += numel;
        }
        let decayed = order
            .iter()
            .filter(|&&i| members[i].decay)
            .map(|&i| slots[i].numel)
            .sum();
        tch::no_grad(|| {
            let flat: Vec<Tensor> = order
                .iter()
                .map(|&i| members[i].var.f_detach()?.f_reshape([-1]))
                .collect::<std::result::Result<_, _>>()?;
            let params = Tensor::f_cat(&flat, 0)?;
            let packed = Self {
                exp_avg: params.f_zeros_like()?,
                exp_avg_sq: params.f_zeros_like()?,
                params,
                grads: None,
                decayed,
                slots,
            };
            for (i, member) in members.iter().enumerate() {
                let mut var = member.var.shallow_clone();
                var.f_set_data(&packed.view(&packed.params, i, member.var)?)?;
            }
            Ok(Some(packed))
        })
    }

    /// The view of `buffer` that holds parameter `index` (shaped as `like`).
    ///
    /// # Errors
    /// libtorch errors.
    pub(super) fn view(&self, buffer: &Tensor, index: usize, like: &Tensor) -> Result<Tensor> {
        let slot = self.slots.get(index).copied().ok_or_else(|| {
            TrainError::InvalidInput(format!(
                "packed AdamW: no slot for parameter {index} of {}",
                self.slots.len()
            ))
        })?;
        Ok(buffer
            .f_narrow(0, slot.offset, slot.numel)?
            .f_view(like.size().as_slice())?)
    }

    /// Moves the gradients into one buffer and makes each a view of it, once every parameter
    /// has one. Later backward passes accumulate into the views in place (gradients are zeroed,
    /// never dropped), so the buffer stays bound. Returns whether the gradients are packed.
    ///
    /// # Errors
    /// libtorch errors.
    pub(super) fn bind_grads(&mut self, vars: &[&Tensor]) -> Result<bool> {
        if self.grads.is_some() {
            return Ok(true);
        }
        let grads: Vec<Tensor> = vars
            .iter()
            .map(|v| v.f_grad())
            .collect::<std::result::Result<_, _>>()?;
        if grads.iter().any(|g| !g.defined()) {
            return Ok(false);
        }
        let grads_buffer = tch::no_grad(|| -> Result<Tensor> {
            let buffer = self.params.f_zeros_like()?;
            for (i, grad) in grads.iter().enumerate() {
                let mut view = self.view(&buffer, i, grad)?;
                view.f_copy_(grad)?;
                let mut handle = grad.shallow_clone();
                handle.f_set_data(&view)?;
            }
            Ok(buffer)
        })?;
        self.grads = Some(grads_buffer);
        Ok(true)
    }

    /// The elements that get weight decay.
    ///
    /// # Errors
    /// libtorch errors.
    pub(super) fn decayed_params(&self) -> Result<Tensor> {
        Ok(self.params.f_narrow(0, 0, self.decayed)?)
    }
}
