//! The face backbones: the iResNet (trained from scratch) or EfficientNet-Lite0 (from scratch
//! or from its ImageNet weights), each ending in the embedding.
//!
//! In a run's `[model]` section `type` picks one (`iresnet`, the default, or
//! `efficientnet_lite0`); the other keys are those of the chosen backbone, and a key that
//! belongs to the other one is an error.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use tch::nn::{self, ModuleT};
use tch::Tensor;

use crate::error::{Result, TrainError};
use crate::models::{
    EfficientNetLite0, IResNet, IResNetConfig, EFFICIENTNET_LITE0_FEATURES,
    EFFICIENTNET_LITE_NORMALIZATION,
};

/// iResNet inputs: pixels `v` in `[0, 255]` enter as `(v / 255 − 0.5) / 0.5`.
const IRESNET_NORMALIZATION: [f64; 2] = [0.5, 0.5];

/// EfficientNet-Lite0 as a face embedder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EfficientNetFaceConfig {
    /// Input channels: 3 (RGB), or 1 (grey, repeated to the three channels the network takes).
    pub in_channels: i64,
    /// Input `[height, width]`, at least 32 each (224 is the ImageNet resolution).
    pub input_size: [i64; 2],
    /// Width of the embedding: a neck (dropout, FC, BN) maps the pooled 1,280 features to it;
    /// 0 keeps the pooled features as the embedding (no neck: the ImageNet-feature baseline).
    pub embedding_dim: i64,
    /// Dropout before the neck's FC layer while training.
    pub dropout: f64,
    /// The ImageNet weights to start from (safetensors, as `scripts/setup.sh` writes
    /// `models/efficientnet-lite0/model.safetensors`); none: random initialisation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imagenet_weights: Option<PathBuf>,
}

/// The `[model]` section of a face run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "BackboneSpec", into = "BackboneSpec")]
pub enum FaceBackboneConfig {
    /// The insightface-style iResNet.
    IResNet(IResNetConfig),
    /// EfficientNet-Lite0 with an optional neck.
    EfficientNetLite0(EfficientNetFaceConfig),
}

impl Default for FaceBackboneConfig {
    fn default() -> Self {
        Self::IResNet(IResNetConfig::default())
    }
}

impl FaceBackboneConfig {
    /// Input `[height, width]`.
    pub fn input_size(&self) -> [i64; 2] {
        match self {
            Self::IResNet(c) => c.input_size,
            Self::EfficientNetLite0(c) => c.input_size,
        }
    }

    /// Input channels (1 or 3).
    pub fn in_channels(&self) -> i64 {
        match self {
            Self::IResNet(c) => c.in_channels,
            Self::EfficientNetLite0(c) => c.in_channels,
        }
    }

    /// Width of the embedding the network outputs.
    pub fn embedding_dim(&self) -> i64 {
        match self {
            Self::IResNet(c) => c.embedding_dim,
            Self::EfficientNetLite0(c) if c.embedding_dim == 0 => EFFICIENTNET_LITE0_FEATURES,
            Self::EfficientNetLite0(c) => c.embedding_dim,
        }
    }

    /// `[mean, std]` of the pixel normalisation, for pixels scaled to `[0, 1]`.
    pub fn normalization(&self) -> [f64; 2] {
        match self {
            Self::IResNet(_) => IRESNET_NORMALIZATION,
            Self::EfficientNetLite0(_) => EFFICIENTNET_LITE_NORMALIZATION,
        }
    }

    /// The name stored in `face_model.json`.
    pub fn architecture(&self) -> &'static str {
        match self {
            Self::IResNet(_) => "iresnet",
            Self::EfficientNetLite0(_) => "efficientnet_lite0",
        }
    }

    /// Checks the values.
    ///
    /// # Errors
    /// [`TrainError::InvalidInput`] naming the field.
    pub fn validate(&self) -> Result<()> {
        let c = match self {
            Self::IResNet(c) => return c.validate(),
            Self::EfficientNetLite0(c) => c,
        };
        let bad = |m: String| Err(TrainError::InvalidInput(m));
        if !matches!(c.in_channels, 1 | 3) {
            return bad(format!(
                "model.in_channels must be 1 or 3, got {}",
                c.in_channels
            ));
        }
        if c.input_size.iter().any(|&s| s < 32) {
            return bad(format!(
                "model.input_size must be at least 32 x 32, got {:?}",
                c.input_size
            ));
        }
        if c.embedding_dim < 0 {
            return bad(format!(
                "model.embedding_dim must be 0 (the pooled features) or positive, got {}",
                c.embedding_dim
            ));
        }
        if !(0.0..1.0).contains(&c.dropout) {
            return bad(format!(
                "model.dropout must be in [0, 1), got {}",
                c.dropout
            ));
        }
        Ok(())
    }
}

