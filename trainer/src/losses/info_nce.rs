//! InfoNCE with in-batch and hard negatives: sentence-transformers'
//! `MultipleNegativesRankingLoss` (van den Oord et al. 2018, "Representation Learning with
//! Contrastive Predictive Coding"; Henderson et al. 2017) and, with `symmetric`,
//! `MultipleNegativesSymmetricRankingLoss`. Specification: `docs/losses.md` section 5.1.

use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

use crate::error::Result;
use crate::losses::common::{
    candidates, loss_precision, require_finite_positive, Reduction, Similarity,
};
use crate::losses::{EmbeddingBatch, EmbeddingLoss};

/// Parameters of [`InfoNce`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InfoNceConfig {
    /// Multiplier of the similarities before the softmax, i.e. `1 / temperature`
    /// (default 20, temperature 0.05, as sentence-transformers; use 1 with `dot`).
    pub scale: f64,
    /// Also add the positive→query direction over the `B x B` block and average the two
    /// (default false).
    pub symmetric: bool,
    /// Score between queries and candidates (default cosine).
    pub similarity: Similarity,
    /// How per-query losses are combined (default mean).
    pub reduction: Reduction,
}

impl Default for InfoNceConfig {
    fn default() -> Self {
        Self {
            scale: 20.0,
            symmetric: false,
            similarity: Similarity::Cosine,
            reduction: Reduction::Mean,
        }
    }
}

impl InfoNceConfig {
    /// Checks the values.
    ///
    /// # Errors
    /// [`TrainError::InvalidInput`] when `scale` is not finite and positive.
    pub fn validate(&self) -> Result<()> {
        require_finite_positive("info_nce: scale", self.scale)
    }
}

/// Cross-entropy of each query against all positives of the batch and all hard negatives of
/// all queries, with its own positive as the target.
///
/// With `S = scale * sim(queries, [positives; negatives])` of shape `[B, B (1 + H)]`, query `i`
/// has loss `LSE(S[i, :]) - S[i, i]`. With `symmetric`, the loss of pair `i` is the mean of that
/// and `LSE(S[:B, i]) - S[i, i]`.
#[derive(Debug, Clone)]
pub struct InfoNce {
    config: InfoNceConfig,
}

impl InfoNce {
    /// Builds the loss.
    ///
    /// # Errors
    /// [`TrainError::InvalidInput`] for invalid parameters.
    pub fn new(config: InfoNceConfig) -> Result<Self> {
        config.validate()?;
        Ok(Self { config })
    }

    /// The parameters.
    pub fn config(&self) -> &InfoNceConfig {
        &self.config
    }

    /// The per-query loss from unscaled scores whose column `i < B` is the positive of row `i`.
    ///
    /// # Shapes
    /// `scores: [B, C]` with `C >= B` → `[B]`.
    fn loss_of_scores(&self, scores: &Tensor) -> Result<Tensor> {
        let logits = loss_precision(scores)?.f_mul_scalar(self.config.scale)?;
        let forward = logits
            .f_log_softmax(1, None::<Kind>)?
            .f_diagonal(0, 0, 1)?
            .f_neg()?;
        if !self.config.symmetric {
            return Ok(forward);
        }
        let b = logits.size().first().copied().unwrap_or(0);
        let backward = logits
            .f_narrow(1, 0, b)?
            .f_log_softmax(0, None::<Kind>)?
            .f_diagonal(0, 0, 1)?
            .f_neg()?;
        Ok(forward.f_add(&backward)?.f_mul_scalar(0.5)?)
    }
}

