//! The 4-block convolutional embedding network of Prototypical Networks (Snell et al. 2017),
//! after Vinyals et al.: `blocks × [3×3 conv (64 filters), batch norm, ReLU, 2×2 max-pool]`,
//! flattened. On 28×28 Omniglot the output is 64-wide.

use serde::{Deserialize, Serialize};
use tch::nn::{self, ModuleT};
use tch::Tensor;

use crate::error::{Result, TrainError};

/// Sizes of [`Conv4`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Conv4Config {
    /// Input channels (1 for greyscale).
    pub in_channels: i64,
    /// Filters of every block.
    pub filters: i64,
    /// Number of blocks.
    pub blocks: usize,
}

impl Default for Conv4Config {
    fn default() -> Self {
        Self {
            in_channels: 1,
            filters: 64,
            blocks: 4,
        }
    }
}

impl Conv4Config {
    /// The embedding width for `side × side` inputs (each block halves the side, rounding
    /// down), or an error when the image is too small for the blocks.
    ///
    /// # Errors
    /// [`TrainError::InvalidInput`] when a block would see a side below 2.
    pub fn output_dim(&self, side: i64) -> Result<i64> {
        let mut s = side;
        for block in 0..self.blocks {
            if s < 2 {
                return Err(TrainError::InvalidInput(format!(
                    "conv4: a {side}×{side} image is too small for {} blocks (block {block} sees {s}×{s})",
                    self.blocks
                )));
            }
            s /= 2;
        }
        Ok(self.filters * s * s)
    }
}

/// Conv-4 (see the module docs). Variables: `block{i}.conv.{weight,bias}`,
/// `block{i}.bn.{weight,bias,running_mean,running_var}`.
#[derive(Debug)]
pub struct Conv4 {
    blocks: Vec<(nn::Conv2D, nn::BatchNorm)>,
}

impl Conv4 {
    /// Builds the network under `path`.
    ///
    /// # Errors
    /// [`TrainError::InvalidInput`] for zero sizes.
    pub fn new(path: &nn::Path<'_>, config: &Conv4Config) -> Result<Self> {
        if config.in_channels < 1 || config.filters < 1 || config.blocks == 0 {
            return Err(TrainError::InvalidInput(format!(
                "conv4: in_channels, filters and blocks must be >= 1, got {config:?}"
            )));
        }
        let conv = nn::ConvConfig {
            padding: 1,
            ..Default::default()
        };
        let blocks = (0..config.blocks)
            .map(|i| {
                let p = path / format!("block{i}");
                let input = if i == 0 {
                    config.in_channels
                } else {
                    config.filters
                };
                (
                    nn::conv2d(&p / "conv", input, config.filters, 3, conv),
                    nn::batch_norm2d(&p / "bn", config.filters, Default::default()),
                )
            })
            .collect();
        Ok(Self { blocks })
    }

    /// Embeds a batch of images; `train` switches batch norm to batch statistics.
    ///
    /// # Shapes
    /// `images: [B, C, H, W]` → `[B, output_dim]`.
    ///
    /// # Errors
    /// libtorch errors (e.g. wrong channel count).
    pub fn forward_t(&self, images: &Tensor, train: bool) -> Result<Tensor> {
        let mut xs = images.shallow_clone();
        for (conv, bn) in &self.blocks {
            xs = conv
                .forward_t(&xs, train)
                .apply_t(bn, train)
                .f_relu()?
                .f_max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false)?;
        }
        Ok(xs.f_flatten(1, -1)?)
    }
}

#[cfg(test)]
mod tests {
    use tch::{Device, Kind};

    use super::*;

    #[test]
    fn omniglot_sized_input_gives_64_dimensions() {
        let vs = nn::VarStore::new(Device::Cpu);
        let config = Conv4Config::default();
        let net = Conv4::new(&vs.root(), &config).unwrap();
        let xs = Tensor::rand([3, 1, 28, 28], (Kind::Float, Device::Cpu));
        let out = net.forward_t(&xs, true).unwrap();
        assert_eq!(out.size(), vec![3, 64]);
        assert_eq!(config.output_dim(28).unwrap(), 64);
        assert_eq!(config.output_dim(84).unwrap(), 64 * 5 * 5);
        assert!(config.output_dim(8).is_err());
        // 4 × (conv w, b + bn w, b) trainable; running stats are not.
        let trainable = vs.trainable_variables().len();
        assert_eq!(trainable, 16);
        assert_eq!(
            vs.variables().len(),
            4 * 6,
            "running mean and var are saved too"
        );
    }

    #[test]
    fn eval_mode_is_deterministic_and_per_example() {
        let vs = nn::VarStore::new(Device::Cpu);
        let net = Conv4::new(&vs.root(), &Conv4Config::default()).unwrap();
        let xs = Tensor::rand([4, 1, 28, 28], (Kind::Float, Device::Cpu));
        let all = net.forward_t(&xs, false).unwrap();
        let one = net.forward_t(&xs.narrow(0, 1, 1), false).unwrap();
        let diff = (all.narrow(0, 1, 1) - one).abs().max().double_value(&[]);
        assert!(diff < 1e-5, "{diff}");
    }
}
