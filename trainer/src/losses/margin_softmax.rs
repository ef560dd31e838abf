//! Margin softmax heads for face recognition: ArcFace (additive angular margin, Deng et al.
//! 2019) and CosFace (additive cosine margin, Wang et al. 2018). The target logit of
//! `cos = norm(x) @ norm(W)^T` gets a margin, the logits are scaled by `s`, then cross-entropy.
//! Specification and test vectors: `docs/losses.md` section 5.4.

use std::f64::consts::PI;

use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

use crate::error::{Result, TrainError};
use crate::losses::common::{
    check_labels, cosine_sim_matrix, expect_shape, loss_precision, one_hot, require_finite_positive,
};
use crate::losses::ClassificationLoss;

/// Keeps `acos` away from ±1, where its gradient is infinite (`docs/losses.md` 2.4).
const ACOS_EPS: f64 = 1e-7;

/// Parameters of the ArcFace margin.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ArcFaceConfig {
    /// Logit scale `s` (default 64).
    pub scale: f64,
    /// Angular margin `m` in radians (default 0.5).
    pub margin: f64,
    /// insightface's handling of `theta + m > pi` (default on): where `cos theta <= cos(pi - m)`
    /// the target is `cos theta - sin(pi - m) m` instead of `cos(theta + m)`, which would no
    /// longer decrease with `theta`. Off reproduces the UNPG repository (no fallback).
    pub fallback: bool,
}

impl Default for ArcFaceConfig {
    fn default() -> Self {
        Self {
            scale: 64.0,
            margin: 0.5,
            fallback: true,
        }
    }
}

/// Parameters of the CosFace margin.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CosFaceConfig {
    /// Logit scale `s` (default 64).
    pub scale: f64,
    /// Cosine margin `m` (default 0.35, the paper's).
    pub margin: f64,
}

impl Default for CosFaceConfig {
    fn default() -> Self {
        Self {
            scale: 64.0,
            margin: 0.35,
        }
    }
}

/// Which margin the head applies, e.g. `{"type": "arcface", "margin": 0.5}`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", deny_unknown_fields)]
pub enum MarginHeadConfig {
    /// Additive angular margin: target `cos(theta + m)`.
    #[serde(rename = "arcface")]
    ArcFace(ArcFaceConfig),
    /// Additive cosine margin: target `cos theta - m`.
    #[serde(rename = "cosface")]
    CosFace(CosFaceConfig),
}

impl Default for MarginHeadConfig {
    fn default() -> Self {
        Self::ArcFace(ArcFaceConfig::default())
    }
}

impl MarginHeadConfig {
    /// The logit scale `s`.
    pub fn scale(&self) -> f64 {
        match self {
            Self::ArcFace(c) => c.scale,
            Self::CosFace(c) => c.scale,
        }
    }

    /// Checks the values.
    ///
    /// # Errors
    /// [`TrainError::InvalidInput`] for a scale that is not finite and positive, or a margin
    /// outside `[0, pi)` (ArcFace) or not finite (CosFace).
    pub fn validate(&self) -> Result<()> {
        require_finite_positive("margin head: scale", self.scale())?;
        let (margin, ok) = match self {
            Self::ArcFace(c) => (c.margin, (0.0..PI).contains(&c.margin)),
            Self::CosFace(c) => (c.margin, c.margin.is_finite()),
        };
        if ok {
            Ok(())
        } else {
            Err(TrainError::InvalidInput(format!(
                "margin head: margin {margin} is out of range"
            )))
        }
    }
}

/// ArcFace or CosFace as a [`ClassificationLoss`].
#[derive(Debug, Clone, Copy)]
pub struct MarginSoftmax {
    config: MarginHeadConfig,
}

impl MarginSoftmax {
    /// A head with validated parameters.
    ///
    /// # Errors
    /// See [`MarginHeadConfig::validate`].
    pub fn new(config: MarginHeadConfig) -> Result<Self> {
        config.validate()?;
        Ok(Self { config })
    }

