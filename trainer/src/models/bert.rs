//! BERT-family transformer encoder (Devlin et al., 2019, arXiv:1810.04805).
//!
//! Variable paths mirror the Hugging Face `BertModel` checkpoint names
//! (`embeddings.word_embeddings.weight`, `encoder.layer.0.attention.self.query.weight`, …), so
//! a `model.safetensors` written by `transformers` loads without renaming.

use std::path::Path;

use serde::Deserialize;
use tch::nn::{self, Module};
use tch::{Kind, Tensor};

use crate::error::{Result, TrainError};

/// The subset of a Hugging Face BERT `config.json` that the forward pass needs.
///
/// Parsed leniently: unknown keys are ignored, as `transformers` does.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BertConfig {
    /// Vocabulary size.
    pub vocab_size: i64,
    /// Width of every hidden state.
    pub hidden_size: i64,
    /// Number of transformer layers.
    pub num_hidden_layers: i64,
    /// Number of attention heads per layer.
    pub num_attention_heads: i64,
    /// Width of the feed-forward layer.
    pub intermediate_size: i64,
    /// Feed-forward activation.
    #[serde(default)]
    pub hidden_act: Activation,
    /// Number of learned positions.
    #[serde(default = "default_max_position_embeddings")]
    pub max_position_embeddings: i64,
    /// Number of token types (segments).
    #[serde(default = "default_type_vocab_size")]
    pub type_vocab_size: i64,
    /// Epsilon of every LayerNorm.
    #[serde(default = "default_layer_norm_eps")]
    pub layer_norm_eps: f64,
    /// Dropout on hidden states during training.
    #[serde(default = "default_dropout")]
    pub hidden_dropout_prob: f64,
    /// Dropout on attention probabilities during training.
    #[serde(default = "default_dropout")]
    pub attention_probs_dropout_prob: f64,
    /// Only `absolute` is supported.
    #[serde(default = "default_position_embedding_type")]
    pub position_embedding_type: String,
}

fn default_max_position_embeddings() -> i64 {
    512
}
fn default_type_vocab_size() -> i64 {
    2
}
fn default_layer_norm_eps() -> f64 {
    1e-12
}
fn default_dropout() -> f64 {
    0.1
}
fn default_position_embedding_type() -> String {
    "absolute".to_owned()
}

/// Feed-forward activations found in BERT-family configs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// Exact GELU (with erf), the BERT default.
    #[default]
    Gelu,
    /// Tanh approximation of GELU.
    #[serde(alias = "gelu_pytorch_tanh", alias = "gelu_fast")]
    GeluNew,
    /// Rectified linear unit.
    Relu,
}

impl Activation {
    /// Applies the activation, in place when no gradient is recorded: the input is a fresh
    /// `[B, L, intermediate]` tensor, the largest of the forward pass.
    fn apply(self, mut xs: Tensor) -> Result<Tensor> {
        if xs.requires_grad() {
            return Ok(match self {
                Self::Gelu => xs.f_gelu("none")?,
                Self::GeluNew => xs.f_gelu("tanh")?,
                Self::Relu => xs.f_relu()?,
            });
        }
        Ok(match self {
            Self::Gelu => xs.f_gelu_("none")?,
            Self::GeluNew => xs.f_gelu_("tanh")?,
            Self::Relu => xs.f_relu_()?,
        })
    }
}

impl BertConfig {
    /// Reads and validates a `config.json`.
    ///
    /// # Errors
    /// [`TrainError::BadConfig`] naming the file when it does not parse or a value is unusable.
    pub fn load(path: &Path) -> Result<Self> {
        let text = fs_err::read_to_string(path)?;
        let config: Self = serde_json::from_str(&text).map_err(|e| TrainError::BadConfig {
            path: path.to_path_buf(),
            reason: format!("not a BERT config: {e}"),
        })?;
        config.validate().map_err(|reason| TrainError::BadConfig {
            path: path.to_path_buf(),
            reason,
        })?;
        Ok(config)
    }

