//! A face ResNet in the style of insightface's iResNet (Duta et al. 2020, as used by ArcFace):
//! improved basic blocks `BN - conv3x3 - BN - PReLU - conv3x3(stride) - BN (+ shortcut)`, a
//! stem `conv3x3 - BN - PReLU`, and the embedding neck `BN2d - dropout - flatten - FC - BN1d`.
//! Variable names follow insightface (`conv1`, `bn1`, `prelu`, `layer1.0.conv1`, `bn2`, `fc`,
//! `features`). Widths, depths and input size are configurable so that it trains on a CPU.

use serde::{Deserialize, Serialize};
use tch::nn::{self, ModuleT};
use tch::Tensor;

use crate::error::{Result, TrainError};

/// The shape of an [`IResNet`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IResNetConfig {
    /// Input channels (1 for grey, 3 for RGB).
    pub in_channels: i64,
    /// Input `[height, width]`; each must be divisible by `2^stages`.
    pub input_size: [i64; 2],
    /// Channels of each stage (each stage halves the resolution). iResNet-18 is
    /// `[64, 128, 256, 512]`.
    pub widths: Vec<i64>,
    /// Blocks per stage. iResNet-18 is `[2, 2, 2, 2]`.
    pub blocks: Vec<i64>,
    /// Embedding width (512 in insightface).
    pub embedding_dim: i64,
    /// Dropout before the FC layer while training.
    pub dropout: f64,
}

impl Default for IResNetConfig {
    fn default() -> Self {
        Self {
            in_channels: 1,
            input_size: [64, 64],
            widths: vec![16, 32, 64, 128],
            blocks: vec![1, 1, 1, 1],
            embedding_dim: 512,
            dropout: 0.0,
        }
    }
}

impl IResNetConfig {
    /// Checks the shape.
    ///
    /// # Errors
    /// [`TrainError::InvalidInput`] naming the offending field.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(TrainError::InvalidInput(format!("iresnet: {m}")));
        if self.widths.is_empty() || self.widths.len() != self.blocks.len() {
            return bad(format!(
                "widths ({}) and blocks ({}) must be non-empty and of equal length",
                self.widths.len(),
                self.blocks.len()
            ));
        }
        if self.widths.iter().chain(&self.blocks).any(|&v| v < 1)
            || self.in_channels < 1
            || self.embedding_dim < 1
        {
            return bad("widths, blocks, in_channels and embedding_dim must be >= 1".to_owned());
        }
        let factor = 1i64 << self.widths.len().min(16);
        if self
            .input_size
            .iter()
            .any(|&s| s < factor || s % factor != 0)
        {
            return bad(format!(
                "input_size {:?} must be positive multiples of {factor} (2^stages)",
                self.input_size
            ));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return bad(format!("dropout must be in [0, 1), got {}", self.dropout));
        }
        Ok(())
    }
}

fn conv3x3(vs: nn::Path, c_in: i64, c_out: i64, stride: i64) -> nn::Conv2D {
    let config = nn::ConvConfig {
        stride,
        padding: 1,
        bias: false,
        ..Default::default()
    };
    nn::conv2d(vs, c_in, c_out, 3, config)
}

fn bn2d(vs: nn::Path, c: i64) -> nn::BatchNorm {
    nn::batch_norm2d(
        vs,
        c,
        nn::BatchNormConfig {
            eps: 1e-5,
            ..Default::default()
        },
    )
}

/// PReLU with one slope per channel (initial 0.25, as torch).
#[derive(Debug)]
struct PRelu {
    weight: Tensor,
}

impl PRelu {
    fn new(vs: &nn::Path, c: i64) -> Self {
        Self {
            weight: vs.var("weight", &[c], nn::Init::Const(0.25)),
        }
    }

    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        Ok(xs.f_prelu(&self.weight)?)
    }
}

/// insightface's `IBasicBlock`.
#[derive(Debug)]
struct Block {
    bn1: nn::BatchNorm,
    conv1: nn::Conv2D,
    bn2: nn::BatchNorm,
    prelu: PRelu,
    conv2: nn::Conv2D,
    bn3: nn::BatchNorm,
    downsample: Option<(nn::Conv2D, nn::BatchNorm)>,
}

impl Block {
    fn new(vs: &nn::Path, c_in: i64, c_out: i64, stride: i64) -> Self {
        let downsample = (stride != 1 || c_in != c_out).then(|| {
            let config = nn::ConvConfig {
                stride,
                bias: false,
                ..Default::default()
            };
            (
                nn::conv2d(vs / "downsample" / "0", c_in, c_out, 1, config),
                bn2d(vs / "downsample" / "1", c_out),
            )
        });
        Self {
            bn1: bn2d(vs / "bn1", c_in),
            conv1: conv3x3(vs / "conv1", c_in, c_out, 1),
            bn2: bn2d(vs / "bn2", c_out),
            prelu: PRelu::new(&(vs / "prelu"), c_out),
            conv2: conv3x3(vs / "conv2", c_out, c_out, stride),
            bn3: bn2d(vs / "bn3", c_out),
            downsample,
        }
    }

    fn forward_t(&self, xs: &Tensor, train: bool) -> Result<Tensor> {
        let out = self.bn1.forward_t(xs, train);
        let out = self
            .bn2
            .forward_t(&self.conv1.forward_t(&out, train), train);
        let out = self.prelu.forward(&out)?;
        let out = self
            .bn3
            .forward_t(&self.conv2.forward_t(&out, train), train);
        let identity = match &self.downsample {
            Some((conv, bn)) => bn.forward_t(&conv.forward_t(xs, train), train),
            None => xs.shallow_clone(),
        };
        Ok(out.f_add(&identity)?)
    }
}

