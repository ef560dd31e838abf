//! Face recognition: the experiment file (`task = "faces"`), the face model folder, and the
//! training loop (iResNet or EfficientNet-Lite0 backbone, ArcFace/CosFace head, optional UNPG, P×K batches).
//!
//! Training never sees an identity of the evaluation pairs: `data.exclude_pairs` removes every
//! identity a pair file names, and `held_out` identities of a source are kept apart and turned
//! into the all-pairs file `eval_pairs.tsv` of the run.

mod backbone;
mod config;
mod model_dir;
mod trainer;

pub use backbone::{EfficientNetFaceConfig, FaceBackboneConfig};
pub use config::{FaceDataConfig, FaceSchedule, FaceSource, FacesConfig};
pub use model_dir::{FaceModel, FaceModelFile, FACE_MODEL_FILE, FACE_WEIGHTS_FILE};
pub use trainer::{
    load_face_data, FaceStepReport, FaceTrainSummary, FaceTrainer, FaceTrainingData,
};
