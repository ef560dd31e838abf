//! [`SentenceEncoder`]: texts in, normalised embeddings out.

use std::path::Path;

use tch::{nn, Device, Tensor};

use crate::device::{DeviceChoice, Precision};
use crate::encoder::{Embeddings, ModelDir, DEFAULT_MAX_LENGTH};
use crate::error::{Result, TrainError};
use crate::models::{l2_normalize, load_safetensors, BertModel, Pooling};
use crate::text::{TextTokenizer, TokenizedText};

/// How a [`SentenceEncoder`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncoderOptions {
    /// Maximum tokens per text, special tokens included; `None` takes the model folder's
    /// `max_seq_length`, else [`DEFAULT_MAX_LENGTH`].
    pub max_length: Option<usize>,
    /// Texts per forward pass.
    pub batch_size: usize,
    /// Where the model runs.
    pub device: DeviceChoice,
    /// Weight and activation precision.
    pub precision: Precision,
}

impl Default for EncoderOptions {
    fn default() -> Self {
        Self {
            max_length: None,
            batch_size: 32,
            device: DeviceChoice::Auto,
            precision: Precision::F32,
        }
    }
}

/// A BERT-family sentence encoder loaded from a sentence-transformers model folder.
#[derive(Debug)]
pub struct SentenceEncoder {
    vs: nn::VarStore,
    model: BertModel,
    tokenizer: TextTokenizer,
    pooling: Pooling,
    normalize: bool,
    batch_size: usize,
    device: Device,
    /// The folder the model was loaded from (its small files are copied on save).
    source: ModelDir,
}

impl SentenceEncoder {
    /// Loads the model folder at `dir`.
    ///
    /// # Errors
    /// Missing files, configs that do not parse, weights that do not match the config, a
    /// device that is not available, or options out of range; each error names the file.
    pub fn load(dir: &Path, options: EncoderOptions) -> Result<Self> {
        let model_dir = ModelDir::open(dir)?;
        let max_length = options
            .max_length
            .or(model_dir.max_seq_length)
            .unwrap_or(DEFAULT_MAX_LENGTH);
        let max_positions = usize::try_from(model_dir.config.max_position_embeddings).unwrap_or(0);
        if max_length < 2 || max_length > max_positions {
            return Err(TrainError::InvalidInput(format!(
                "max length {max_length} must lie in 2..={max_positions} (the model's max_position_embeddings)"
            )));
        }
        if options.batch_size == 0 {
            return Err(TrainError::InvalidInput(
                "batch size must be at least 1".to_owned(),
            ));
        }
        let device = options.device.resolve()?;
        let mut vs = nn::VarStore::new(device);
        let model = BertModel::new(&vs.root(), &model_dir.config);
        let report = load_safetensors(&mut vs, &model_dir.weights_path())?;
        tracing::debug!(loaded = report.loaded, unused = ?report.unused, prefix = report.prefix, "weights loaded");
        vs.set_kind(options.precision.kind());
        vs.freeze();
        let tokenizer = TextTokenizer::load(&model_dir.tokenizer_path(), max_length)?;
        Ok(Self {
            vs,
            model,
            tokenizer,
            pooling: model_dir.pooling,
            normalize: model_dir.normalize,
            batch_size: options.batch_size,
            device,
            source: model_dir,
        })
    }

    /// The embedding width.
    pub fn dim(&self) -> usize {
        usize::try_from(self.model.config().hidden_size).unwrap_or(0)
    }

    /// The device the model runs on.
    pub fn device(&self) -> Device {
        self.device
    }

    /// The tokenizer, with the configured maximum length.
    pub fn tokenizer(&self) -> &TextTokenizer {
        &self.tokenizer
    }

    /// The var store holding the weights.
    pub fn var_store(&self) -> &nn::VarStore {
        &self.vs
    }

    /// Makes the weights trainable (they are frozen after [`load`](Self::load)).
    pub fn unfreeze(&mut self) {
        self.vs.unfreeze();
    }

    /// Freezes the weights again (inference).
    pub fn freeze(&mut self) {
        self.vs.freeze();
    }

    /// Runs the encoder's matrix products in `kind` (see [`BertModel::set_matmul_kind`]).
    pub fn set_matmul_kind(&mut self, kind: Option<tch::Kind>) {
        self.model.set_matmul_kind(kind);
    }