    /// Checks that the sizes describe a buildable model.
    ///
    /// # Errors
    /// A message naming the first offending field.
    pub fn validate(&self) -> std::result::Result<(), String> {
        let positive = [
            ("vocab_size", self.vocab_size),
            ("hidden_size", self.hidden_size),
            ("num_hidden_layers", self.num_hidden_layers),
            ("num_attention_heads", self.num_attention_heads),
            ("intermediate_size", self.intermediate_size),
            ("max_position_embeddings", self.max_position_embeddings),
            ("type_vocab_size", self.type_vocab_size),
        ];
        if let Some((name, value)) = positive.iter().find(|(_, v)| *v <= 0) {
            return Err(format!("{name} must be positive, got {value}"));
        }
        if self.hidden_size % self.num_attention_heads != 0 {
            return Err(format!(
                "hidden_size {} is not a multiple of num_attention_heads {}",
                self.hidden_size, self.num_attention_heads
            ));
        }
        if self.position_embedding_type != "absolute" {
            return Err(format!(
                "position_embedding_type {:?} is not supported (only \"absolute\")",
                self.position_embedding_type
            ));
        }
        if self.layer_norm_eps.is_nan() || self.layer_norm_eps <= 0.0 {
            return Err(format!(
                "layer_norm_eps must be positive, got {}",
                self.layer_norm_eps
            ));
        }
        Ok(())
    }

    fn head_dim(&self) -> i64 {
        self.hidden_size / self.num_attention_heads
    }
}

fn layer_norm(path: nn::Path<'_>, config: &BertConfig) -> nn::LayerNorm {
    let ln_config = nn::LayerNormConfig {
        eps: config.layer_norm_eps,
        ..Default::default()
    };
    nn::layer_norm(path, vec![config.hidden_size], ln_config)
}

#[derive(Debug)]
struct Embeddings {
    word: nn::Embedding,
    position: nn::Embedding,
    token_type: nn::Embedding,
    layer_norm: nn::LayerNorm,
    dropout: f64,
}

impl Embeddings {
    fn new(path: &nn::Path<'_>, config: &BertConfig) -> Self {
        let emb = |name: &str, n: i64| {
            nn::embedding(path / name, n, config.hidden_size, Default::default())
        };
        Self {
            word: emb("word_embeddings", config.vocab_size),
            position: emb("position_embeddings", config.max_position_embeddings),
            token_type: emb("token_type_embeddings", config.type_vocab_size),
            layer_norm: layer_norm(path / "LayerNorm", config),
            dropout: config.hidden_dropout_prob,
        }
    }

    fn forward_t(&self, input_ids: &Tensor, train: bool) -> Result<Tensor> {
        let seq_len = input_ids.size().get(1).copied().unwrap_or(0);
        let positions = Tensor::f_arange(seq_len, (Kind::Int64, input_ids.device()))?;
        let token_types = input_ids.f_zeros_like()?;
        let xs = self
            .word
            .forward(input_ids)
            .f_add(&self.position.forward(&positions).f_unsqueeze(0)?)?
            .f_add(&self.token_type.forward(&token_types))?;
        Ok(self
            .layer_norm
            .forward(&xs)
            .f_dropout(self.dropout, train)?)
    }
}

#[derive(Debug)]
struct SelfAttention {
    query: nn::Linear,
    key: nn::Linear,
    value: nn::Linear,
    output: nn::Linear,
    output_norm: nn::LayerNorm,
    num_heads: i64,
    head_dim: i64,
    attention_dropout: f64,
    hidden_dropout: f64,
}

impl SelfAttention {
    fn new(path: &nn::Path<'_>, config: &BertConfig) -> Self {
        let h = config.hidden_size;
        let linear = |p: nn::Path<'_>| nn::linear(p, h, h, Default::default());
        let this = path / "self";
        let out = path / "output";
        Self {
            query: linear(&this / "query"),
            key: linear(&this / "key"),
            value: linear(&this / "value"),
            output: linear(&out / "dense"),
            output_norm: layer_norm(&out / "LayerNorm", config),
            num_heads: config.num_attention_heads,
            head_dim: config.head_dim(),
            attention_dropout: config.attention_probs_dropout_prob,
            hidden_dropout: config.hidden_dropout_prob,
        }
    }

