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
//! Few-shot losses work on an episode instead ([`EpisodeEmbeddings`]: class-major supports,
//! labelled queries) behind [`EpisodeLoss`]; [`EpisodeLossConfig`] averages the chosen terms:
//!
//! | loss | term | reference |
//! |---|---|---|
//! | [`ProtoNet`] | `cross` | Snell et al. 2017 |
//! | [`ProtoTriplet`] | `proto_triplet` | arXiv 2305.09062 (code-faithful) |
//! | [`Icnn`] | `icnn` | arXiv 2305.09062 (`modified_score`, `drop_self` choice) |
//!
//! Self-supervised objectives on two augmented views: [`ContrastiveHeads`] (SimCLR InfoNCE or
//! AMCL with several heads and adaptive temperatures, arXiv 2310.05615).
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

mod amcl;
pub(crate) mod common;
mod config;
mod episode;
mod episode_config;
mod icnn;
mod info_nce;
mod loss;
mod margin_softmax;
mod mw;
mod proto_triplet;
mod protonet;
#[cfg(test)]
mod test_util;
mod triplet;
mod unpg;

pub use amcl::{
    amcl_head_terms, amcl_omega, ContrastiveConfig, ContrastiveHeads, ContrastiveObjective,
};
pub use common::{cosine_sim_matrix, dot_sim_matrix, l2_normalize, reduce, Reduction, Similarity};
pub use config::LossConfig;
pub use episode::{EpisodeEmbeddings, EpisodeLoss};
pub use episode_config::{EpisodeLossConfig, EpisodeObjective, EpisodeTerm};
pub use icnn::{icnn_score, Icnn, IcnnConfig, IcnnScore, IcnnSet};
pub use info_nce::{InfoNce, InfoNceConfig};
pub use loss::{BatchShape, ClassificationLoss, EmbeddingBatch, EmbeddingLoss};
pub use margin_softmax::{ArcFaceConfig, CosFaceConfig, MarginHeadConfig, MarginSoftmax};
pub use mw::{Mw, MwConfig, MwReduction};
pub use proto_triplet::{ProtoTriplet, ProtoTripletConfig};
pub use protonet::{ProtoNet, ProtoNetConfig};
pub use triplet::{Triplet, TripletConfig, TripletDistance};
pub use unpg::{whisker_filter, Unpg, UnpgConfig};
