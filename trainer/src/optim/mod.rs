//! Optimisation: AdamW with savable state, learning-rate schedules and gradient clipping.
//!
//! tch's own optimisers cannot save their state, so [`AdamW`] keeps its moments in our own
//! tensors and writes them with [`AdamW::save_state`] (style guide 2.5).

mod adamw;
mod clip;
mod packed;
mod schedule;

pub use adamw::{AdamW, AdamWConfig};
pub use clip::clip_grad_norm;
pub use schedule::{Constant, LrSchedule, ScheduleConfig, WarmupLinear};

#[cfg(test)]
mod tests;