/// The kinds `type` names.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum BackboneKind {
    #[default]
    Iresnet,
    EfficientnetLite0,
}

/// `[model]` as written: every key of every backbone, checked against `type` on conversion.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BackboneSpec {
    #[serde(rename = "type", default)]
    kind: BackboneKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    in_channels: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    input_size: Option<[i64; 2]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    widths: Option<Vec<i64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    blocks: Option<Vec<i64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    embedding_dim: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dropout: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    imagenet_weights: Option<PathBuf>,
}

impl TryFrom<BackboneSpec> for FaceBackboneConfig {
    type Error = String;

    fn try_from(spec: BackboneSpec) -> std::result::Result<Self, String> {
        match spec.kind {
            BackboneKind::Iresnet => {
                if spec.imagenet_weights.is_some() {
                    return Err("`imagenet_weights` needs type = \"efficientnet_lite0\"".to_owned());
                }
                let d = IResNetConfig::default();
                Ok(Self::IResNet(IResNetConfig {
                    in_channels: spec.in_channels.unwrap_or(d.in_channels),
                    input_size: spec.input_size.unwrap_or(d.input_size),
                    widths: spec.widths.unwrap_or(d.widths),
                    blocks: spec.blocks.unwrap_or(d.blocks),
                    embedding_dim: spec.embedding_dim.unwrap_or(d.embedding_dim),
                    dropout: spec.dropout.unwrap_or(d.dropout),
                }))
            }
            BackboneKind::EfficientnetLite0 => {
                if spec.widths.is_some() || spec.blocks.is_some() {
                    return Err(
                        "`widths` and `blocks` are iResNet keys; EfficientNet-Lite0 has a fixed shape"
                            .to_owned(),
                    );
                }
                Ok(Self::EfficientNetLite0(EfficientNetFaceConfig {
                    in_channels: spec.in_channels.unwrap_or(3),
                    input_size: spec.input_size.unwrap_or([112, 112]),
                    embedding_dim: spec.embedding_dim.unwrap_or(512),
                    dropout: spec.dropout.unwrap_or(0.0),
                    imagenet_weights: spec.imagenet_weights,
                }))
            }
        }
    }
}

impl From<FaceBackboneConfig> for BackboneSpec {
    fn from(config: FaceBackboneConfig) -> Self {
        match config {
            FaceBackboneConfig::IResNet(c) => Self {
                kind: BackboneKind::Iresnet,
                in_channels: Some(c.in_channels),
                input_size: Some(c.input_size),
                widths: Some(c.widths),
                blocks: Some(c.blocks),
                embedding_dim: Some(c.embedding_dim),
                dropout: Some(c.dropout),
                imagenet_weights: None,
            },
            FaceBackboneConfig::EfficientNetLite0(c) => Self {
                kind: BackboneKind::EfficientnetLite0,
                in_channels: Some(c.in_channels),
                input_size: Some(c.input_size),
                embedding_dim: Some(c.embedding_dim),
                dropout: Some(c.dropout),
                imagenet_weights: c.imagenet_weights,
                ..Self::default()
            },
        }
    }
}

/// A built backbone.
#[derive(Debug)]
pub(crate) enum FaceNet {
    IResNet(IResNet),
    EfficientNet {
        trunk: EfficientNetLite0,
        /// `(fc, features)`: FC to the embedding, then batch norm, when `embedding_dim > 0`.
        neck: Option<(nn::Linear, nn::BatchNorm)>,
        dropout: f64,
        grey: bool,
    },
}

