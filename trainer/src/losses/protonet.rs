//! Prototypical Networks loss (Snell et al. 2017): cross-entropy over the negative squared
//! Euclidean distances of each query to the class prototypes (`docs/losses.md` 3.1).

use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

use crate::error::Result;
use crate::losses::common::{
    loss_precision, prototypes, require_finite_positive, squared_euclidean_matrix,
};
use crate::losses::{EpisodeEmbeddings, EpisodeLoss};

/// Parameters of [`ProtoNet`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProtoNetConfig {
    /// Logits are `-||q - c_k||² / temperature` (1 in the paper).
    pub temperature: f64,
}

impl Default for ProtoNetConfig {
    fn default() -> Self {
        Self { temperature: 1.0 }
    }
}

/// The ProtoNet cross-entropy, mean over queries.
#[derive(Debug, Clone)]
pub struct ProtoNet {
    config: ProtoNetConfig,
}

impl ProtoNet {
    /// Checks the config.
    ///
    /// # Errors
    /// [`TrainError::InvalidInput`](crate::TrainError::InvalidInput) for a temperature that is
    /// not finite and positive.
    pub fn new(config: ProtoNetConfig) -> Result<Self> {
        require_finite_positive("protonet: temperature", config.temperature)?;
        Ok(Self { config })
    }

    /// The logits `-||q - c_k||² / T` of every query against every prototype.
    ///
    /// # Shapes
    /// → `[M, ways]` (one row per query).
    ///
    /// # Errors
    /// As [`EpisodeLoss::forward`].
    pub fn logits(&self, episode: &EpisodeEmbeddings) -> Result<Tensor> {
        episode.validate()?;
        let protos = prototypes(&episode.support, episode.ways, episode.shots)?;
        let d2 = squared_euclidean_matrix(&episode.query, &protos)?;
        Ok(loss_precision(&d2)?.f_mul_scalar(-1.0 / self.config.temperature)?)
    }
}

impl EpisodeLoss for ProtoNet {
    fn name(&self) -> &'static str {
        "protonet"
    }

    fn forward(&self, episode: &EpisodeEmbeddings) -> Result<Tensor> {
        let logits = self.logits(episode)?;
        let log_probs = logits.f_log_softmax(-1, None::<Kind>)?;
        Ok(log_probs.f_nll_loss(
            &episode.query_labels,
            None::<Tensor>,
            tch::Reduction::Mean,
            -100,
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::test_util::{assert_doc, check_episode_gradients, doc_episode};

    #[test]
    fn doc_vector() {
        // docs/losses.md 3.2: ProtoNet CE on the Proto-Triplet example = 0.469351.
        let loss = ProtoNet::new(ProtoNetConfig::default()).unwrap();
        let value = loss.forward(&doc_episode()).unwrap().double_value(&[]);
        assert_doc(value, 0.469351);
    }

    #[test]
    fn gradients_match_finite_differences() {
        check_episode_gradients(&ProtoNet::new(ProtoNetConfig { temperature: 2.0 }).unwrap());
    }

    #[test]
    fn rejects_bad_temperature() {
        assert!(ProtoNet::new(ProtoNetConfig { temperature: 0.0 }).is_err());
    }
}
