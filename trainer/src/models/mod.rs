//! Model architectures, one file each, with their weight loading.

mod bert;
mod iresnet;
mod pooling;
mod weights;

pub use crate::losses::l2_normalize;
pub use bert::{Activation, BertConfig, BertModel};
pub use iresnet::{IResNet, IResNetConfig};
pub use pooling::{Pooling, PoolingFile};
pub use weights::{load_safetensors, WeightsReport};