impl FaceNet {
    /// Builds the backbone under `vs`, randomly initialised.
    ///
    /// # Errors
    /// See [`FaceBackboneConfig::validate`].
    pub(crate) fn new(vs: &nn::Path, config: &FaceBackboneConfig) -> Result<Self> {
        config.validate()?;
        Ok(match config {
            FaceBackboneConfig::IResNet(c) => Self::IResNet(IResNet::new(vs, c.clone())?),
            FaceBackboneConfig::EfficientNetLite0(c) => Self::EfficientNet {
                trunk: EfficientNetLite0::new(vs),
                neck: (c.embedding_dim > 0).then(|| {
                    (
                        nn::linear(
                            vs / "neck" / "fc",
                            EFFICIENTNET_LITE0_FEATURES,
                            c.embedding_dim,
                            Default::default(),
                        ),
                        nn::batch_norm1d(
                            vs / "neck" / "features",
                            c.embedding_dim,
                            Default::default(),
                        ),
                    )
                }),
                dropout: c.dropout,
                grey: c.in_channels == 1,
            },
        })
    }

    /// Embeddings of normalised images.
    ///
    /// # Shapes
    /// `[n, C, H, W]` → `[n, embedding_dim]`.
    ///
    /// # Errors
    /// libtorch errors (wrong shapes).
    pub(crate) fn forward_t(&self, xs: &Tensor, train: bool) -> Result<Tensor> {
        match self {
            Self::IResNet(net) => net.forward_t(xs, train),
            Self::EfficientNet {
                trunk,
                neck,
                dropout,
                grey,
            } => {
                let rgb = if *grey {
                    xs.f_repeat([1, 3, 1, 1])?
                } else {
                    xs.shallow_clone()
                };
                let pooled = trunk.forward_t(&rgb, train)?;
                Ok(match neck {
                    None => pooled,
                    Some((fc, features)) => {
                        let x = pooled.f_dropout(*dropout, train)?;
                        features.forward_t(&fc.forward_t(&x, train), train)
                    }
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> std::result::Result<FaceBackboneConfig, String> {
        toml::from_str::<FaceBackboneConfig>(text).map_err(|e| e.to_string())
    }

    #[test]
    fn type_defaults_to_iresnet_and_round_trips() {
        let c = parse("input_size = [32, 32]\nwidths = [8, 16]\nblocks = [1, 1]").unwrap();
        assert!(
            matches!(&c, FaceBackboneConfig::IResNet(r) if r.input_size == [32, 32] && r.widths == [8, 16]),
            "{c:?}"
        );
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(
            serde_json::from_str::<FaceBackboneConfig>(&json).unwrap(),
            c
        );
    }

    #[test]
    fn efficientnet_keys_and_defaults() {
        let c = parse(
            "type = \"efficientnet_lite0\"\nin_channels = 1\nembedding_dim = 0\n\
             imagenet_weights = \"models/efficientnet-lite0/model.safetensors\"",
        )
        .unwrap();
        assert_eq!(c.embedding_dim(), EFFICIENTNET_LITE0_FEATURES);
        assert_eq!(c.input_size(), [112, 112]);
        assert_eq!(c.architecture(), "efficientnet_lite0");
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(
            serde_json::from_str::<FaceBackboneConfig>(&json).unwrap(),
            c
        );
    }

    #[test]
    fn keys_of_the_other_backbone_and_unknown_keys_are_errors() {
        let err = parse("type = \"efficientnet_lite0\"\nwidths = [8]").unwrap_err();
        assert!(err.contains("iResNet keys"), "{err}");
        let err = parse("imagenet_weights = \"x.safetensors\"").unwrap_err();
        assert!(err.contains("efficientnet_lite0"), "{err}");
        assert!(parse("type = \"vit\"").is_err());
        assert!(parse("widht = [8]").unwrap_err().contains("widht"));
        let bad = parse("type = \"efficientnet_lite0\"\ninput_size = [16, 16]").unwrap();
        assert!(bad
            .validate()
            .unwrap_err()
            .to_string()
            .contains("at least 32"));
    }

    #[test]
    fn grey_images_embed_through_the_rgb_network() {
        let vs = nn::VarStore::new(tch::Device::Cpu);
        let config = parse("type = \"efficientnet_lite0\"\nin_channels = 1\ninput_size = [32, 32]\nembedding_dim = 16").unwrap();
        let net = FaceNet::new(&vs.root(), &config).unwrap();
        let xs = Tensor::rand([2, 1, 32, 32], (tch::Kind::Float, tch::Device::Cpu));
        assert_eq!(net.forward_t(&xs, true).unwrap().size(), [2, 16]);
        assert!(vs.variables().contains_key("neck.features.running_mean"));
    }
}
