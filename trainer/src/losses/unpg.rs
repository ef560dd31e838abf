//! UNPG (Unified Negative Pair Generation, Jung et al., arXiv 2203.11593) on top of a margin
//! softmax head: the cosines between samples of different identities in the batch, filtered by a
//! box-and-whisker rule, are added to every row's softmax denominator as one shared block.
//! Specification and test vectors: `docs/losses.md` section 2 (code-faithful to the official
//! repository).

use serde::{Deserialize, Serialize};
use tch::Tensor;

use crate::error::{Result, TrainError};
use crate::losses::common::{
    cosine_sim_matrix, loss_precision, same_label_mask, upper_triangle_mask,
};
use crate::losses::{ClassificationLoss, MarginHeadConfig, MarginSoftmax};

/// Parameters of the UNPG term.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UnpgConfig {
    /// Whisker factor `r` of the box-and-whisker filter (default 1.5): negatives outside
    /// `[Q1 - r IQR, Q3 + r IQR]` are dropped (both tails).
    pub whisker: f64,
}

impl Default for UnpgConfig {
    fn default() -> Self {
        Self { whisker: 1.5 }
    }
}

/// A margin head plus the UNPG shared negative block, as a [`ClassificationLoss`].
///
/// Per sample, `L_i = LSE([s Z_i, s s_n']) - s f(cos theta_{i, y_i})`, where `Z_i` are the
/// margin logits and `s_n'` the filtered pair negatives of the whole batch. The shared block's
/// log-sum-exp is computed once (a scalar) and combined per row with `logaddexp`, which is exact
/// and never materialises the `[B, C + L']` logit matrix.
#[derive(Debug, Clone, Copy)]
pub struct Unpg {
    head: MarginSoftmax,
    config: UnpgConfig,
}

impl Unpg {
    /// UNPG over `head`.
    ///
    /// # Errors
    /// [`TrainError::InvalidInput`] for a negative or non-finite whisker or an invalid head.
    pub fn new(head: MarginHeadConfig, config: UnpgConfig) -> Result<Self> {
        if !config.whisker.is_finite() || config.whisker < 0.0 {
            return Err(TrainError::InvalidInput(format!(
                "unpg: whisker must be finite and >= 0, got {}",
                config.whisker
            )));
        }
        Ok(Self {
            head: MarginSoftmax::new(head)?,
            config,
        })
    }

    /// The negative pair cosines of the batch after the whisker filter (`s_n'`).
    ///
    /// # Shapes
    /// `features: [B, D]`, `labels: [B]` → `[L']`.
    ///
    /// # Errors
    /// libtorch errors.
    pub fn pair_negatives(&self, features: &Tensor, labels: &Tensor) -> Result<Tensor> {
        let batch = features.size().first().copied().unwrap_or(0);
        let sims = loss_precision(&cosine_sim_matrix(features, features)?)?;
        let mask = upper_triangle_mask(batch, features.device())?
            .f_logical_and(&same_label_mask(labels)?.f_logical_not()?)?;
        whisker_filter(&sims.f_masked_select(&mask)?, self.config.whisker)
    }
}

/// Keeps the values inside `[Q1 - r IQR, Q3 + r IQR]`, with `Q1 = sorted[floor(L / 4)]` and
/// `Q3 = sorted[floor(3 L / 4)]` (no interpolation, as the official code). The selection is not
/// differentiated; the kept values are.
///
/// # Shapes
/// `values: [L]` → `[L']`.
///
/// # Errors
/// libtorch errors.
pub fn whisker_filter(values: &Tensor, whisker: f64) -> Result<Tensor> {
    let len = values.size().first().copied().unwrap_or(0);
    if len == 0 {
        return Ok(values.shallow_clone());
    }
    let (sorted, _) = values.f_detach()?.f_sort(0, false)?;
    let q1 = sorted.f_double_value(&[len / 4])?;
    let q3 = sorted.f_double_value(&[3 * len / 4])?;
    let iqr = q3 - q1;
    let keep = values
        .f_ge(q1 - whisker * iqr)?
        .f_logical_and(&values.f_le(q3 + whisker * iqr)?)?;
    Ok(values.f_masked_select(&keep)?)
}