    /// Writes a sentence-transformers model folder: the weights as `model.safetensors` (f32,
    /// Hugging Face names) and the loaded folder's configs and tokenizer. Files are written
    /// into a temporary sibling folder that then replaces `dir`, so an existing model there is
    /// never left half-written.
    ///
    /// # Errors
    /// IO and libtorch failures.
    pub fn save(&self, dir: &Path) -> Result<()> {
        let parent = dir
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        fs_err::create_dir_all(parent)?;
        let staging = parent.join(format!(
            ".{}.partial",
            dir.file_name().and_then(|n| n.to_str()).unwrap_or("model")
        ));
        if staging.exists() {
            fs_err::remove_dir_all(&staging)?;
        }
        fs_err::create_dir_all(staging.join("1_Pooling"))?;
        for file in [
            "config.json",
            "tokenizer.json",
            "modules.json",
            "sentence_bert_config.json",
            "1_Pooling/config.json",
            "config_sentence_transformers.json",
            "tokenizer_config.json",
            "special_tokens_map.json",
            "vocab.txt",
        ] {
            let from = self.source.root.join(file);
            if from.is_file() {
                fs_err::copy(&from, staging.join(file))?;
            }
        }
        let mut tensors: Vec<(String, Tensor)> = self
            .vs
            .variables()
            .into_iter()
            .map(|(name, t)| {
                Ok((
                    name,
                    t.f_to_kind(tch::Kind::Float)?
                        .f_to_device(Device::Cpu)?
                        .f_contiguous()?,
                ))
            })
            .collect::<Result<_>>()?;
        // Keep the source's tensors that the encoder does not use (e.g. the pooler), so that
        // `transformers` finds a complete checkpoint.
        let trained: std::collections::HashSet<String> =
            tensors.iter().map(|(n, _)| n.clone()).collect();
        for (name, tensor) in Tensor::read_safetensors(self.source.weights_path())? {
            let nested = name.starts_with("bert.") || name.starts_with("model.");
            if !nested && !trained.contains(&name) {
                tensors.push((name, tensor));
            }
        }
        Tensor::write_safetensors(&tensors, staging.join("model.safetensors"))?;
        if dir.exists() {
            fs_err::remove_dir_all(dir)?;
        }
        fs_err::rename(&staging, dir)?;
        Ok(())
    }

    /// Encodes texts; row `i` of the result belongs to `texts[i]`.
    ///
    /// # Errors
    /// Tokenizer or libtorch failures.
    pub fn encode<S: AsRef<str> + Sync>(&self, texts: &[S]) -> Result<Embeddings> {
        self.encode_with_progress(texts, |_| {})
    }

    /// Like [`encode`](Self::encode), calling `progress(n)` after each batch of `n` texts.
    ///
    /// Texts are sorted by token count so that each batch holds texts of similar length and
    /// little padding is computed; the output is restored to input order.
    ///
    /// # Errors
    /// Tokenizer or libtorch failures.
    pub fn encode_with_progress<S: AsRef<str> + Sync>(
        &self,
        texts: &[S],
        mut progress: impl FnMut(usize),
    ) -> Result<Embeddings> {
        let dim = self.dim();
        let tokenized = self.tokenizer.tokenize(texts)?;
        let mut order: Vec<usize> = (0..tokenized.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(tokenized[i].ids.len()));
        let mut data = vec![0f32; texts.len() * dim];
        for chunk in order.chunks(self.batch_size) {
            let batch: Vec<&TokenizedText> = chunk.iter().map(|&i| &tokenized[i]).collect();
            let rows = self.forward_batch(&batch)?;
            for (row, &i) in rows.chunks_exact(dim).zip(chunk) {
                data[i * dim..(i + 1) * dim].copy_from_slice(row);
            }
            progress(chunk.len());
        }
        Embeddings::from_flat(dim, data)
            .ok_or_else(|| TrainError::InvalidInput("model has zero width".to_owned()))
    }

    /// Embeds one batch under no-grad and returns its rows flattened.
    fn forward_batch(&self, batch: &[&TokenizedText]) -> Result<Vec<f32>> {
        let tokens = self.tokenizer.batch(batch, self.device)?;
        let pooled = tch::no_grad(|| self.embed_tokens(&tokens.input_ids, &tokens.attention_mask))?;
        let flat = pooled.f_to_device(Device::Cpu)?.f_flatten(0, -1)?;
        Ok(Vec::<f32>::try_from(&flat)?)
    }

    /// The inference forward pass: pooled (and normalised) embeddings, dropout off.
    ///
    /// # Shapes
    /// `input_ids, attention_mask: [B, L]` → `[B, D]` in f32.
    ///
    /// # Errors
    /// libtorch errors and shape mismatches.
    pub fn embed_tokens(&self, input_ids: &Tensor, attention_mask: &Tensor) -> Result<Tensor> {
        self.embed_tokens_t(input_ids, attention_mask, false)
    }

    /// The forward pass with dropout on when `train` is set (gradients flow when the var
    /// store is not frozen; see [`unfreeze`](Self::unfreeze)).
    ///
    /// # Shapes
    /// `input_ids, attention_mask: [B, L]` → `[B, D]` in f32.
    ///
    /// # Errors
    /// libtorch errors and shape mismatches.
    pub fn embed_tokens_t(
        &self,
        input_ids: &Tensor,
        attention_mask: &Tensor,
        train: bool,
    ) -> Result<Tensor> {
        let hidden = self.model.forward_t(input_ids, attention_mask, train)?;
        let pooled = self.pooling.apply(&hidden, attention_mask)?;
        if self.normalize {
            l2_normalize(&pooled)
        } else {
            Ok(pooled)
        }
    }
}