    /// # Shapes
    /// `xs: [B, L, H]`, `keep: [B, 1, 1, L]` (bool, true = attend) → `[B, L, H]`.
    fn forward_t(
        &self,
        xs: &Tensor,
        keep: &Tensor,
        train: bool,
        matmul: Option<Kind>,
    ) -> Result<Tensor> {
        let (b, l) = (xs.size()[0], xs.size()[1]);
        // One GEMM for Q, K and V: the three projections share their input.
        let weight = Tensor::f_cat(&[&self.query.ws, &self.key.ws, &self.value.ws], 0)?;
        let biases = [&self.query.bs, &self.key.bs, &self.value.bs];
        let bias = match biases {
            [Some(q), Some(k), Some(v)] => Some(Tensor::f_cat(&[q, k, v], 0)?),
            _ => None,
        };
        let qkv = dense(xs, &weight, bias.as_ref(), matmul)?
            .f_view([b, l, 3, self.num_heads, self.head_dim])?
            .f_permute([2, 0, 3, 1, 4])?;
        let (q, k, v) = (qkv.f_get(0)?, qkv.f_get(1)?, qkv.f_get(2)?);
        let dropout = if train { self.attention_dropout } else { 0.0 };
        let context = Tensor::f_scaled_dot_product_attention(
            &q,
            &k,
            &v,
            Some(keep),
            dropout,
            false,
            None,
            false,
        )?;
        let context =
            context
                .f_transpose(1, 2)?
                .f_reshape([b, l, self.num_heads * self.head_dim])?;
        let projected = to_kind_of(linear(&self.output, &context, matmul)?, xs)?
            .f_dropout(self.hidden_dropout, train)?;
        Ok(self.output_norm.forward(&residual_add(projected, xs)?))
    }
}

/// `xs · weightᵀ + bias`; with `matmul = Some(kind)` the product runs in `kind` (e.g. bf16 on
/// CPUs with AMX) on copies of the operands and the result stays in `kind`, as under autocast:
/// attention and the activation run in it too, and [`to_kind_of`] brings a result back before
/// each residual sum and layer norm. The weights and their gradients stay f32.
fn dense(
    xs: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    matmul: Option<Kind>,
) -> Result<Tensor> {
    match matmul {
        None => Ok(xs.f_linear(weight, bias)?),
        Some(kind) => {
            let bias = bias.map(|b| b.f_to_kind(kind)).transpose()?;
            Ok(xs
                .f_to_kind(kind)?
                .f_linear(&weight.f_to_kind(kind)?, bias.as_ref())?)
        }
    }
}

fn linear(layer: &nn::Linear, xs: &Tensor, matmul: Option<Kind>) -> Result<Tensor> {
    dense(xs, &layer.ws, layer.bs.as_ref(), matmul)
}

/// `t` in the kind of `like` (a no-op without mixed precision).
fn to_kind_of(t: Tensor, like: &Tensor) -> Result<Tensor> {
    if t.kind() == like.kind() {
        Ok(t)
    } else {
        Ok(t.f_to_kind(like.kind())?)
    }
}

/// `fresh + residual`, in place when no gradient is recorded (saves an allocation per layer).
fn residual_add(mut fresh: Tensor, residual: &Tensor) -> Result<Tensor> {
    if fresh.requires_grad() || residual.requires_grad() {
        Ok(fresh.f_add(residual)?)
    } else {
        Ok(fresh.f_add_(residual)?)
    }
}

#[derive(Debug)]
struct Layer {
    attention: SelfAttention,
    intermediate: nn::Linear,
    output: nn::Linear,
    output_norm: nn::LayerNorm,
    activation: Activation,
    dropout: f64,
}

