//! Model architectures, one file each, with their weight loading.

mod bert;
mod pooling;
mod weights;

pub use bert::{Activation, BertConfig, BertModel};
pub use pooling::{l2_normalize, Pooling, PoolingFile};
pub use weights::{load_safetensors, WeightsReport};