    /// The parameters.
    pub fn config(&self) -> &MarginHeadConfig {
        &self.config
    }

    /// The margin function `f` applied to target cosines (before scaling).
    ///
    /// # Shapes
    /// `cos_target: [...]` → same shape.
    ///
    /// # Errors
    /// libtorch errors.
    pub fn target_logits(&self, cos_target: &Tensor) -> Result<Tensor> {
        match self.config {
            MarginHeadConfig::CosFace(c) => Ok(cos_target.f_sub_scalar(c.margin)?),
            MarginHeadConfig::ArcFace(c) => {
                let theta = cos_target
                    .f_clamp(-1.0 + ACOS_EPS, 1.0 - ACOS_EPS)?
                    .f_acos()?;
                let with_margin = theta.f_add_scalar(c.margin)?.f_cos()?;
                if !c.fallback {
                    return Ok(with_margin);
                }
                let linear = cos_target.f_sub_scalar((PI - c.margin).sin() * c.margin)?;
                let in_range = cos_target.f_gt((PI - c.margin).cos())?;
                Ok(with_margin.f_where_self(&in_range, &linear)?)
            }
        }
    }

    /// The margin logits and the scaled target logits: `cos` with the target entry replaced by
    /// `f(cos_target)`, and `s f(cos_target)`. Inputs are validated here.
    ///
    /// # Shapes
    /// `features: [B, D]`, `weights: [C, D]`, `labels: [B]` → (`[B, C]`, `[B]`).
    ///
    /// # Errors
    /// [`TrainError::InvalidInput`] for bad shapes or labels; libtorch errors.
    pub fn margin_logits(
        &self,
        features: &Tensor,
        weights: &Tensor,
        labels: &Tensor,
    ) -> Result<(Tensor, Tensor)> {
        expect_shape("features", features, &[None, None])?;
        let (batch, dim) = match features.size().as_slice() {
            &[b, d] if b > 0 && d > 0 => (b, d),
            other => {
                return Err(TrainError::InvalidInput(format!(
                    "features: need at least one row of width at least 1, got {other:?}"
                )))
            }
        };
        expect_shape("weights", weights, &[None, Some(dim)])?;
        let classes = weights.size().first().copied().unwrap_or(0);
        if classes < 1 {
            return Err(TrainError::InvalidInput(
                "weights: need at least one class".to_owned(),
            ));
        }
        check_labels(labels, batch, classes)?;
        let cos = loss_precision(&cosine_sim_matrix(features, weights)?)?;
        let target_mask = one_hot(labels, classes, cos.f_kind()?)?;
        let cos_target = cos
            .f_mul(&target_mask)?
            .f_sum_dim_intlist(1, false, None::<Kind>)?;
        let target = self.target_logits(&cos_target)?;
        let logits = cos.f_add(&target_mask.f_mul(&target.f_sub(&cos_target)?.f_unsqueeze(1)?)?)?;
        Ok((logits, target.f_mul_scalar(self.config.scale())?))
    }
}

impl ClassificationLoss for MarginSoftmax {
    fn name(&self) -> &'static str {
        match self.config {
            MarginHeadConfig::ArcFace(_) => "arcface",
            MarginHeadConfig::CosFace(_) => "cosface",
        }
    }

    fn unreduced(&self, features: &Tensor, weights: &Tensor, labels: &Tensor) -> Result<Tensor> {
        let (logits, target) = self.margin_logits(features, weights, labels)?;
        let lse = logits
            .f_mul_scalar(self.config.scale())?
            .f_logsumexp([1].as_slice(), false)?;
        Ok(lse.f_sub(&target)?)
    }
}

#[cfg(test)]
mod tests {
    use tch::{Device, Kind, Tensor};

    use super::*;
    use crate::losses::test_util::{assert_doc, values};

