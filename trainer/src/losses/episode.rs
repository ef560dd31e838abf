//! The [`EpisodeLoss`] trait of few-shot training and the episode it consumes.

use tch::{Device, Kind, Tensor};

use crate::error::{Result, TrainError};
use crate::losses::common::expect_shape;

/// Embeddings of one N-way K-shot episode: support row `i` belongs to class `i / shots`
/// (class-major), query row `j` to class `query_labels[j]`.
///
/// # Shapes
/// `support: [ways · shots, D]`, `query: [M, D]`, `query_labels: [M]` (int64 in `0..ways`).
#[derive(Debug)]
pub struct EpisodeEmbeddings {
    /// Support embeddings.
    pub support: Tensor,
    /// Query embeddings.
    pub query: Tensor,
    /// The class of each query.
    pub query_labels: Tensor,
    /// Classes (N).
    pub ways: i64,
    /// Support rows per class (K).
    pub shots: i64,
}

impl EpisodeEmbeddings {
    /// Checks the shapes and labels and returns `D` (label values only on the CPU, see below).
    ///
    /// # Errors
    /// [`TrainError::InvalidInput`] naming the offending tensor.
    pub fn validate(&self) -> Result<i64> {
        if self.ways < 1 || self.shots < 1 {
            return Err(TrainError::InvalidInput(format!(
                "episode: need at least 1 way and 1 shot, got {}-way {}-shot",
                self.ways, self.shots
            )));
        }
        expect_shape(
            "support",
            &self.support,
            &[Some(self.ways * self.shots), None],
        )?;
        let dim = self.support.size().get(1).copied().unwrap_or(0);
        if dim < 1 {
            return Err(TrainError::InvalidInput(
                "support: embeddings must have width at least 1".to_owned(),
            ));
        }
        expect_shape("query", &self.query, &[None, Some(dim)])?;
        let rows = self.query.size().first().copied().unwrap_or(0);
        if rows < 1 {
            return Err(TrainError::InvalidInput(
                "query: an episode needs at least one query".to_owned(),
            ));
        }
        if self.query_labels.size() != [rows] || self.query_labels.f_kind()? != Kind::Int64 {
            return Err(TrainError::InvalidInput(format!(
                "query_labels: expected int64 [{rows}], got {:?} {:?}",
                self.query_labels.kind(),
                self.query_labels.size()
            )));
        }
        // Reading label values back from an accelerator would stall its queue once per episode
        // (twice per loss); there the gather/NLL kernels bound-check the labels themselves and a
        // bad one fails the step with a device error. On the CPU the check is free.
        if self.query_labels.device() != Device::Cpu {
            return Ok(dim);
        }
        let low = self.query_labels.f_min()?.f_int64_value(&[])?;
        let high = self.query_labels.f_max()?.f_int64_value(&[])?;
        if low < 0 || high >= self.ways {
            return Err(TrainError::InvalidInput(format!(
                "query_labels: must lie in 0..{}, got {low}..={high}",
                self.ways
            )));
        }
        Ok(dim)
    }
}

/// A loss over one few-shot episode.
pub trait EpisodeLoss: Send + std::fmt::Debug {
    /// A short stable name for logs, e.g. `"protonet"`.
    fn name(&self) -> &'static str;

    /// The episode's loss.
    ///
    /// # Shapes
    /// See [`EpisodeEmbeddings`] → `[]`.
    ///
    /// # Errors
    /// [`TrainError::InvalidInput`] for inconsistent shapes; libtorch errors.
    fn forward(&self, episode: &EpisodeEmbeddings) -> Result<Tensor>;
}

#[cfg(test)]
mod tests {
    use tch::Device;

    use super::*;

    fn zeros(shape: &[i64]) -> Tensor {
        Tensor::zeros(shape, (Kind::Float, Device::Cpu))
    }

    #[test]
    fn validate_checks_rows_against_ways_and_shots() {
        let labels = |v: &[i64]| Tensor::from_slice(v);
        let ok = EpisodeEmbeddings {
            support: zeros(&[6, 4]),
            query: zeros(&[3, 4]),
            query_labels: labels(&[0, 2, 1]),
            ways: 3,
            shots: 2,
        };
        assert_eq!(ok.validate().unwrap(), 4);
        for (support, query, query_labels, ways, shots) in [
            (zeros(&[5, 4]), zeros(&[3, 4]), labels(&[0, 1, 2]), 3, 2),
            (zeros(&[6, 4]), zeros(&[3, 4]), labels(&[0, 1]), 3, 2),
            (zeros(&[6, 4]), zeros(&[3, 4]), labels(&[0, 1, 3]), 3, 2),
            (zeros(&[6, 4]), zeros(&[3, 4]), labels(&[0, -1, 2]), 3, 2),
            (zeros(&[6, 4]), zeros(&[3, 3]), labels(&[0, 1, 2]), 3, 2),
            (zeros(&[6, 4]), zeros(&[0, 4]), labels(&[]), 3, 2),
            (zeros(&[6]), zeros(&[3, 4]), labels(&[0, 1, 2]), 3, 2),
            (zeros(&[0, 4]), zeros(&[1, 4]), labels(&[0]), 0, 2),
        ] {
            let ep = EpisodeEmbeddings {
                support,
                query,
                query_labels,
                ways,
                shots,
            };
            assert!(
                matches!(ep.validate(), Err(TrainError::InvalidInput(_))),
                "{ep:?}"
            );
        }
    }
}
