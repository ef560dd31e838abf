//! [`EpisodeLossConfig`]: the few-shot objective of an experiment, the mean of one or more
//! terms (as the SuSana code averages its `--losses`).

use serde::{Deserialize, Serialize};
use tch::Tensor;

use crate::error::{Result, TrainError};
use crate::losses::{
    EpisodeEmbeddings, EpisodeLoss, Icnn, IcnnConfig, ProtoNet, ProtoNetConfig, ProtoTriplet,
    ProtoTripletConfig,
};

/// One term of an episodic objective.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EpisodeTerm {
    /// [`ProtoNet`] cross-entropy (`cross` in the SuSana code).
    Cross,
    /// [`ProtoTriplet`].
    ProtoTriplet,
    /// [`Icnn`].
    Icnn,
}

/// Terms and their parameters, e.g. `terms = ["cross", "proto_triplet"]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EpisodeLossConfig {
    /// The terms, averaged.
    pub terms: Vec<EpisodeTerm>,
    /// Parameters of the `cross` term.
    pub protonet: ProtoNetConfig,
    /// Parameters of the `proto_triplet` term.
    pub proto_triplet: ProtoTripletConfig,
    /// Parameters of the `icnn` term.
    pub icnn: IcnnConfig,
}

impl Default for EpisodeLossConfig {
    fn default() -> Self {
        Self {
            terms: vec![EpisodeTerm::Cross],
            protonet: ProtoNetConfig::default(),
            proto_triplet: ProtoTripletConfig::default(),
            icnn: IcnnConfig::default(),
        }
    }
}

impl EpisodeLossConfig {
    /// Builds the objective.
    ///
    /// # Errors
    /// [`TrainError::InvalidInput`] for no terms, a repeated term or a bad parameter.
    pub fn build(&self) -> Result<EpisodeObjective> {
        if self.terms.is_empty() {
            return Err(TrainError::InvalidInput(
                "loss: terms must name at least one of cross, proto_triplet, icnn".to_owned(),
            ));
        }
        let mut terms: Vec<Box<dyn EpisodeLoss>> = Vec::new();
        for (i, term) in self.terms.iter().enumerate() {
            if self.terms[..i].contains(term) {
                return Err(TrainError::InvalidInput(format!(
                    "loss: term {term:?} is listed twice"
                )));
            }
            terms.push(match term {
                EpisodeTerm::Cross => Box::new(ProtoNet::new(self.protonet)?),
                EpisodeTerm::ProtoTriplet => Box::new(ProtoTriplet::new(self.proto_triplet)?),
                EpisodeTerm::Icnn => Box::new(Icnn::new(self.icnn)?),
            });
        }
        Ok(EpisodeObjective { terms })
    }
}

/// The mean of several [`EpisodeLoss`] terms.
#[derive(Debug)]
pub struct EpisodeObjective {
    terms: Vec<Box<dyn EpisodeLoss>>,
}

impl EpisodeLoss for EpisodeObjective {
    fn name(&self) -> &'static str {
        "episode_objective"
    }

    fn forward(&self, episode: &EpisodeEmbeddings) -> Result<Tensor> {
        let mut total: Option<Tensor> = None;
        for term in &self.terms {
            let value = term.forward(episode)?;
            total = Some(match total {
                Some(t) => t.f_add(&value)?,
                None => value,
            });
        }
        #[expect(clippy::cast_precision_loss, reason = "at most three terms")]
        let count = self.terms.len() as f64;
        total
            .ok_or_else(|| TrainError::InvalidInput("loss: no terms".to_owned()))?
            .f_div_scalar(count)
            .map_err(TrainError::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::test_util::{assert_doc, check_episode_gradients, doc_episode};

    #[test]
    fn cross_plus_proto_triplet_is_the_mean_of_both() {
        // docs/losses.md 3.2: "cross,prototriplet" = (0.469351 + 0.3) / 2 = 0.384675.
        let config: EpisodeLossConfig =
            toml::from_str(r#"terms = ["cross", "proto_triplet"]"#).unwrap();
        let value = config.build().unwrap().forward(&doc_episode()).unwrap();
        assert_doc(value.double_value(&[]), 0.384675);
    }

    #[test]
    fn combined_gradients_match_finite_differences() {
        let config: EpisodeLossConfig =
            toml::from_str("terms = [\"cross\", \"icnn\"]\n[icnn]\nset = \"support\"").unwrap();
        check_episode_gradients(&config.build().unwrap());
    }

    #[test]
    fn empty_repeated_and_unknown_terms_are_rejected() {
        let empty = EpisodeLossConfig {
            terms: vec![],
            ..EpisodeLossConfig::default()
        };
        assert!(empty.build().is_err());
        let twice = EpisodeLossConfig {
            terms: vec![EpisodeTerm::Cross, EpisodeTerm::Cross],
            ..EpisodeLossConfig::default()
        };
        assert!(twice.build().is_err());
        assert!(toml::from_str::<EpisodeLossConfig>(r#"terms = ["arcface"]"#).is_err());
        assert!(toml::from_str::<EpisodeLossConfig>("margin = 1").is_err());
    }
}
