//! A Hugging Face `tokenizer.json` wrapper whose padding and truncation we control.
//!
//! Some published `tokenizer.json` files switch on fixed padding to 128 tokens (all-MiniLM-L6-v2
//! does); mean pooling over such padding gives wrong embeddings, so padding is always switched
//! off here and batches are padded to their own longest sequence, with an attention mask.

use std::path::Path;

use tch::{Device, Tensor};
use tokenizers::{Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy};

use crate::error::{Result, TrainError};

/// A loaded tokenizer with a fixed maximum length.
#[derive(Debug, Clone)]
pub struct TextTokenizer {
    inner: Tokenizer,
    max_length: usize,
    pad_id: i64,
}

/// The token ids of one text, special tokens included, truncated to the maximum length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenizedText {
    /// Token ids.
    pub ids: Vec<i64>,
}

/// A padded batch ready for the model.
#[derive(Debug)]
pub struct TokenBatch {
    /// `[B, L]` int64 token ids, padded with the pad id.
    pub input_ids: Tensor,
    /// `[B, L]` int64, 1 for real tokens and 0 for padding.
    pub attention_mask: Tensor,
}

/// On CUDA, batch widths are rounded up to a multiple of this many tokens. Each new input shape
/// makes cuBLAS and cuDNN choose kernels (and build attention plans) once, which costs far more
/// than a step; with variable-length batches nearly every step had a new width. Padding to a
/// multiple of 32 leaves a handful of shapes for a few percent more tokens; the padded positions
/// are masked, so embeddings do not change.
pub(crate) const CUDA_WIDTH_MULTIPLE: usize = 32;

/// The padded width of a batch whose longest text has `longest` tokens: rounded up to
/// `multiple`, but never past the tokenizer's `max_length` (nor below `longest`).
fn padded_width(longest: usize, max_length: usize, multiple: usize) -> usize {
    let rounded = longest.div_ceil(multiple.max(1)) * multiple.max(1);
    rounded.min(max_length.max(longest))
}

impl TextTokenizer {
    /// Loads `tokenizer.json` and sets truncation to `max_length` tokens, special tokens included.
    ///
    /// # Errors
    /// [`TrainError::MissingFile`] when the file is absent, [`TrainError::Tokenizer`] when it
    /// does not parse or `max_length` is too small to hold the special tokens.
    pub fn load(path: &Path, max_length: usize) -> Result<Self> {
        if !path.is_file() {
            return Err(TrainError::MissingFile {
                path: path.to_path_buf(),
                what: "tokenizer",
            });
        }
        let tok_err =
            |e: tokenizers::Error| TrainError::Tokenizer(format!("{}: {e}", path.display()));
        let mut inner = Tokenizer::from_file(path).map_err(tok_err)?;
        inner.with_padding(None);
        let truncation = TruncationParams {
            max_length,
            strategy: TruncationStrategy::LongestFirst,
            stride: 0,
            direction: TruncationDirection::Right,
        };
        inner.with_truncation(Some(truncation)).map_err(tok_err)?;
        let pad_id = ["[PAD]", "<pad>"]
            .iter()
            .find_map(|t| inner.token_to_id(t))
            .map_or(0, i64::from);
        Ok(Self {
            inner,
            max_length,
            pad_id,
        })
    }

    /// The maximum number of tokens per text, special tokens included.
    pub fn max_length(&self) -> usize {
        self.max_length
    }

    /// Tokenizes texts in parallel.
    ///
    /// # Errors
    /// [`TrainError::Tokenizer`] when the tokenizer fails on a text.
    pub fn tokenize<S: AsRef<str> + Sync>(&self, texts: &[S]) -> Result<Vec<TokenizedText>> {
        let inputs: Vec<&str> = texts.iter().map(AsRef::as_ref).collect();
        let encodings = self
            .inner
            .encode_batch(inputs, true)
            .map_err(|e| TrainError::Tokenizer(e.to_string()))?;
        Ok(encodings
            .iter()
            .map(|e| TokenizedText {
                ids: e.get_ids().iter().map(|&id| i64::from(id)).collect(),
            })
            .collect())
    }

    /// Pads texts to the longest among them (on CUDA, further up to a multiple of 32 tokens,
    /// within `max_length`) and builds the tensors on `device`.
    ///
    /// # Errors
    /// [`TrainError::InvalidInput`] on an empty batch; libtorch errors.
    pub fn batch(&self, texts: &[&TokenizedText], device: Device) -> Result<TokenBatch> {
        let longest = texts.iter().map(|t| t.ids.len()).max().unwrap_or(0);
        let multiple = if device.is_cuda() {
            CUDA_WIDTH_MULTIPLE
        } else {
            1
        };
        let width = padded_width(longest, self.max_length, multiple);
        if texts.is_empty() || width == 0 {
            return Err(TrainError::InvalidInput(
                "cannot build an empty batch".to_owned(),
            ));
        }
        let mut ids = Vec::with_capacity(texts.len() * width);
        let mut mask = Vec::with_capacity(texts.len() * width);
        for text in texts {
            let pad = width - text.ids.len();
            ids.extend_from_slice(&text.ids);
            ids.extend(std::iter::repeat_n(self.pad_id, pad));
            mask.extend(std::iter::repeat_n(1i64, text.ids.len()));
            mask.extend(std::iter::repeat_n(0i64, pad));
        }
        let shape = [texts.len() as i64, width as i64];
        Ok(TokenBatch {
            input_ids: Tensor::from_slice(&ids)
                .f_view(shape)?
                .f_to_device(device)?,
            attention_mask: Tensor::from_slice(&mask)
                .f_view(shape)?
                .f_to_device(device)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::padded_width;

    #[test]
    fn cpu_batches_pad_to_the_longest_text_only() {
        assert_eq!(padded_width(37, 256, 1), 37);
        assert_eq!(padded_width(0, 256, 1), 0);
    }

    #[test]
    fn cuda_batches_round_up_to_the_multiple_within_max_length() {
        assert_eq!(padded_width(37, 256, 32), 64);
        assert_eq!(padded_width(64, 256, 32), 64);
        assert_eq!(padded_width(250, 256, 32), 256);
        assert_eq!(padded_width(120, 128, 32), 128);
        // A max_length that is not a multiple caps the rounding, never the text.
        assert_eq!(padded_width(190, 200, 32), 192);
        assert_eq!(padded_width(199, 200, 32), 200);
        assert_eq!(padded_width(201, 200, 32), 201);
    }
}
