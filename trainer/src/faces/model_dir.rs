//! [`FaceModel`]: a face embedder (an iResNet or EfficientNet-Lite0, see [`FaceBackboneConfig`])
//! with its model folder,
//!
//! ```text
//! <dir>/model.safetensors   backbone weights (f32; insightface names for the iResNet, the
//!                           reference's for EfficientNet-Lite0 plus `neck.*`; no class head)
//! <dir>/face_model.json     architecture, input size and channels, pixel normalisation
//! ```

use std::path::Path;

use pairwise_datasets::{Channels, Image, ImageOptions};
use serde::{Deserialize, Serialize};
use tch::{nn, Device, Kind, Tensor};

use crate::error::{Result, TrainError};
use crate::faces::backbone::{EfficientNetFaceConfig, FaceBackboneConfig, FaceNet};
use crate::models::{load_imagenet_weights, IResNetConfig};

/// The JSON file of a face model folder.
pub const FACE_MODEL_FILE: &str = "face_model.json";
/// The weights file of a face model folder.
pub const FACE_WEIGHTS_FILE: &str = "model.safetensors";

/// What `face_model.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaceModelFile {
    /// `iresnet` or `efficientnet_lite0`.
    pub architecture: String,
    /// The iResNet's shape (input size and channels included), for `iresnet`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iresnet: Option<IResNetConfig>,
    /// EfficientNet-Lite0's input and neck, for `efficientnet_lite0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub efficientnet_lite0: Option<EfficientNetFaceConfig>,
    /// Pixel normalisation `[mean, std]` applied to values scaled to `[0, 1]`.
    pub normalization: [f64; 2],
    /// How it was trained (the run's config), for the record.
    #[serde(default)]
    pub training: Option<serde_json::Value>,
}

/// A face embedder: images in, one embedding per image out.
#[derive(Debug)]
pub struct FaceModel {
    vs: nn::VarStore,
    config: FaceBackboneConfig,
    net: FaceNet,
}

impl FaceModel {
    /// A randomly initialised model on `device` (seed with `tch::manual_seed` first).
    ///
    /// # Errors
    /// An invalid configuration.
    pub fn new(config: FaceBackboneConfig, device: Device) -> Result<Self> {
        let vs = nn::VarStore::new(device);
        let net = FaceNet::new(&vs.root(), &config)?;
        Ok(Self { vs, config, net })
    }

    /// Like [`new`](Self::new), then the ImageNet weights into the trunk when the config names
    /// them (`imagenet_weights` of EfficientNet-Lite0); the neck stays random.
    ///
    /// # Errors
    /// As [`new`](Self::new); a missing or mismatched weights file.
    pub fn initialised(config: FaceBackboneConfig, device: Device) -> Result<Self> {
        let model = Self::new(config, device)?;
        if let FaceBackboneConfig::EfficientNetLite0(EfficientNetFaceConfig {
            imagenet_weights: Some(path),
            ..
        }) = &model.config
        {
            load_imagenet_weights(&model.vs, path)?;
        }
        Ok(model)
    }

    /// Loads a model folder written by [`save`](Self::save).
    ///
    /// # Errors
    /// [`TrainError::MissingFile`], [`TrainError::BadConfig`] or [`TrainError::BadWeights`]
    /// naming the file.
    pub fn load(dir: &Path, device: Device) -> Result<Self> {
        let json = dir.join(FACE_MODEL_FILE);
        let weights = dir.join(FACE_WEIGHTS_FILE);
        for (path, what) in [(&json, "face model config"), (&weights, "model weights")] {
            if !path.is_file() {
                return Err(TrainError::MissingFile {
                    path: path.clone(),
                    what,
                });
            }
        }
        let file: FaceModelFile =
            serde_json::from_str(&fs_err::read_to_string(&json)?).map_err(|e| {
                TrainError::BadConfig {
                    path: json.clone(),
                    reason: e.to_string(),
                }
            })?;
        let config = match (
            file.architecture.as_str(),
            file.iresnet,
            file.efficientnet_lite0,
        ) {
            ("iresnet", Some(c), _) => FaceBackboneConfig::IResNet(c),
            ("efficientnet_lite0", _, Some(c)) => FaceBackboneConfig::EfficientNetLite0(c),
            (other, ..) => {
                return Err(TrainError::BadConfig {
                    path: json,
                    reason: format!(
                        "unknown architecture {other:?}, or its section is missing \
                         (iresnet or efficientnet_lite0)"
                    ),
                })
            }
        };
        let mut model = Self::new(config, device)?;
        model
            .vs
            .load(&weights)
            .map_err(|e| TrainError::BadWeights {
                path: weights.clone(),
                reason: e.to_string(),
            })?;
        model.vs.freeze();
        Ok(model)
    }

