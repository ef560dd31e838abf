//! Model architectures, one file each, with their weight loading.

mod bert;
mod conv4;
mod efficientnet_lite;
mod iresnet;
mod pooling;
mod resnet12;
mod weights;

pub use crate::losses::l2_normalize;
pub use bert::{Activation, BertConfig, BertModel};
pub use conv4::{Conv4, Conv4Config};
pub use efficientnet_lite::{
    load_imagenet_weights, EfficientNetLite0, EFFICIENTNET_LITE0_FEATURES,
    EFFICIENTNET_LITE_NORMALIZATION,
};
pub use iresnet::{IResNet, IResNetConfig};
pub use pooling::{Pooling, PoolingFile};
pub use resnet12::{ResNet12, ResNet12Config};
pub use weights::{load_safetensors, WeightsReport};
