//! Triplet margin loss (Schroff et al. 2015, "FaceNet"; sentence-transformers `TripletLoss`):
//! `max(0, d(a, p) - d(a, n) + margin)`. Specification: `docs/losses.md` section 5.3.

use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

use crate::error::{Result, TrainError};
use crate::losses::common::{l2_normalize, loss_precision, Reduction};
use crate::losses::{EmbeddingBatch, EmbeddingLoss};

/// Added under the square root of the Euclidean distance, whose gradient is infinite at 0.
const SQRT_EPS: f64 = 1e-12;

/// The distance between an anchor and a passage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TripletDistance {
    /// `sqrt(||a - b||^2 + 1e-12)` (non-squared, as sentence-transformers).
    #[default]
    Euclidean,
    /// `1 - cos(a, b)`, in `[0, 2]`.
    Cosine,
}

/// Parameters of [`Triplet`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TripletConfig {
    /// Distance between embeddings (default Euclidean).
    pub distance: TripletDistance,
    /// Required gap between the negative and the positive distance (default 5, as
    /// sentence-transformers' `TripletLoss`; with cosine distance choose a value below 2).
    pub margin: f64,
    /// How per-query losses are combined (default mean).
    pub reduction: Reduction,
}

impl Default for TripletConfig {
    fn default() -> Self {
        Self {
            distance: TripletDistance::Euclidean,
            margin: 5.0,
            reduction: Reduction::Mean,
        }
    }
}

impl TripletConfig {
    /// Checks the values.
    ///
    /// # Errors
    /// [`TrainError::InvalidInput`] when `margin` is not finite.
    pub fn validate(&self) -> Result<()> {
        if !self.margin.is_finite() {
            return Err(TrainError::InvalidInput(format!(
                "triplet: margin must be finite, got {}",
                self.margin
            )));
        }
        Ok(())
    }
}

/// The triplet loss with the query as anchor and its first hard negative as the negative.
#[derive(Debug, Clone)]
pub struct Triplet {
    config: TripletConfig,
}

impl Triplet {
    /// Builds the loss.
    ///
    /// # Errors
    /// [`TrainError::InvalidInput`] for invalid parameters.
    pub fn new(config: TripletConfig) -> Result<Self> {
        config.validate()?;
        Ok(Self { config })
    }

    /// The parameters.
    pub fn config(&self) -> &TripletConfig {
        &self.config
    }

    /// Row-wise distances.
    ///
    /// # Shapes
    /// `a: [B, D]`, `b: [B, D]` → `[B]`.
    fn distance(&self, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        let dims = [-1].as_slice();
        Ok(match self.config.distance {
            TripletDistance::Euclidean => a
                .f_sub(b)?
                .f_square()?
                .f_sum_dim_intlist(dims, false, None::<Kind>)?
                .f_add_scalar(SQRT_EPS)?
                .f_sqrt()?,
            TripletDistance::Cosine => l2_normalize(a)?
                .f_mul(&l2_normalize(b)?)?
                .f_sum_dim_intlist(dims, false, None::<Kind>)?
                .f_neg()?
                .f_add_scalar(1.0)?,
        })
    }
}