    /// Writes the model folder (replacing `model.safetensors` and `face_model.json`);
    /// `training` is stored in the JSON for the record.
    ///
    /// # Errors
    /// IO and libtorch failures.
    pub fn save(&self, dir: &Path, training: Option<serde_json::Value>) -> Result<()> {
        fs_err::create_dir_all(dir)?;
        let tensors: Vec<(String, Tensor)> = self
            .vs
            .variables()
            .into_iter()
            .map(|(name, t)| {
                Ok((
                    name,
                    t.f_to_kind(Kind::Float)?
                        .f_to_device(Device::Cpu)?
                        .f_contiguous()?,
                ))
            })
            .collect::<Result<_>>()?;
        Tensor::write_safetensors(&tensors, dir.join(FACE_WEIGHTS_FILE))?;
        let (iresnet, efficientnet_lite0) = match &self.config {
            FaceBackboneConfig::IResNet(c) => (Some(c.clone()), None),
            FaceBackboneConfig::EfficientNetLite0(c) => (None, Some(c.clone())),
        };
        let file = FaceModelFile {
            architecture: self.config.architecture().to_owned(),
            iresnet,
            efficientnet_lite0,
            normalization: self.config.normalization(),
            training,
        };
        let text = serde_json::to_string_pretty(&file).map_err(std::io::Error::other)?;
        fs_err::write(dir.join(FACE_MODEL_FILE), text + "\n")?;
        Ok(())
    }

    /// The var store (for the optimiser).
    pub fn var_store(&self) -> &nn::VarStore {
        &self.vs
    }

    /// The backbone's configuration.
    pub fn config(&self) -> &FaceBackboneConfig {
        &self.config
    }

    /// Embeddings of a normalised batch ([`images_to_tensor`](Self::images_to_tensor)),
    /// with batch-norm statistics updated and dropout on when `train`.
    ///
    /// # Shapes
    /// `[n, C, H, W]` → `[n, embedding_dim]`.
    ///
    /// # Errors
    /// libtorch errors.
    pub fn forward_t(&self, xs: &Tensor, train: bool) -> Result<Tensor> {
        self.net.forward_t(xs, train)
    }

    /// The device the weights live on.
    pub fn device(&self) -> Device {
        self.vs.device()
    }

    /// How images must be decoded for this model: its input size and channels, resized when
    /// they differ, after an optional centre crop.
    pub fn image_options(&self, center_crop: Option<[u32; 2]>) -> ImageOptions {
        let [height, width] = self.config.input_size();
        ImageOptions {
            width: u32::try_from(width).unwrap_or(0),
            height: u32::try_from(height).unwrap_or(0),
            channels: if self.config.in_channels() == 3 {
                Channels::Rgb
            } else {
                Channels::Grey
            },
            center_crop,
            ..ImageOptions::default()
        }
    }

    /// Stacks decoded images into the normalised input tensor, on `device`.
    ///
    /// # Shapes
    /// `n` images → `[n, C, H, W]` (f32).
    ///
    /// # Errors
    /// [`TrainError::InvalidInput`] when an image does not match the model's input.
    pub fn images_to_tensor(&self, images: &[&Image], device: Device) -> Result<Tensor> {
        let options = self.image_options(None);
        let mut pixels = Vec::with_capacity(images.len() * options.len());
        for (i, image) in images.iter().enumerate() {
            if (image.width, image.height, image.channels)
                != (options.width, options.height, options.channels)
                || image.pixels.len() != options.len()
            {
                return Err(TrainError::InvalidInput(format!(
                    "image {i} is {}x{} {:?}, the model takes {}x{} {:?}",
                    image.width,
                    image.height,
                    image.channels,
                    options.width,
                    options.height,
                    options.channels
                )));
            }
            pixels.extend_from_slice(&image.pixels);
        }
        let n = i64::try_from(images.len()).unwrap_or(0);
        let [h, w] = self.config.input_size();
        let [mean, std] = self.config.normalization();
        Ok(Tensor::f_from_slice(&pixels)?
            .f_view([n, self.config.in_channels(), h, w])?
            .f_to_device(device)?
            .f_to_kind(Kind::Float)?
            .f_div_scalar(255.0)?
            .f_sub_scalar(mean)?
            .f_div_scalar(std)?)
    }