impl ClassificationLoss for Unpg {
    fn name(&self) -> &'static str {
        match self.head.config() {
            MarginHeadConfig::ArcFace(_) => "arcface+unpg",
            MarginHeadConfig::CosFace(_) => "cosface+unpg",
        }
    }

    fn unreduced(&self, features: &Tensor, weights: &Tensor, labels: &Tensor) -> Result<Tensor> {
        let scale = self.head.config().scale();
        let (logits, target) = self.head.margin_logits(features, weights, labels)?;
        let lse_head = logits
            .f_mul_scalar(scale)?
            .f_logsumexp([1].as_slice(), false)?;
        let negatives = self.pair_negatives(features, labels)?;
        let total = if negatives.size().first().copied().unwrap_or(0) > 0 {
            let lse_shared = negatives
                .f_mul_scalar(scale)?
                .f_logsumexp([0].as_slice(), false)?
                .f_to_kind(lse_head.f_kind()?)?;
            lse_head.f_logaddexp(&lse_shared)?
        } else {
            lse_head
        };
        Ok(total.f_sub(&target)?)
    }
}

#[cfg(test)]
mod tests {
    use tch::Tensor;

    use super::*;
    use crate::losses::test_util::{assert_doc, check_class_gradients, values};
    use crate::losses::ArcFaceConfig;

    fn arcface(scale: f64) -> MarginHeadConfig {
        MarginHeadConfig::ArcFace(ArcFaceConfig {
            scale,
            margin: 0.5,
            fallback: false,
        })
    }

    /// The worked example of `docs/losses.md` 2.5.
    fn example() -> (Tensor, Tensor, Tensor) {
        let x = Tensor::from_slice(&[1.0f64, 0.0, 0.8, 0.6, 0.0, 1.0, -0.6, 0.8]).view([4, 2]);
        let w = Tensor::from_slice(&[1.0f64, 0.2, 0.1, 1.0, -1.0, 0.5]).view([3, 2]);
        let y = Tensor::from_slice(&[0i64, 0, 1, 2]);
        (x, w, y)
    }

    #[test]
    fn doc_worked_example_of_section_2_5() {
        let (x, w, y) = example();
        let plain = |s| MarginSoftmax::new(arcface(s)).unwrap();
        let unpg = |s, r| Unpg::new(arcface(s), UnpgConfig { whisker: r }).unwrap();
        let value =
            |loss: &dyn ClassificationLoss| loss.forward(&x, &w, &y).unwrap().double_value(&[]);
        assert_doc(value(&plain(4.0)), 0.579063);
        assert_doc(value(&unpg(4.0, 1.5)), 1.437582);
        assert_doc(value(&unpg(4.0, 0.0)), 0.965593);
        assert_doc(value(&plain(64.0)), 4.121960);
        assert_doc(value(&unpg(64.0, 1.5)), 7.726358);
        let mut kept = values(&unpg(4.0, 0.0).pair_negatives(&x, &y).unwrap());
        kept.sort_by(f64::total_cmp);
        for (got, want) in kept.iter().zip([0.0, 0.0, 0.6]) {
            assert_doc(*got, want);
        }
        assert_eq!(kept.len(), 3);
    }

    #[test]
    fn filter_drops_both_tails() {
        let s_n = Tensor::from_slice(&[-0.9f64, -0.2, -0.1, 0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.95]);
        let kept = values(&whisker_filter(&s_n, 1.5).unwrap());
        assert_eq!(kept.len(), 8);
        assert!(!kept.contains(&-0.9) && !kept.contains(&0.95));
        assert_eq!(
            values(&whisker_filter(&Tensor::from_slice::<f64>(&[]), 1.5).unwrap()).len(),
            0
        );
    }

    #[test]
    fn a_batch_of_one_identity_has_no_pair_negatives_and_equals_the_head() {
        let (x, w, _) = example();
        let y = Tensor::from_slice(&[1i64, 1, 1, 1]);
        let head = MarginSoftmax::new(arcface(4.0)).unwrap();
        let unpg = Unpg::new(arcface(4.0), UnpgConfig::default()).unwrap();
        assert_eq!(unpg.pair_negatives(&x, &y).unwrap().size(), [0]);
        assert_doc(
            unpg.forward(&x, &w, &y).unwrap().double_value(&[]),
            head.forward(&x, &w, &y).unwrap().double_value(&[]),
        );
    }

    #[test]
    fn gradients_match_finite_differences() {
        for whisker in [1.5, 0.0] {
            let config = UnpgConfig { whisker };
            check_class_gradients(&Unpg::new(arcface(4.0), config).unwrap());
            let cosface = MarginHeadConfig::CosFace(crate::losses::CosFaceConfig {
                scale: 4.0,
                margin: 0.35,
            });
            check_class_gradients(&Unpg::new(cosface, config).unwrap());
        }
        assert!(Unpg::new(arcface(4.0), UnpgConfig { whisker: -1.0 }).is_err());
    }
}
