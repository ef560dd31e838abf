//! ResNet-12 for few-shot learning (TADAM / MetaOptNet style, the 512-d variant the SuSana code
//! lists): four residual blocks, each `3 × [3×3 conv, batch norm, leaky ReLU 0.1]` with a
//! `1×1 conv + batch norm` shortcut, then a 2×2 max-pool; global average pooling at the end.
//! Meant for larger images (84×84 gives a 5×5 map before pooling).

use serde::{Deserialize, Serialize};
use tch::nn::{self, ModuleT};
use tch::Tensor;

use crate::error::{Result, TrainError};

/// Sizes of [`ResNet12`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ResNet12Config {
    /// Input channels (1 for greyscale).
    pub in_channels: i64,
    /// Output channels of the four blocks; the last is the embedding width.
    pub channels: [i64; 4],
}

impl Default for ResNet12Config {
    fn default() -> Self {
        Self {
            in_channels: 1,
            channels: [64, 128, 256, 512],
        }
    }
}

impl ResNet12Config {
    /// The embedding width for `side × side` inputs, or an error when the image is too small
    /// for four 2× poolings.
    ///
    /// # Errors
    /// [`TrainError::InvalidInput`] for a side below 16.
    pub fn output_dim(&self, side: i64) -> Result<i64> {
        if side < 16 {
            return Err(TrainError::InvalidInput(format!(
                "resnet12: a {side}×{side} image is too small for four 2× poolings (need 16)"
            )));
        }
        Ok(self.channels[3])
    }
}

/// One residual block.
#[derive(Debug)]
struct Block {
    convs: Vec<(nn::Conv2D, nn::BatchNorm)>,
    shortcut: (nn::Conv2D, nn::BatchNorm),
}

/// ResNet-12 (see the module docs). Variables: `block{i}.conv{j}`, `block{i}.bn{j}`,
/// `block{i}.shortcut_conv`, `block{i}.shortcut_bn`.
#[derive(Debug)]
pub struct ResNet12 {
    blocks: Vec<Block>,
}

impl ResNet12 {
    /// Builds the network under `path`.
    ///
    /// # Errors
    /// [`TrainError::InvalidInput`] for zero sizes.
    pub fn new(path: &nn::Path<'_>, config: &ResNet12Config) -> Result<Self> {
        if config.in_channels < 1 || config.channels.iter().any(|&c| c < 1) {
            return Err(TrainError::InvalidInput(format!(
                "resnet12: channel counts must be >= 1, got {config:?}"
            )));
        }
        let conv3 = nn::ConvConfig {
            padding: 1,
            bias: false,
            ..Default::default()
        };
        let conv1 = nn::ConvConfig {
            bias: false,
            ..Default::default()
        };
        let mut input = config.in_channels;
        let blocks = config
            .channels
            .iter()
            .enumerate()
            .map(|(i, &out)| {
                let p = path / format!("block{i}");
                let convs = (0..3)
                    .map(|j| {
                        let from = if j == 0 { input } else { out };
                        (
                            nn::conv2d(&p / format!("conv{j}"), from, out, 3, conv3),
                            nn::batch_norm2d(&p / format!("bn{j}"), out, Default::default()),
                        )
                    })
                    .collect();
                let shortcut = (
                    nn::conv2d(&p / "shortcut_conv", input, out, 1, conv1),
                    nn::batch_norm2d(&p / "shortcut_bn", out, Default::default()),
                );
                input = out;
                Block { convs, shortcut }
            })
            .collect();
        Ok(Self { blocks })
    }

    /// Embeds a batch of images; `train` switches batch norm to batch statistics.
    ///
    /// # Shapes
    /// `images: [B, C, H, W]` → `[B, channels[3]]`.
    ///
    /// # Errors
    /// libtorch errors (e.g. wrong channel count).
    pub fn forward_t(&self, images: &Tensor, train: bool) -> Result<Tensor> {
        let mut xs = images.shallow_clone();
        for block in &self.blocks {
            let residual = block
                .shortcut
                .0
                .forward_t(&xs, train)
                .apply_t(&block.shortcut.1, train);
            let mut out = xs;
            for (j, (conv, bn)) in block.convs.iter().enumerate() {
                out = conv.forward_t(&out, train).apply_t(bn, train);
                if j < 2 {
                    out = out.f_leaky_relu()?;
                }
            }
            xs = out.f_add(&residual)?.f_leaky_relu()?.f_max_pool2d(
                [2, 2],
                [2, 2],
                [0, 0],
                [1, 1],
                false,
            )?;
        }
        Ok(xs.f_mean_dim([2, 3].as_slice(), false, None::<tch::Kind>)?)
    }
}

#[cfg(test)]
mod tests {
    use tch::{Device, Kind};

    use super::*;

    #[test]
    fn output_is_the_last_width_and_gradients_reach_the_first_block() {
        let vs = nn::VarStore::new(Device::Cpu);
        let config = ResNet12Config {
            in_channels: 1,
            channels: [8, 8, 16, 16],
        };
        let net = ResNet12::new(&vs.root(), &config).unwrap();
        let xs = Tensor::rand([2, 1, 32, 32], (Kind::Float, Device::Cpu));
        let out = net.forward_t(&xs, true).unwrap();
        assert_eq!(out.size(), vec![2, 16]);
        assert_eq!(config.output_dim(84).unwrap(), 16);
        assert!(config.output_dim(8).is_err());
        out.sum(Kind::Float).backward();
        let first = vs
            .variables()
            .into_iter()
            .find(|(name, _)| name == "block0.conv0.weight")
            .unwrap()
            .1;
        assert!(first.grad().abs().sum(Kind::Float).double_value(&[]) > 0.0);
    }
}
