//! Image data for few-shot and self-supervised training: Omniglot, greyscale image sets held in
//! memory, and seeded augmentations.
//!
//! * [`load_omniglot`]: the Omniglot npz archives (`images_background.npz`,
//!   `images_evaluation.npz`), resized once (area averaging, 28×28 by default), ink = 1.0, with
//!   optional 90° rotations as extra classes (Prototypical Networks).
//! * [`load_omniglot_runs`]: Lake et al.'s 20 official one-shot runs (`all_runs.zip`, PNG).
//! * [`ImageClassSet`]: square greyscale images in one flat `f32` buffer, grouped by class.
//! * [`Augmenter`]: seeded random resized crop, horizontal flip, rotation and Gaussian noise
//!   ([`AugmentConfig`]), all applied as one bilinear resampling.
//! * `npz`: the minimal `.npy`-inside-zip reader the archives need (bool, u8, i64).

mod augment;
mod class_set;
mod npz;
mod omniglot;
mod omniglot_runs;

pub use augment::{AugmentConfig, Augmenter};
pub use class_set::{rotate90, ImageClassSet};
pub use npz::{read_npy_header, NpyHeader};
pub use omniglot::{load_omniglot, OmniglotOptions, OmniglotSplit};
pub use omniglot_runs::{load_omniglot_runs, OneShotRun};
