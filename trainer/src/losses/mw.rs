//! The MW (Mann-Whitney U / AUC surrogate) loss of Sheikholeslami et al., "Optimizing What
//! Matters: AUC-Driven Learning for Robust Neural Retrieval" (arXiv 2510.00137, eq. 3 with the
//! temperature of its experiments). Specification: `docs/losses.md` sections 1.3–1.6 and 1.9.
//!
//! Every positive score of the batch is compared with every negative score of the batch,
//! across queries, with a logistic penalty on the difference.

use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

use crate::error::{Result, TrainError};
use crate::losses::common::{
    candidates, cosine_sim_matrix, diag_mask, loss_precision, require_finite_positive, Reduction,
};
use crate::losses::{EmbeddingBatch, EmbeddingLoss};

/// How the `B x M` pair penalties of [`Mw`] are normalised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MwReduction {
    /// The paper's eq. 3: sum over the negative pool, mean over positives. The value grows like
    /// `B^2 (1 + H)`.
    Paper,
    /// The mean over all `B * M` pairs (the doc's recommended default).
    #[default]
    Mean,
}

/// Parameters of [`Mw`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MwConfig {
    /// Temperature `tau` dividing the score differences (default 0.01, as in the paper's
    /// experiments).
    pub temperature: f64,
    /// Normalisation of the pair penalties (default mean).
    pub reduction: MwReduction,
}

impl Default for MwConfig {
    fn default() -> Self {
        Self {
            temperature: 0.01,
            reduction: MwReduction::Mean,
        }
    }
}

impl MwConfig {
    /// Checks the values.
    ///
    /// # Errors
    /// [`TrainError::InvalidInput`] when `temperature` is not finite and positive.
    pub fn validate(&self) -> Result<()> {
        require_finite_positive("mw: temperature", self.temperature)
    }
}

/// The MW loss.
///
/// With `S = cos(queries, [positives; all hard negatives])` of shape `[B, B (1 + H)]`, the
/// positives are `s_i = S[i, i]` and the negative pool is every off-diagonal entry of `S`
/// (`M = B (B (1 + H) - 1)` scores: other queries' positives and all hard negatives). Query `i`
/// has the loss `sum_{s in pool} softplus(-(s_i - s) / tau)` ([`MwReduction::Paper`]) or that
/// sum divided by `M` ([`MwReduction::Mean`]); [`forward`](EmbeddingLoss::forward) then takes
/// the mean over queries, which gives the paper's `sum / B` or the mean over all pairs.
#[derive(Debug, Clone)]
pub struct Mw {
    config: MwConfig,
}

impl Mw {
    /// Builds the loss.
    ///
    /// # Errors
    /// [`TrainError::InvalidInput`] for invalid parameters.
    pub fn new(config: MwConfig) -> Result<Self> {
        config.validate()?;
        Ok(Self { config })
    }

    /// The parameters.
    pub fn config(&self) -> &MwConfig {
        &self.config
    }

    /// The per-query loss from scores whose entry `(i, i)` is the positive of row `i`.
    ///
    /// # Shapes
    /// `scores: [B, C]` with `C >= B` → `[B]`.
    fn loss_of_scores(&self, scores: &Tensor) -> Result<Tensor> {
        let scores = loss_precision(scores)?;
        let (rows, cols) = match scores.size().as_slice() {
            &[r, c] => (r, c),
            _ => (0, 0),
        };
        let diag = diag_mask(rows, cols, scores.device())?;
        let positives = scores.f_diagonal(0, 0, 1)?;
        let pool = scores.f_masked_select(&diag.f_logical_not()?)?;
        // softplus(-(s_i - s) / tau) = softplus((s - s_i) / tau), [B, M].
        let penalties = pool
            .f_unsqueeze(0)?
            .f_sub(&positives.f_unsqueeze(1)?)?
            .f_div_scalar(self.config.temperature)?
            .f_softplus()?;
        let dims = [1].as_slice();
        Ok(match self.config.reduction {
            MwReduction::Paper => penalties.f_sum_dim_intlist(dims, false, None::<Kind>)?,
            MwReduction::Mean => penalties.f_mean_dim(dims, false, None::<Kind>)?,
        })
    }
}