impl EmbeddingLoss for Triplet {
    fn name(&self) -> &'static str {
        "triplet"
    }

    fn reduction(&self) -> Reduction {
        self.config.reduction
    }

    /// # Shapes
    /// `queries: [B, D]`, `positives: [B, D]`, `negatives: [B, H, D]` with `H >= 1` → `[B]`.
    /// Only the first hard negative is used.
    fn unreduced(&self, batch: &EmbeddingBatch) -> Result<Tensor> {
        let shape = batch.validate()?;
        let negatives = match &batch.negatives {
            Some(negatives) if shape.hard_negatives > 0 => negatives,
            Some(_) | None => {
                return Err(TrainError::InvalidInput(
                    "triplet: needs at least one hard negative per query".to_owned(),
                ))
            }
        };
        let anchors = loss_precision(&batch.queries)?;
        let positives = loss_precision(&batch.positives)?;
        let negatives = loss_precision(&negatives.f_select(1, 0)?)?;
        let d_ap = self.distance(&anchors, &positives)?;
        let d_an = self.distance(&anchors, &negatives)?;
        Ok(d_ap
            .f_sub(&d_an)?
            .f_add_scalar(self.config.margin)?
            .f_relu()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::test_util::{
        assert_doc, batch, check_gradients, check_shape_errors, values,
    };

    fn loss(distance: TripletDistance, margin: f64) -> Triplet {
        Triplet::new(TripletConfig {
            distance,
            margin,
            ..TripletConfig::default()
        })
        .unwrap()
    }

    #[test]
    fn doc_vector_euclidean() {
        // docs/losses.md 5.3: d_ap = 5, d_an = 5.5 gives 0.5 (m = 1) and 4.5 (m = 5).
        // PyTorch: F.relu(F.pairwise_distance(a, p, eps=0) - F.pairwise_distance(a, n, eps=0) + m)
        let b = batch(&[0.0, 0.0], &[3.0, 4.0], &[5.5, 0.0], 2);
        let one = loss(TripletDistance::Euclidean, 1.0).forward(&b).unwrap();
        assert_doc(one.double_value(&[]), 0.5);
        let five = Triplet::new(TripletConfig::default())
            .unwrap()
            .forward(&b)
            .unwrap();
        assert_doc(five.double_value(&[]), 4.5);
    }

    #[test]
    fn cosine_distance_and_inactive_triplets() {
        // a = (1, 0), p = (0.6, 0.8): d_ap = 0.4; n = (0, 1): d_an = 1. Margin 0.5 gives
        // max(0, 0.4 - 1 + 0.5) = 0; margin 1 gives 0.4. The second hard negative is ignored.
        let b = batch(&[1.0, 0.0], &[0.6, 0.8], &[0.0, 1.0, 1.0, 0.0], 2);
        let zero = loss(TripletDistance::Cosine, 0.5).unreduced(&b).unwrap();
        assert_eq!(values(&zero), vec![0.0]);
        let active = loss(TripletDistance::Cosine, 1.0).forward(&b).unwrap();
        assert_doc(active.double_value(&[]), 0.4);
    }

    #[test]
    fn sum_reduction_adds_queries() {
        // Query 1 as in the doc vector (4.5); query 2: a = (0, 0), p = (1, 0), n = (0, 2):
        // 1 - 2 + 5 = 4.
        let b = batch(
            &[0.0, 0.0, 0.0, 0.0],
            &[3.0, 4.0, 1.0, 0.0],
            &[5.5, 0.0, 0.0, 2.0],
            2,
        );
        let sum = Triplet::new(TripletConfig {
            reduction: Reduction::Sum,
            ..TripletConfig::default()
        })
        .unwrap();
        assert_doc(sum.forward(&b).unwrap().double_value(&[]), 8.5);
    }

    #[test]
    fn gradients_match_finite_differences() {
        check_gradients(&Triplet::new(TripletConfig::default()).unwrap());
        check_gradients(&loss(TripletDistance::Cosine, 1.5));
    }

    #[test]
    fn shape_errors_and_missing_negatives_are_invalid_input() {
        let triplet = Triplet::new(TripletConfig::default()).unwrap();
        check_shape_errors(&triplet);
        let no_negatives = batch(&[1.0, 0.0], &[0.0, 1.0], &[], 2);
        assert!(matches!(
            triplet.forward(&no_negatives),
            Err(TrainError::InvalidInput(_))
        ));
        let mut empty = batch(&[1.0, 0.0], &[0.0, 1.0], &[], 2);
        empty.negatives = Some(Tensor::zeros([1, 0, 2], (Kind::Double, tch::Device::Cpu)));
        assert!(matches!(
            triplet.forward(&empty),
            Err(TrainError::InvalidInput(_))
        ));
        let nan = TripletConfig {
            margin: f64::NAN,
            ..TripletConfig::default()
        };
        assert!(matches!(
            Triplet::new(nan),
            Err(TrainError::InvalidInput(_))
        ));
    }
}
