//! [`ImageEncoder`]: a backbone with its weights, saved as a folder holding
//! `model.safetensors` and `fewshot_model.json` (the [`ImageModelSpec`]).

use std::path::Path;

use pairwise_datasets::images::ImageClassSet;
use serde::{Deserialize, Serialize};
use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};

use crate::error::{Result, TrainError};
use crate::fewshot::BackboneConfig;
use crate::models::{Conv4, ResNet12};

/// The weights file of an image model folder.
pub const MODEL_WEIGHTS_FILE: &str = "model.safetensors";
/// The description file of an image model folder.
pub const MODEL_SPEC_FILE: &str = "fewshot_model.json";

/// What an image model folder holds besides its weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageModelSpec {
    /// The architecture.
    pub backbone: BackboneConfig,
    /// Input side in pixels (greyscale, values in `[0, 1]`, ink = 1).
    pub image_size: usize,
    /// Output width.
    pub embedding_dim: i64,
}

/// The built backbone.
#[derive(Debug)]
enum Backbone {
    Conv4(Conv4),
    ResNet12(ResNet12),
}

/// An image embedding network on a device.
#[derive(Debug)]
pub struct ImageEncoder {
    vs: VarStore,
    net: Backbone,
    spec: ImageModelSpec,
}

impl ImageEncoder {
    /// A freshly initialised encoder (seed libtorch first for a reproducible start).
    ///
    /// # Errors
    /// [`TrainError::InvalidInput`] for sizes the backbone cannot take.
    pub fn new(backbone: BackboneConfig, image_size: usize, device: Device) -> Result<Self> {
        let vs = VarStore::new(device);
        let side = i64::try_from(image_size)
            .map_err(|_| TrainError::InvalidInput(format!("image size {image_size}")))?;
        let path = vs.root() / "backbone";
        let (net, embedding_dim) = match backbone {
            BackboneConfig::Conv4(config) => (
                Backbone::Conv4(Conv4::new(&path, &config)?),
                config.output_dim(side)?,
            ),
            BackboneConfig::ResNet12(config) => (
                Backbone::ResNet12(ResNet12::new(&path, &config)?),
                config.output_dim(side)?,
            ),
        };
        Ok(Self {
            vs,
            net,
            spec: ImageModelSpec {
                backbone,
                image_size,
                embedding_dim,
            },
        })
    }

    /// Loads a model folder written by [`save`](Self::save).
    ///
    /// # Errors
    /// [`TrainError::MissingFile`] / [`TrainError::BadConfig`] naming the file; libtorch errors
    /// for weights that do not match.
    pub fn load(dir: &Path, device: Device) -> Result<Self> {
        let spec_path = dir.join(MODEL_SPEC_FILE);
        if !spec_path.is_file() {
            return Err(TrainError::MissingFile {
                path: spec_path,
                what: "image model description",
            });
        }
        let spec: ImageModelSpec = serde_json::from_str(&fs_err::read_to_string(&spec_path)?)
            .map_err(|e| TrainError::BadConfig {
                path: spec_path.clone(),
                reason: e.to_string(),
            })?;
        let weights = dir.join(MODEL_WEIGHTS_FILE);
        if !weights.is_file() {
            return Err(TrainError::MissingFile {
                path: weights,
                what: "model weights",
            });
        }
        let mut encoder = Self::new(spec.backbone, spec.image_size, device)?;
        encoder
            .vs
            .load(&weights)
            .map_err(|e| TrainError::BadWeights {
                path: weights.clone(),
                reason: e.to_string(),
            })?;
        Ok(encoder)
    }

    /// Writes `model.safetensors` and `fewshot_model.json` into `dir` (created if needed).
    ///
    /// # Errors
    /// I/O and libtorch errors.
    pub fn save(&self, dir: &Path) -> Result<()> {
        fs_err::create_dir_all(dir)?;
        self.vs.save(dir.join(MODEL_WEIGHTS_FILE))?;
        let spec = serde_json::to_string_pretty(&self.spec)
            .map_err(|e| TrainError::InvalidInput(e.to_string()))?;
        fs_err::write(dir.join(MODEL_SPEC_FILE), spec + "\n")?;
        Ok(())
    }

    /// The model description.
    pub fn spec(&self) -> &ImageModelSpec {
        &self.spec
    }

    /// The variables (for the optimiser).
    pub fn var_store(&self) -> &VarStore {
        &self.vs
    }

    /// The device of the weights.
    pub fn device(&self) -> Device {
        self.vs.device()
    }