impl EmbeddingLoss for InfoNce {
    fn name(&self) -> &'static str {
        "info_nce"
    }

    fn reduction(&self) -> Reduction {
        self.config.reduction
    }

    /// # Shapes
    /// `queries: [B, D]`, `positives: [B, D]`, `negatives: [B, H, D]` or none → `[B]`.
    fn unreduced(&self, batch: &EmbeddingBatch) -> Result<Tensor> {
        batch.validate()?;
        let scores = self
            .config
            .similarity
            .matrix(&batch.queries, &candidates(batch)?)?;
        self.loss_of_scores(&scores)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::TrainError;
    use crate::losses::test_util::{
        assert_doc, batch, check_gradients, check_shape_errors, values,
    };

    // Reference values (docs/losses.md 1.6 and 5.1), checked with PyTorch:
    //   y = torch.arange(B); L = scale * S
    //   fwd = F.cross_entropy(L, y); sym = (fwd + F.cross_entropy(L[:, :B].T, y)) / 2

    fn loss(scale: f64, symmetric: bool, similarity: Similarity) -> InfoNce {
        InfoNce::new(InfoNceConfig {
            scale,
            symmetric,
            similarity,
            ..InfoNceConfig::default()
        })
        .unwrap()
    }

    fn mean_from_scores(loss: &InfoNce, rows: &[f64], b: i64) -> f64 {
        let scores = Tensor::from_slice(rows).view([b, -1]);
        loss.loss_of_scores(&scores)
            .unwrap()
            .mean(Kind::Double)
            .double_value(&[])
    }

    #[test]
    fn example_a_through_dot_products() {
        // Queries = identity, positives = columns of S, so dot(queries, positives) = S.
        let s = [0.9, 0.3, 0.5, 0.7];
        let b = batch(&[1.0, 0.0, 0.0, 1.0], &[0.9, 0.5, 0.3, 0.7], &[], 2);
        for (scale, symmetric, want) in [
            (1.0, false, 0.517813),
            (1.0, true, 0.515414),
            (20.0, false, 0.009078),
            (20.0, true, 0.004707),
        ] {
            let l = loss(scale, symmetric, Similarity::Dot);
            assert_doc(l.forward(&b).unwrap().double_value(&[]), want);
            assert_doc(mean_from_scores(&l, &s, 2), want);
        }
    }

    #[test]
    fn example_b_scores() {
        let s = [0.8, 0.1, 0.5, 0.3, 0.6, 0.2, 0.4, 0.7, 0.9];
        for (scale, symmetric, want) in [
            (1.0, false, 0.857118),
            (1.0, true, 0.860837),
            (10.0, false, 0.082728),
            (10.0, true, 0.267841),
        ] {
            let l = loss(scale, symmetric, Similarity::Cosine);
            assert_doc(mean_from_scores(&l, &s, 3), want);
        }
    }

    #[test]
    fn example_c_with_hard_negatives() {
        // q1 = n1 = (1, 0), q2 = n2 = (0, 1), p1 = (0.8, 0.6), p2 = (0.6, 0.8) give the cosine
        // scores S = [[0.8, 0.6, 1.0, 0.0], [0.6, 0.8, 0.0, 1.0]] of doc example C.
        let b = batch(
            &[1.0, 0.0, 0.0, 1.0],
            &[0.8, 0.6, 0.6, 0.8],
            &[1.0, 0.0, 0.0, 1.0],
            2,
        );
        let mnrl = InfoNce::new(InfoNceConfig::default()).unwrap();
        assert_doc(mnrl.forward(&b).unwrap().double_value(&[]), 4.018479);
        // The per-query losses are equal by symmetry; Sum doubles the mean.
        let per_query = values(&mnrl.unreduced(&b).unwrap());
        assert_doc(per_query[0], 4.018479);
        assert_doc(per_query[1], 4.018479);
        let sum = InfoNce::new(InfoNceConfig {
            reduction: Reduction::Sum,
            ..InfoNceConfig::default()
        })
        .unwrap();
        assert_doc(sum.forward(&b).unwrap().double_value(&[]), 2.0 * 4.018479);
    }

    #[test]
    fn gradients_match_finite_differences() {
        check_gradients(&loss(20.0, false, Similarity::Cosine));
        check_gradients(&loss(20.0, true, Similarity::Cosine));
        check_gradients(&loss(1.0, true, Similarity::Dot));
    }

    #[test]
    fn shape_errors_and_bad_scale_are_invalid_input() {
        check_shape_errors(&InfoNce::new(InfoNceConfig::default()).unwrap());
        for scale in [0.0, -1.0, f64::NAN] {
            let config = InfoNceConfig {
                scale,
                ..InfoNceConfig::default()
            };
            assert!(matches!(
                InfoNce::new(config),
                Err(TrainError::InvalidInput(_))
            ));
        }
    }
}