    /// Unit class weights whose cosines with the feature `[1, 0]` are `cos` (one sample).
    fn one_sample(cos: &[f64]) -> (Tensor, Tensor, Tensor) {
        let features = Tensor::from_slice(&[1.0f64, 0.0]).view([1, 2]);
        let weights: Vec<f64> = cos
            .iter()
            .flat_map(|&c| [c, (1.0 - c * c).sqrt()])
            .collect();
        let weights = Tensor::from_slice(&weights).view([cos.len() as i64, 2]);
        let labels = Tensor::from_slice(&[0i64]);
        (features, weights, labels)
    }

    fn arcface(scale: f64, margin: f64) -> MarginSoftmax {
        MarginSoftmax::new(MarginHeadConfig::ArcFace(ArcFaceConfig {
            scale,
            margin,
            fallback: true,
        }))
        .unwrap()
    }

    fn cosface(scale: f64, margin: f64) -> MarginSoftmax {
        MarginSoftmax::new(MarginHeadConfig::CosFace(CosFaceConfig { scale, margin })).unwrap()
    }

    #[test]
    fn doc_test_vectors_of_section_5_4() {
        let (f, w, y) = one_sample(&[0.6, 0.2, -0.1]);
        for (head, expected) in [
            (arcface(64.0, 0.5), 3.673142),
            (arcface(4.0, 0.5), 0.968637),
            (cosface(64.0, 0.35), 0.039953),
            (cosface(64.0, 0.40), std::f64::consts::LN_2),
            (cosface(4.0, 0.35), 0.725289),
        ] {
            assert_doc(
                head.forward(&f, &w, &y).unwrap().double_value(&[]),
                expected,
            );
        }
        let (logits, target) = arcface(64.0, 0.5).margin_logits(&f, &w, &y).unwrap();
        assert_doc(values(&logits)[0], 0.143009);
        assert_doc(values(&target)[0], 64.0 * 0.143009);
        assert_doc(values(&logits)[1], 0.2);
    }

    #[test]
    fn arcface_fallback_when_theta_plus_m_exceeds_pi() {
        let cos = Tensor::from_slice(&[-0.95f64]);
        assert_doc(
            values(&arcface(64.0, 0.5).target_logits(&cos).unwrap())[0],
            -1.189713,
        );
        let no_fallback = MarginSoftmax::new(MarginHeadConfig::ArcFace(ArcFaceConfig {
            fallback: false,
            ..ArcFaceConfig::default()
        }))
        .unwrap();
        let plain = values(&no_fallback.target_logits(&cos).unwrap())[0];
        assert_doc(plain, ((-0.95f64).acos() + 0.5).cos());
    }

    #[test]
    fn gradients_match_finite_differences() {
        for head in [arcface(4.0, 0.5), cosface(4.0, 0.35)] {
            crate::losses::test_util::check_class_gradients(&head);
        }
    }

    #[test]
    fn bad_inputs_are_typed_errors() {
        let head = arcface(64.0, 0.5);
        let zeros = |shape: &[i64]| Tensor::zeros(shape, (Kind::Float, Device::Cpu));
        let labels = Tensor::from_slice(&[0i64, 1]);
        for (f, w, y) in [
            (zeros(&[2, 3]), zeros(&[4, 2]), labels.shallow_clone()),
            (zeros(&[2]), zeros(&[4, 2]), labels.shallow_clone()),
            (
                zeros(&[2, 3]),
                zeros(&[4, 3]),
                Tensor::from_slice(&[0i64, 4]),
            ),
            (zeros(&[2, 3]), zeros(&[4, 3]), Tensor::from_slice(&[0i64])),
            (
                zeros(&[2, 3]),
                zeros(&[4, 3]),
                Tensor::from_slice(&[0.0f32, 1.0]),
            ),
        ] {
            assert!(matches!(
                head.unreduced(&f, &w, &y),
                Err(TrainError::InvalidInput(_))
            ));
        }
        assert!(MarginSoftmax::new(MarginHeadConfig::ArcFace(ArcFaceConfig {
            margin: 4.0,
            ..ArcFaceConfig::default()
        }))
        .is_err());
    }
}
