//! Losses over query/passage embeddings, behind one trait, [`EmbeddingLoss`].
//!
//! A loss turns an [`EmbeddingBatch`] (queries `[B, D]`, positives `[B, D]`, optional hard
//! negatives `[B, H, D]`) into one loss per query (`unreduced`, `[B]`) and reduces it
//! (`forward`). Shapes are checked first and reported as
//! [`TrainError::InvalidInput`](crate::TrainError::InvalidInput). Half-precision scores are
//! cast to f32 before the loss; f64 inputs stay f64. Experiments pick a loss with
//! [`LossConfig`]. Formulas, defaults and test vectors: `docs/losses.md`.
//!
//! | loss | config `type` | reference |
//! |---|---|---|
//! | [`InfoNce`] | `info_nce` | sentence-transformers MultipleNegativesRankingLoss |
//! | [`Mw`] | `mw` | arXiv 2510.00137 (Mann-Whitney / AUC surrogate) |
//! | [`Triplet`] | `triplet` | sentence-transformers TripletLoss |
//!
//! Face-recognition heads implement [`ClassificationLoss`] instead (features, class weights,
//! labels): [`MarginSoftmax`] (ArcFace, CosFace; [`MarginHeadConfig`]) and [`Unpg`] on top of
//! either (`docs/losses.md` sections 2 and 5.4).
//!
//! ```
//! use pairwise_trainer::losses::{EmbeddingBatch, LossConfig};
//! use tch::{Device, Kind, Tensor};
//!
//! let loss = LossConfig::default().build()?;
//! let batch = EmbeddingBatch {
//!     queries: Tensor::randn([4, 8], (Kind::Float, Device::Cpu)),
//!     positives: Tensor::randn([4, 8], (Kind::Float, Device::Cpu)),
//!     negatives: Some(Tensor::randn([4, 2, 8], (Kind::Float, Device::Cpu))),
//! };
//! let value = loss.forward(&batch)?;
//! assert!(value.double_value(&[]) >= 0.0);
//! # Ok::<(), pairwise_trainer::TrainError>(())
//! ```

mod common;
mod config;
mod info_nce;
mod loss;
mod margin_softmax;
mod mw;
#[cfg(test)]
mod test_util;
mod triplet;
mod unpg;

pub use common::{cosine_sim_matrix, dot_sim_matrix, l2_normalize, reduce, Reduction, Similarity};
pub use config::LossConfig;
pub use info_nce::{InfoNce, InfoNceConfig};
pub use loss::{BatchShape, ClassificationLoss, EmbeddingBatch, EmbeddingLoss};
pub use margin_softmax::{ArcFaceConfig, CosFaceConfig, MarginHeadConfig, MarginSoftmax};
pub use mw::{Mw, MwConfig, MwReduction};
pub use triplet::{Triplet, TripletConfig, TripletDistance};
pub use unpg::{whisker_filter, Unpg, UnpgConfig};