impl EmbeddingLoss for Mw {
    fn name(&self) -> &'static str {
        "mw"
    }

    /// Always [`Reduction::Mean`]: the normalisation is chosen by [`MwReduction`].
    fn reduction(&self) -> Reduction {
        Reduction::Mean
    }

    /// # Shapes
    /// `queries: [B, D]`, `positives: [B, D]`, `negatives: [B, H, D]` or none → `[B]`.
    fn unreduced(&self, batch: &EmbeddingBatch) -> Result<Tensor> {
        let shape = batch.validate()?;
        if shape.batch < 2 && shape.hard_negatives == 0 {
            return Err(TrainError::InvalidInput(
                "mw: a single query without hard negatives has no negatives".to_owned(),
            ));
        }
        let scores = cosine_sim_matrix(&batch.queries, &candidates(batch)?)?;
        self.loss_of_scores(&scores)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::test_util::{assert_doc, batch, check_gradients, check_shape_errors};

    // Reference values (docs/losses.md 1.6), checked with PyTorch:
    //   pos = S.diagonal(); neg = S[~eye]; l = F.softplus(-(pos[:, None] - neg[None, :]) / tau)
    //   paper = l.sum() / B; mean = l.mean()

    fn loss(temperature: f64, reduction: MwReduction) -> Mw {
        Mw::new(MwConfig {
            temperature,
            reduction,
        })
        .unwrap()
    }

    fn mean_loss_of_scores(loss: &Mw, rows: &[f64], b: i64) -> f64 {
        let scores = Tensor::from_slice(rows).view([b, -1]);
        loss.loss_of_scores(&scores)
            .unwrap()
            .mean(Kind::Double)
            .double_value(&[])
    }

    #[test]
    fn example_a_scores() {
        let s = [0.9, 0.3, 0.5, 0.7];
        for (tau, paper, mean) in [(1.0, 1.030829, 0.515414), (0.1, 0.082852, 0.041426)] {
            assert_doc(
                mean_loss_of_scores(&loss(tau, MwReduction::Paper), &s, 2),
                paper,
            );
            assert_doc(
                mean_loss_of_scores(&loss(tau, MwReduction::Mean), &s, 2),
                mean,
            );
        }
        // tau = 0.01: below 1e-8 and still finite (stable softplus).
        let tiny = mean_loss_of_scores(&loss(0.01, MwReduction::Paper), &s, 2);
        assert!((0.0..1e-8).contains(&tiny), "{tiny}");
    }

    #[test]
    fn example_b_scores() {
        let s = [0.8, 0.1, 0.5, 0.3, 0.6, 0.2, 0.4, 0.7, 0.9];
        for (tau, paper, mean) in [(1.0, 3.117301, 0.519550), (0.1, 0.790840, 0.131807)] {
            assert_doc(
                mean_loss_of_scores(&loss(tau, MwReduction::Paper), &s, 3),
                paper,
            );
            assert_doc(
                mean_loss_of_scores(&loss(tau, MwReduction::Mean), &s, 3),
                mean,
            );
        }
    }

    #[test]
    fn example_c_with_hard_negatives() {
        // Embeddings whose cosine scores are S = [[0.8, 0.6, 1.0, 0.0], [0.6, 0.8, 0.0, 1.0]].
        let b = batch(
            &[1.0, 0.0, 0.0, 1.0],
            &[0.8, 0.6, 0.6, 0.8],
            &[1.0, 0.0, 0.0, 1.0],
            2,
        );
        let paper = loss(1.0, MwReduction::Paper).forward(&b).unwrap();
        assert_doc(paper.double_value(&[]), 3.534757);
        let mean = loss(1.0, MwReduction::Mean).forward(&b).unwrap();
        assert_doc(mean.double_value(&[]), 0.589126);
    }

    #[test]
    fn large_score_gaps_stay_finite() {
        // (s+ - s-) / tau = -200: a naive log(1 + exp(x)) in f32 would overflow.
        let s = Tensor::from_slice(&[-1.0f32, 1.0, 1.0, -1.0]).view([2, 2]);
        let l = loss(0.01, MwReduction::Mean).loss_of_scores(&s).unwrap();
        assert_doc(l.mean(Kind::Double).double_value(&[]), 200.0);
    }

    #[test]
    fn gradients_match_finite_differences() {
        check_gradients(&loss(1.0, MwReduction::Paper));
        check_gradients(&loss(0.1, MwReduction::Mean));
    }

    #[test]
    fn shape_errors_and_bad_temperature_are_invalid_input() {
        check_shape_errors(&Mw::new(MwConfig::default()).unwrap());
        let single = batch(&[1.0, 0.0], &[0.0, 1.0], &[], 2);
        assert!(matches!(
            Mw::new(MwConfig::default()).unwrap().forward(&single),
            Err(TrainError::InvalidInput(_))
        ));
        for temperature in [0.0, -0.1, f64::INFINITY] {
            let config = MwConfig {
                temperature,
                ..MwConfig::default()
            };
            assert!(matches!(Mw::new(config), Err(TrainError::InvalidInput(_))));
        }
    }
}