    /// Turns `count` images of `side²` pixels into a `[count, 1, side, side]` tensor on the
    /// encoder's device.
    ///
    /// # Errors
    /// [`TrainError::InvalidInput`] when the pixel count does not match.
    pub fn images_tensor(&self, pixels: &[f32], count: usize) -> Result<Tensor> {
        let side = self.spec.image_size;
        if pixels.len() != count * side * side {
            return Err(TrainError::InvalidInput(format!(
                "{} pixels are not {count} images of {side}×{side}",
                pixels.len()
            )));
        }
        let s = i64::try_from(side).unwrap_or(0);
        let n = i64::try_from(count).unwrap_or(0);
        let host = Tensor::f_from_slice(pixels)?.f_view([n, 1, s, s])?;
        let device = self.device();
        if device == Device::Cpu {
            return Ok(host);
        }
        // torch's blocking copy to a GPU waits for the whole queue (the previous step's kernels)
        // before it returns. From pinned memory (torch's caching host allocator, which keeps the
        // buffer until the copy is done) the copy is only queued, and the host goes on queueing
        // the forward pass; where pinning fails, the copy from pageable memory is still
        // non-blocking (the driver stages it). `_pin_memory`, not `pin_memory`: tch passes the
        // device, for which the latter prints a deprecation warning on every call.
        let source = host.f_internal_pin_memory(device).unwrap_or(host);
        Ok(source.f_to_device_(device, Kind::Float, true, false)?)
    }

    /// Embeds images; `train` uses batch statistics in batch norm (and keeps the graph).
    ///
    /// # Shapes
    /// `images: [B, 1, side, side]` → `[B, embedding_dim]`.
    ///
    /// # Errors
    /// libtorch errors.
    pub fn forward_t(&self, images: &Tensor, train: bool) -> Result<Tensor> {
        match &self.net {
            Backbone::Conv4(net) => net.forward_t(images, train),
            Backbone::ResNet12(net) => net.forward_t(images, train),
        }
    }

    /// Embeds every image of `set` in evaluation mode, `batch_size` at a time, as row-major
    /// `f32` (`set.len() × embedding_dim`).
    ///
    /// # Errors
    /// [`TrainError::InvalidInput`] when the set's image size differs from the model's;
    /// libtorch errors.
    pub fn embed_all(&self, set: &ImageClassSet, batch_size: usize) -> Result<Vec<f32>> {
        if set.side() != self.spec.image_size {
            return Err(TrainError::InvalidInput(format!(
                "the model takes {0}×{0} images, the data has {1}×{1}",
                self.spec.image_size,
                set.side()
            )));
        }
        let per_image = set.side() * set.side();
        let mut out =
            Vec::with_capacity(set.len() * usize::try_from(self.spec.embedding_dim).unwrap_or(0));
        tch::no_grad(|| -> Result<()> {
            for chunk in set.pixels().chunks(per_image * batch_size.max(1)) {
                let images = self.images_tensor(chunk, chunk.len() / per_image)?;
                let embedded = self.forward_t(&images, false)?.f_to_kind(Kind::Float)?;
                let flat = embedded.f_flatten(0, -1)?.f_to_device(Device::Cpu)?;
                out.extend(Vec::<f32>::try_from(&flat)?);
            }
            Ok(())
        })?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::Conv4Config;

    #[test]
    fn save_then_load_gives_the_same_embeddings() {
        tch::manual_seed(3);
        let encoder = ImageEncoder::new(
            BackboneConfig::Conv4(Conv4Config::default()),
            28,
            Device::Cpu,
        )
        .unwrap();
        let mut set = ImageClassSet::new(28);
        let class = set.add_class("a");
        for i in 0..3 {
            let pixels: Vec<f32> = (0..784)
                .map(|p| ((p * (i + 1)) % 17) as f32 / 17.0)
                .collect();
            set.push(class, &pixels).unwrap();
        }
        let before = encoder.embed_all(&set, 2).unwrap();
        assert_eq!(before.len(), 3 * 64);
        let dir = tempfile::tempdir().unwrap();
        encoder.save(dir.path()).unwrap();
        let loaded = ImageEncoder::load(dir.path(), Device::Cpu).unwrap();
        assert_eq!(loaded.spec(), encoder.spec());
        // Another batch size: the same values up to the convolution's summation order.
        let after = loaded.embed_all(&set, 3).unwrap();
        assert_eq!(after.len(), before.len());
        for (a, b) in after.iter().zip(&before) {
            assert!((a - b).abs() <= 1e-5 * (1.0 + b.abs()), "{a} vs {b}");
        }
    }

    #[test]
    fn missing_files_and_wrong_sizes_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            ImageEncoder::load(dir.path(), Device::Cpu),
            Err(TrainError::MissingFile { .. })
        ));
        let encoder = ImageEncoder::new(
            BackboneConfig::Conv4(Conv4Config::default()),
            28,
            Device::Cpu,
        )
        .unwrap();
        assert!(encoder.images_tensor(&[0.0; 10], 1).is_err());
        assert!(encoder.embed_all(&ImageClassSet::new(32), 8).is_err());
    }

    #[test]
    fn resnet12_backbone_from_its_config_name() {
        let backbone: BackboneConfig =
            serde_json::from_str(r#"{"type": "resnet12", "channels": [8, 8, 16, 32]}"#).unwrap();
        let encoder = ImageEncoder::new(backbone, 32, Device::Cpu).unwrap();
        assert_eq!(encoder.spec().embedding_dim, 32);
        let images = Tensor::rand([2, 1, 32, 32], (Kind::Float, Device::Cpu));
        assert_eq!(
            encoder.forward_t(&images, false).unwrap().size(),
            vec![2, 32]
        );
    }
}
