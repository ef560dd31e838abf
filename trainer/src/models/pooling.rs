//! Pooling of token states into one sentence vector, as in sentence-transformers'
//! `1_Pooling/config.json`.

use std::path::Path;

use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

use crate::error::{Result, TrainError};

/// How token states become one vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pooling {
    /// Mean over real (unmasked) tokens.
    #[default]
    Mean,
    /// The first token (`[CLS]`).
    Cls,
    /// Element-wise maximum over real tokens.
    Max,
}

/// The `1_Pooling/config.json` file of a sentence-transformers model.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PoolingFile {
    /// Embedding width.
    #[serde(default)]
    pub word_embedding_dimension: i64,
    /// Use the `[CLS]` token.
    #[serde(default)]
    pub pooling_mode_cls_token: bool,
    /// Mean over tokens.
    #[serde(default)]
    pub pooling_mode_mean_tokens: bool,
    /// Max over tokens.
    #[serde(default)]
    pub pooling_mode_max_tokens: bool,
    /// Mean scaled by sqrt(length) (not supported).
    #[serde(default)]
    pub pooling_mode_mean_sqrt_len_tokens: bool,
}

impl Pooling {
    /// Reads the pooling mode from a sentence-transformers `1_Pooling/config.json`.
    ///
    /// # Errors
    /// [`TrainError::BadConfig`] when the file does not parse or asks for an unsupported or
    /// combined mode.
    pub fn load(path: &Path) -> Result<Self> {
        let bad = |reason: String| TrainError::BadConfig {
            path: path.to_path_buf(),
            reason,
        };
        let file: PoolingFile = serde_json::from_str(&fs_err::read_to_string(path)?)
            .map_err(|e| bad(format!("not a pooling config: {e}")))?;
        let modes = [
            (file.pooling_mode_mean_tokens, Self::Mean),
            (file.pooling_mode_cls_token, Self::Cls),
            (file.pooling_mode_max_tokens, Self::Max),
        ];
        if file.pooling_mode_mean_sqrt_len_tokens {
            return Err(bad(
                "pooling_mode_mean_sqrt_len_tokens is not supported".to_owned()
            ));
        }
        let mut chosen = modes.iter().filter(|(on, _)| *on).map(|(_, mode)| *mode);
        match (chosen.next(), chosen.next()) {
            (Some(mode), None) => Ok(mode),
            (None, _) => Err(bad("no pooling mode is switched on".to_owned())),
            (Some(_), Some(_)) => Err(bad("combined pooling modes are not supported".to_owned())),
        }
    }

    /// The file contents that describe this mode for a model of width `dim`.
    pub fn to_file(self, dim: i64) -> PoolingFile {
        PoolingFile {
            word_embedding_dimension: dim,
            pooling_mode_cls_token: self == Self::Cls,
            pooling_mode_mean_tokens: self == Self::Mean,
            pooling_mode_max_tokens: self == Self::Max,
            pooling_mode_mean_sqrt_len_tokens: false,
        }
    }

    /// Pools token states into sentence vectors, in f32.
    ///
    /// # Shapes
    /// `hidden: [B, L, H]`, `attention_mask: [B, L]` → `[B, H]`.
    ///
    /// # Errors
    /// libtorch errors.
    pub fn apply(self, hidden: &Tensor, attention_mask: &Tensor) -> Result<Tensor> {
        let hidden = hidden.f_to_kind(Kind::Float)?;
        let mask = attention_mask.f_to_kind(Kind::Float)?.f_unsqueeze(-1)?;
        Ok(match self {
            Self::Mean => {
                let summed = hidden
                    .f_mul(&mask)?
                    .f_sum_dim_intlist(1, false, Kind::Float)?;
                let counts = mask
                    .f_sum_dim_intlist(1, false, Kind::Float)?
                    .f_clamp_min(1e-9)?;
                summed.f_div(&counts)?
            }
            Self::Cls => hidden.f_select(1, 0)?,
            Self::Max => {
                let masked = hidden.f_masked_fill(&mask.f_eq(0.0)?, f64::NEG_INFINITY)?;
                masked.f_amax([1].as_slice(), false)?
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_pooling_ignores_padding() {
        // Two sequences of length 3; the second has one padding token holding huge values.
        let hidden = Tensor::from_slice(&[
            1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0, //
            1.0, 1.0, 3.0, 3.0, 1000.0, 1000.0,
        ])
        .view([2, 3, 2]);
        let mask = Tensor::from_slice(&[1i64, 1, 1, 1, 1, 0]).view([2, 3]);
        let pooled = Pooling::Mean.apply(&hidden, &mask).unwrap();
        let values: Vec<f32> = Vec::try_from(pooled.flatten(0, -1)).unwrap();
        assert_eq!(values, vec![3.0, 4.0, 2.0, 2.0]);
    }

    #[test]
    fn max_and_cls_pooling() {
        let hidden = Tensor::from_slice(&[1.0f32, 9.0, 3.0, 4.0, 50.0, 60.0]).view([1, 3, 2]);
        let mask = Tensor::from_slice(&[1i64, 1, 0]).view([1, 3]);
        let max: Vec<f32> =
            Vec::try_from(Pooling::Max.apply(&hidden, &mask).unwrap().flatten(0, -1)).unwrap();
        assert_eq!(max, vec![3.0, 9.0]);
        let cls: Vec<f32> =
            Vec::try_from(Pooling::Cls.apply(&hidden, &mask).unwrap().flatten(0, -1)).unwrap();
        assert_eq!(cls, vec![1.0, 9.0]);
    }
}