/// The face ResNet; see the module documentation.
#[derive(Debug)]
pub struct IResNet {
    config: IResNetConfig,
    conv1: nn::Conv2D,
    bn1: nn::BatchNorm,
    prelu: PRelu,
    layers: Vec<Block>,
    bn2: nn::BatchNorm,
    fc: nn::Linear,
    features: nn::BatchNorm,
}

impl IResNet {
    /// Builds the network under `vs` (randomly initialised: Kaiming-uniform convolutions, as
    /// tch's defaults).
    ///
    /// # Errors
    /// See [`IResNetConfig::validate`].
    pub fn new(vs: &nn::Path, config: IResNetConfig) -> Result<Self> {
        config.validate()?;
        let mut layers = Vec::new();
        let mut c_in = config.widths[0];
        for (stage, (&width, &blocks)) in config.widths.iter().zip(&config.blocks).enumerate() {
            let stage_vs = vs / format!("layer{}", stage + 1);
            for block in 0..blocks {
                let stride = if block == 0 { 2 } else { 1 };
                layers.push(Block::new(&(&stage_vs / block), c_in, width, stride));
                c_in = width;
            }
        }
        let factor = 1i64 << config.widths.len();
        let last = config.widths[config.widths.len() - 1];
        let flat = last * (config.input_size[0] / factor) * (config.input_size[1] / factor);
        Ok(Self {
            conv1: conv3x3(vs / "conv1", config.in_channels, config.widths[0], 1),
            bn1: bn2d(vs / "bn1", config.widths[0]),
            prelu: PRelu::new(&(vs / "prelu"), config.widths[0]),
            layers,
            bn2: bn2d(vs / "bn2", last),
            fc: nn::linear(vs / "fc", flat, config.embedding_dim, Default::default()),
            features: nn::batch_norm1d(vs / "features", config.embedding_dim, Default::default()),
            config,
        })
    }

    /// The shape it was built with.
    pub fn config(&self) -> &IResNetConfig {
        &self.config
    }

    /// Embeddings (not normalised).
    ///
    /// # Shapes
    /// `images: [N, in_channels, height, width]` (float) → `[N, embedding_dim]`.
    ///
    /// # Errors
    /// [`TrainError::InvalidInput`] for a wrong input shape; libtorch errors.
    pub fn forward_t(&self, images: &Tensor, train: bool) -> Result<Tensor> {
        let [h, w] = self.config.input_size;
        match images.size().as_slice() {
            &[n, c, ih, iw] if n > 0 && c == self.config.in_channels && ih == h && iw == w => {}
            other => {
                return Err(TrainError::InvalidInput(format!(
                    "iresnet: expected images [N, {}, {h}, {w}], got {other:?}",
                    self.config.in_channels
                )))
            }
        }
        let mut xs = self
            .bn1
            .forward_t(&self.conv1.forward_t(images, train), train);
        xs = self.prelu.forward(&xs)?;
        for block in &self.layers {
            xs = block.forward_t(&xs, train)?;
        }
        let xs = self
            .bn2
            .forward_t(&xs, train)
            .f_dropout(self.config.dropout, train)?
            .f_flatten(1, -1)?;
        Ok(self
            .features
            .forward_t(&self.fc.forward_t(&xs, train), train))
    }
}

#[cfg(test)]
mod tests {
    use tch::{Device, Kind};

    use super::*;

    #[test]
    fn embeds_to_the_configured_width_with_insightface_names() {
        let vs = nn::VarStore::new(Device::Cpu);
        let config = IResNetConfig {
            input_size: [32, 16],
            widths: vec![4, 8],
            blocks: vec![1, 2],
            embedding_dim: 12,
            ..IResNetConfig::default()
        };
        let net = IResNet::new(&vs.root(), config).unwrap();
        let images = Tensor::randn([3, 1, 32, 16], (Kind::Float, Device::Cpu));
        assert_eq!(net.forward_t(&images, true).unwrap().size(), [3, 12]);
        assert_eq!(net.forward_t(&images, false).unwrap().size(), [3, 12]);
        let names = vs.variables();
        for name in [
            "conv1.weight",
            "prelu.weight",
            "layer1.0.downsample.0.weight",
            "layer2.1.conv2.weight",
            "fc.weight",
            "features.running_mean",
        ] {
            assert!(
                names.contains_key(name),
                "{name} missing: {:?}",
                names.keys()
            );
        }
        assert!(!names.contains_key("layer2.1.downsample.0.weight"));
    }

    #[test]
    fn wrong_inputs_and_shapes_are_typed_errors() {
        let vs = nn::VarStore::new(Device::Cpu);
        let net = IResNet::new(&vs.root(), IResNetConfig::default()).unwrap();
        let rgb = Tensor::zeros([2, 3, 64, 64], (Kind::Float, Device::Cpu));
        assert!(matches!(
            net.forward_t(&rgb, false),
            Err(TrainError::InvalidInput(_))
        ));
        let small = Tensor::zeros([2, 1, 32, 32], (Kind::Float, Device::Cpu));
        assert!(matches!(
            net.forward_t(&small, false),
            Err(TrainError::InvalidInput(_))
        ));
        for bad in [
            IResNetConfig {
                input_size: [60, 64],
                ..IResNetConfig::default()
            },
            IResNetConfig {
                blocks: vec![1],
                ..IResNetConfig::default()
            },
            IResNetConfig {
                dropout: 1.0,
                ..IResNetConfig::default()
            },
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
    }
}