    /// Embeddings for evaluation (batch-norm statistics frozen, no dropout, no gradient), in
    /// input order; with `flip`, the sum of the embeddings of the image and its mirror image.
    ///
    /// # Errors
    /// See [`images_to_tensor`](Self::images_to_tensor); libtorch errors.
    pub fn embed(&self, images: &[&Image], flip: bool, batch_size: usize) -> Result<Vec<Vec<f32>>> {
        let mut out = Vec::with_capacity(images.len());
        for chunk in images.chunks(batch_size.max(1)) {
            let xs = self.images_to_tensor(chunk, self.device())?;
            let emb = tch::no_grad(|| -> Result<Tensor> {
                let mut emb = self.net.forward_t(&xs, false)?;
                if flip {
                    emb = emb.f_add(&self.net.forward_t(&xs.f_flip([3])?, false)?)?;
                }
                Ok(emb)
            })?;
            let emb = emb.f_to_kind(Kind::Float)?.f_to_device(Device::Cpu)?;
            let rows: Vec<Vec<f32>> = Vec::<Vec<f32>>::try_from(emb)?;
            out.extend(rows);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> FaceBackboneConfig {
        FaceBackboneConfig::IResNet(IResNetConfig {
            input_size: [16, 16],
            widths: vec![4, 8],
            blocks: vec![1, 1],
            embedding_dim: 6,
            ..IResNetConfig::default()
        })
    }

    fn image(value: u8, channels: Channels) -> Image {
        Image {
            width: 16,
            height: 16,
            channels,
            pixels: vec![value; 256 * channels.count()],
        }
    }

    #[test]
    fn save_load_round_trip_gives_identical_embeddings() {
        let dir = tempfile::tempdir().unwrap();
        let model = FaceModel::new(tiny(), Device::Cpu).unwrap();
        let images = [image(10, Channels::Grey), image(200, Channels::Grey)];
        let refs: Vec<&Image> = images.iter().collect();
        let before = model.embed(&refs, true, 2).unwrap();
        let one_by_one = model.embed(&refs, true, 1).unwrap();
        for (a, b) in before.iter().flatten().zip(one_by_one.iter().flatten()) {
            assert!((a - b).abs() <= 1e-4 * a.abs().max(1.0), "{a} vs {b}");
        }
        model.save(dir.path(), None).unwrap();
        let loaded = FaceModel::load(dir.path(), Device::Cpu).unwrap();
        assert_eq!(loaded.embed(&refs, true, 2).unwrap(), before);
        assert_eq!(before[0].len(), 6);
    }

    #[test]
    fn efficientnet_models_save_and_load_with_their_normalisation() {
        let config = FaceBackboneConfig::EfficientNetLite0(EfficientNetFaceConfig {
            in_channels: 1,
            input_size: [32, 32],
            embedding_dim: 8,
            dropout: 0.0,
            imagenet_weights: None,
        });
        let dir = tempfile::tempdir().unwrap();
        let model = FaceModel::new(config.clone(), Device::Cpu).unwrap();
        let images = [image32(10), image32(200)];
        let refs: Vec<&Image> = images.iter().collect();
        let before = model.embed(&refs, false, 2).unwrap();
        model.save(dir.path(), None).unwrap();
        let file: FaceModelFile = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join(FACE_MODEL_FILE)).unwrap(),
        )
        .unwrap();
        assert_eq!(file.architecture, "efficientnet_lite0");
        assert_eq!(file.normalization, [127.0 / 255.0, 128.0 / 255.0]);
        assert!(file.iresnet.is_none());
        let loaded = FaceModel::load(dir.path(), Device::Cpu).unwrap();
        assert_eq!(loaded.config(), &config);
        assert_eq!(loaded.embed(&refs, false, 2).unwrap(), before);
        assert_eq!(before[0].len(), 8);
    }

    fn image32(value: u8) -> Image {
        Image {
            width: 32,
            height: 32,
            channels: Channels::Grey,
            pixels: vec![value; 32 * 32],
        }
    }

    #[test]
    fn wrong_channels_and_missing_files_are_errors() {
        let model = FaceModel::new(tiny(), Device::Cpu).unwrap();
        let rgb = image(1, Channels::Rgb);
        let err = model.embed(&[&rgb], false, 4).unwrap_err();
        assert!(matches!(err, TrainError::InvalidInput(_)), "{err}");
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            FaceModel::load(dir.path(), Device::Cpu),
            Err(TrainError::MissingFile { .. })
        ));
    }
}
