//! Proto-Triplet loss ("SuSana Distancia is all you need", arXiv 2305.09062, code-faithful):
//! a triplet loss whose anchor is a query, whose positive is its own prototype and whose
//! negative is the nearest wrong prototype, on non-squared distances (`docs/losses.md` 3.2).

use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

use crate::error::{Result, TrainError};
use crate::losses::common::{euclidean_matrix, loss_precision, prototypes};
use crate::losses::{EpisodeEmbeddings, EpisodeLoss};

/// Parameters of [`ProtoTriplet`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProtoTripletConfig {
    /// Required gap between the nearest wrong prototype and the own prototype (0.5 in the code).
    pub margin: f64,
}

impl Default for ProtoTripletConfig {
    fn default() -> Self {
        Self { margin: 0.5 }
    }
}

/// `mean_q max(0, d(q, c_y) - min_{k≠y} d(q, c_k) + margin)`.
#[derive(Debug, Clone)]
pub struct ProtoTriplet {
    config: ProtoTripletConfig,
}

impl ProtoTriplet {
    /// Checks the config.
    ///
    /// # Errors
    /// [`TrainError::InvalidInput`] for a margin that is not finite.
    pub fn new(config: ProtoTripletConfig) -> Result<Self> {
        if !config.margin.is_finite() {
            return Err(TrainError::InvalidInput(format!(
                "proto_triplet: margin must be finite, got {}",
                config.margin
            )));
        }
        Ok(Self { config })
    }
}

impl EpisodeLoss for ProtoTriplet {
    fn name(&self) -> &'static str {
        "proto_triplet"
    }

    fn forward(&self, episode: &EpisodeEmbeddings) -> Result<Tensor> {
        episode.validate()?;
        if episode.ways < 2 {
            return Err(TrainError::InvalidInput(
                "proto_triplet: needs at least 2 ways (a wrong prototype)".to_owned(),
            ));
        }
        let protos = prototypes(&episode.support, episode.ways, episode.shots)?;
        let d = loss_precision(&euclidean_matrix(&episode.query, &protos)?)?;
        let labels = episode.query_labels.f_unsqueeze(1)?;
        let positive = d.f_gather(1, &labels, false)?.f_squeeze_dim(1)?;
        let own = Tensor::f_zeros_like(&d)?
            .f_to_kind(Kind::Bool)?
            .f_scatter_value(1, &labels, 1)?;
        let negative = d
            .f_masked_fill(&own, f64::INFINITY)?
            .f_amin([1].as_slice(), false)?;
        let hinge = positive
            .f_sub(&negative)?
            .f_add_scalar(self.config.margin)?
            .f_clamp_min(0.0)?;
        Ok(hinge.f_mean(None::<Kind>)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::test_util::{assert_doc, check_episode_gradients, doc_episode};

    #[test]
    fn doc_vector() {
        // docs/losses.md 3.2: L_PT = 0.29999993 with the eps.
        let loss = ProtoTriplet::new(ProtoTripletConfig::default()).unwrap();
        let value = loss.forward(&doc_episode()).unwrap().double_value(&[]);
        assert_doc(value, 0.299_999_93);
    }

    #[test]
    fn gradients_match_finite_differences() {
        // A large margin keeps every hinge active, so the loss is smooth around the point.
        check_episode_gradients(&ProtoTriplet::new(ProtoTripletConfig { margin: 5.0 }).unwrap());
    }

    #[test]
    fn one_way_and_bad_margin_are_errors() {
        assert!(ProtoTriplet::new(ProtoTripletConfig { margin: f64::NAN }).is_err());
        let loss = ProtoTriplet::new(ProtoTripletConfig::default()).unwrap();
        let ep = EpisodeEmbeddings {
            support: Tensor::zeros([1, 2], (Kind::Double, tch::Device::Cpu)),
            query: Tensor::zeros([1, 2], (Kind::Double, tch::Device::Cpu)),
            query_labels: Tensor::from_slice(&[0i64]),
            ways: 1,
            shots: 1,
        };
        assert!(matches!(
            loss.forward(&ep),
            Err(TrainError::InvalidInput(_))
        ));
    }
}
