//! [`LossConfig`]: the loss of an experiment, chosen by its `type`.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::losses::{EmbeddingLoss, InfoNce, InfoNceConfig, Mw, MwConfig, Triplet, TripletConfig};

/// Which loss to train with and its parameters, e.g. `{"type": "mw", "temperature": 0.01}`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LossConfig {
    /// [`InfoNce`] (MultipleNegativesRankingLoss).
    InfoNce(InfoNceConfig),
    /// [`Mw`] (Mann-Whitney / AUC surrogate).
    Mw(MwConfig),
    /// [`Triplet`] margin loss.
    Triplet(TripletConfig),
}

impl Default for LossConfig {
    fn default() -> Self {
        Self::InfoNce(InfoNceConfig::default())
    }
}

impl LossConfig {
    /// Checks the parameters.
    ///
    /// # Errors
    /// [`TrainError::InvalidInput`](crate::TrainError::InvalidInput) for an invalid value.
    pub fn validate(&self) -> Result<()> {
        match self {
            Self::InfoNce(config) => config.validate(),
            Self::Mw(config) => config.validate(),
            Self::Triplet(config) => config.validate(),
        }
    }

    /// Builds the configured loss.
    ///
    /// # Errors
    /// [`TrainError::InvalidInput`](crate::TrainError::InvalidInput) for an invalid value.
    pub fn build(&self) -> Result<Box<dyn EmbeddingLoss>> {
        Ok(match *self {
            Self::InfoNce(config) => Box::new(InfoNce::new(config)?),
            Self::Mw(config) => Box::new(Mw::new(config)?),
            Self::Triplet(config) => Box::new(Triplet::new(config)?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::{MwReduction, TripletDistance};
    use crate::TrainError;

    #[test]
    fn parses_each_type_with_defaults_for_missing_keys() {
        let mw: LossConfig =
            serde_json::from_str(r#"{"type": "mw", "reduction": "paper"}"#).unwrap();
        assert_eq!(
            mw,
            LossConfig::Mw(MwConfig {
                reduction: MwReduction::Paper,
                ..MwConfig::default()
            })
        );
        let nce: LossConfig = serde_json::from_str(r#"{"type": "info_nce"}"#).unwrap();
        assert_eq!(nce, LossConfig::InfoNce(InfoNceConfig::default()));
        let triplet: LossConfig =
            serde_json::from_str(r#"{"type": "triplet", "distance": "cosine", "margin": 0.5}"#)
                .unwrap();
        assert_eq!(
            triplet,
            LossConfig::Triplet(TripletConfig {
                distance: TripletDistance::Cosine,
                margin: 0.5,
                ..TripletConfig::default()
            })
        );
        for config in [mw, nce, triplet] {
            let json = serde_json::to_string(&config).unwrap();
            assert_eq!(serde_json::from_str::<LossConfig>(&json).unwrap(), config);
        }
    }

    #[test]
    fn typos_fail_to_parse() {
        for bad in [
            r#"{"type": "mw", "temprature": 0.05}"#,
            r#"{"type": "info_nce", "scael": 20.0}"#,
            r#"{"type": "triplet", "distance": "manhattan"}"#,
            r#"{"type": "infonce"}"#,
        ] {
            assert!(serde_json::from_str::<LossConfig>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn build_names_the_loss_and_rejects_bad_values() {
        for (config, name) in [
            (LossConfig::default(), "info_nce"),
            (LossConfig::Mw(MwConfig::default()), "mw"),
            (LossConfig::Triplet(TripletConfig::default()), "triplet"),
        ] {
            assert_eq!(config.build().unwrap().name(), name);
        }
        let bad = LossConfig::Mw(MwConfig {
            temperature: 0.0,
            ..MwConfig::default()
        });
        assert!(matches!(bad.validate(), Err(TrainError::InvalidInput(_))));
        assert!(matches!(bad.build(), Err(TrainError::InvalidInput(_))));
    }
}
