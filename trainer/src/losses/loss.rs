//! The [`EmbeddingLoss`] trait and the batch it consumes.

use tch::Tensor;

use crate::error::{Result, TrainError};
use crate::losses::common::{expect_shape, reduce, Reduction};

/// Embeddings of one training batch: a query, its positive passage and optional hard negatives.
///
/// # Shapes
/// `queries: [B, D]`, `positives: [B, D]`, `negatives: [B, H, D]` (`H` may be 0, or the field
/// `None`). Row `i` of every tensor belongs to query `i`.
#[derive(Debug)]
pub struct EmbeddingBatch {
    /// Query (anchor) embeddings, `[B, D]`.
    pub queries: Tensor,
    /// One positive passage per query, `[B, D]`.
    pub positives: Tensor,
    /// Hard negatives per query, `[B, H, D]`.
    pub negatives: Option<Tensor>,
}

/// The sizes of a checked [`EmbeddingBatch`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchShape {
    /// Queries `B` (at least 1).
    pub batch: i64,
    /// Hard negatives per query `H` (0 when there are none).
    pub hard_negatives: i64,
    /// Embedding width `D` (at least 1).
    pub dim: i64,
}

impl EmbeddingBatch {
    /// Checks that the shapes agree and the values are floating point.
    ///
    /// # Errors
    /// [`TrainError::InvalidInput`] naming the offending tensor, before libtorch can throw.
    pub fn validate(&self) -> Result<BatchShape> {
        expect_shape("queries", &self.queries, &[None, None])?;
        let (batch, dim) = match self.queries.size().as_slice() {
            &[b, d] => (b, d),
            _ => (0, 0),
        };
        if batch < 1 || dim < 1 {
            return Err(TrainError::InvalidInput(format!(
                "queries: need at least one query of width at least 1, got [{batch}, {dim}]"
            )));
        }
        expect_shape("positives", &self.positives, &[Some(batch), Some(dim)])?;
        let hard_negatives = match &self.negatives {
            Some(negatives) => {
                expect_shape("negatives", negatives, &[Some(batch), None, Some(dim)])?;
                negatives.size().get(1).copied().unwrap_or(0)
            }
            None => 0,
        };
        Ok(BatchShape {
            batch,
            hard_negatives,
            dim,
        })
    }
}

/// A loss over query/passage embeddings.
///
/// Implementations provide [`unreduced`](Self::unreduced) (one loss per query) and
/// [`reduction`](Self::reduction) (taken from their config); [`forward`](Self::forward)
/// validates, calls `unreduced` and reduces.
pub trait EmbeddingLoss: Send + std::fmt::Debug {
    /// A short stable name for logs, e.g. `"info_nce"`.
    fn name(&self) -> &'static str;

    /// How [`forward`](Self::forward) reduces the per-query losses.
    fn reduction(&self) -> Reduction;

    /// The loss of each query. Implementations validate the batch themselves, so this is safe
    /// to call directly.
    ///
    /// # Shapes
    /// See [`EmbeddingBatch`] → `[B]`.
    ///
    /// # Errors
    /// [`TrainError::InvalidInput`] for inconsistent shapes; libtorch errors.
    fn unreduced(&self, batch: &EmbeddingBatch) -> Result<Tensor>;

    /// The reduced loss.
    ///
    /// # Shapes
    /// See [`EmbeddingBatch`] → `[]` (a scalar).
    ///
    /// # Errors
    /// [`TrainError::InvalidInput`] for inconsistent shapes; libtorch errors.
    fn forward(&self, batch: &EmbeddingBatch) -> Result<Tensor> {
        batch.validate()?;
        reduce(&self.unreduced(batch)?, self.reduction())
    }
}

/// A loss over features and the weights of a classification layer, as face-recognition heads
/// (ArcFace, CosFace, UNPG) are: the class weights are parameters trained with the model.
pub trait ClassificationLoss: Send + std::fmt::Debug {
    /// A short stable name for logs, e.g. `"arcface+unpg"`.
    fn name(&self) -> &'static str;

    /// The loss of each sample. Implementations validate their inputs.
    ///
    /// # Shapes
    /// `features: [B, D]`, `weights: [C, D]`, `labels: [B]` (int64 in `[0, C)`) → `[B]`.
    ///
    /// # Errors
    /// [`TrainError::InvalidInput`] for inconsistent shapes or labels; libtorch errors.
    fn unreduced(&self, features: &Tensor, weights: &Tensor, labels: &Tensor) -> Result<Tensor>;

    /// The mean loss over the batch.
    ///
    /// # Shapes
    /// As [`unreduced`](Self::unreduced) → `[]`.
    ///
    /// # Errors
    /// As [`unreduced`](Self::unreduced).
    fn forward(&self, features: &Tensor, weights: &Tensor, labels: &Tensor) -> Result<Tensor> {
        reduce(&self.unreduced(features, weights, labels)?, Reduction::Mean)
    }
}

#[cfg(test)]
mod tests {
    use tch::{Device, Kind};

    use super::*;

    fn zeros(shape: &[i64]) -> Tensor {
        Tensor::zeros(shape, (Kind::Float, Device::Cpu))
    }

    #[test]
    fn validate_accepts_consistent_shapes() {
        let batch = EmbeddingBatch {
            queries: zeros(&[3, 4]),
            positives: zeros(&[3, 4]),
            negatives: Some(zeros(&[3, 2, 4])),
        };
        let shape = batch.validate().unwrap();
        assert_eq!((shape.batch, shape.hard_negatives, shape.dim), (3, 2, 4));
    }

    #[test]
    fn validate_rejects_inconsistent_shapes() {
        let cases = [
            (zeros(&[3]), zeros(&[3, 4]), None),
            (zeros(&[0, 4]), zeros(&[0, 4]), None),
            (zeros(&[3, 4]), zeros(&[3, 5]), None),
            (zeros(&[3, 4]), zeros(&[2, 4]), None),
            (zeros(&[3, 4]), zeros(&[3, 4]), Some(zeros(&[2, 1, 4]))),
            (zeros(&[3, 4]), zeros(&[3, 4]), Some(zeros(&[3, 4]))),
            (zeros(&[3, 4]), zeros(&[3, 4]), Some(zeros(&[3, 1, 5]))),
        ];
        for (queries, positives, negatives) in cases {
            let batch = EmbeddingBatch {
                queries,
                positives,
                negatives,
            };
            assert!(
                matches!(batch.validate(), Err(TrainError::InvalidInput(_))),
                "{batch:?}"
            );
        }
    }
}