impl Layer {
    fn new(path: &nn::Path<'_>, config: &BertConfig) -> Self {
        let (h, i) = (config.hidden_size, config.intermediate_size);
        Self {
            attention: SelfAttention::new(&(path / "attention"), config),
            intermediate: nn::linear(path / "intermediate" / "dense", h, i, Default::default()),
            output: nn::linear(path / "output" / "dense", i, h, Default::default()),
            output_norm: layer_norm(path / "output" / "LayerNorm", config),
            activation: config.hidden_act,
            dropout: config.hidden_dropout_prob,
        }
    }

    fn forward_t(
        &self,
        xs: &Tensor,
        keep: &Tensor,
        train: bool,
        matmul: Option<Kind>,
    ) -> Result<Tensor> {
        let attended = self.attention.forward_t(xs, keep, train, matmul)?;
        let hidden = self
            .activation
            .apply(linear(&self.intermediate, &attended, matmul)?)?;
        let out = to_kind_of(linear(&self.output, &hidden, matmul)?, &attended)?
            .f_dropout(self.dropout, train)?;
        Ok(self.output_norm.forward(&residual_add(out, &attended)?))
    }
}

/// A BERT encoder: embeddings followed by `num_hidden_layers` transformer layers (no pooler).
#[derive(Debug)]
pub struct BertModel {
    embeddings: Embeddings,
    layers: Vec<Layer>,
    config: BertConfig,
    matmul: Option<Kind>,
}

impl BertModel {
    /// Creates the variables of the model under `path` (randomly initialised; load weights into
    /// the var store afterwards).
    pub fn new(path: &nn::Path<'_>, config: &BertConfig) -> Self {
        let layers_path = path / "encoder" / "layer";
        let layers = (0..config.num_hidden_layers)
            .map(|i| Layer::new(&(&layers_path / i), config))
            .collect();
        Self {
            embeddings: Embeddings::new(&(path / "embeddings"), config),
            layers,
            config: config.clone(),
            matmul: None,
        }
    }

    /// Runs the dense layers' matrix products in `kind` (`None`: in the weights' kind). With
    /// f32 weights and `Some(Kind::BFloat16)` this is mixed precision for CPUs with bf16
    /// matrix units (AMX): f32 master weights and gradients, bf16 products.
    pub fn set_matmul_kind(&mut self, kind: Option<Kind>) {
        self.matmul = kind;
    }

    /// The configuration the model was built from.
    pub fn config(&self) -> &BertConfig {
        &self.config
    }

    /// Runs the encoder.
    ///
    /// # Shapes
    /// `input_ids: [B, L]` (int64), `attention_mask: [B, L]` (1 for real tokens, 0 for padding)
    /// → last hidden states `[B, L, H]`.
    ///
    /// # Errors
    /// [`TrainError::InvalidInput`] on mismatched shapes or a sequence longer than
    /// `max_position_embeddings`; libtorch errors otherwise.
    pub fn forward_t(
        &self,
        input_ids: &Tensor,
        attention_mask: &Tensor,
        train: bool,
    ) -> Result<Tensor> {
        let shape = input_ids.size();
        if shape.len() != 2 || attention_mask.size() != shape {
            return Err(TrainError::InvalidInput(format!(
                "input_ids {shape:?} and attention_mask {:?} must both be [batch, length]",
                attention_mask.size()
            )));
        }
        if shape[1] > self.config.max_position_embeddings {
            return Err(TrainError::InvalidInput(format!(
                "sequence length {} exceeds max_position_embeddings {}",
                shape[1], self.config.max_position_embeddings
            )));
        }
        let keep = attention_mask.f_gt(0)?.f_view([shape[0], 1, 1, shape[1]])?;
        let mut xs = self.embeddings.forward_t(input_ids, train)?;
        for layer in &self.layers {
            xs = layer.forward_t(&xs, &keep, train, self.matmul)?;
        }
        Ok(xs)
    }
}
