//! Learning-rate schedules, indexed by optimiser step.

use std::fmt::Debug;

use serde::{Deserialize, Serialize};

/// A learning rate per step.
pub trait LrSchedule: Send + Debug {
    /// The learning rate for the update with 0-based index `step` (the number of updates
    /// already applied), as HF's `LambdaLR` gives it before each `optimizer.step()`.
    fn lr(&self, step: u64) -> f64;
}

/// The same learning rate at every step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Constant {
    /// The learning rate.
    pub lr: f64,
}

impl LrSchedule for Constant {
    fn lr(&self, _step: u64) -> f64 {
        self.lr
    }
}

/// HF `get_linear_schedule_with_warmup`: linear from 0 to `peak_lr` over `warmup_steps`, then
/// linear down to 0 at `total_steps` (and 0 after it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WarmupLinear {
    /// The learning rate at the end of warm-up.
    pub peak_lr: f64,
    /// Steps of linear warm-up (0: start at `peak_lr`).
    pub warmup_steps: u64,
    /// The step at which the learning rate reaches 0.
    pub total_steps: u64,
}

impl LrSchedule for WarmupLinear {
    #[expect(clippy::cast_precision_loss, reason = "step counts are far below 2^53")]
    fn lr(&self, step: u64) -> f64 {
        let factor = if step < self.warmup_steps {
            step as f64 / self.warmup_steps.max(1) as f64
        } else {
            let left = self.total_steps.saturating_sub(step) as f64;
            let span = self.total_steps.saturating_sub(self.warmup_steps).max(1) as f64;
            (left / span).max(0.0)
        };
        self.peak_lr * factor
    }
}

/// The schedule as written in an experiment config; the peak learning rate comes from the
/// optimiser config and the total step count from the training run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ScheduleConfig {
    /// [`Constant`].
    Constant,
    /// [`WarmupLinear`] with warm-up over a fraction of the run.
    WarmupLinear {
        /// Fraction of the total steps spent warming up, in `[0, 1]` (sentence-transformers
        /// examples use 0.1).
        #[serde(default = "default_warmup_ratio")]
        warmup_ratio: f64,
    },
}

/// The default warm-up fraction.
fn default_warmup_ratio() -> f64 {
    0.1
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        Self::WarmupLinear {
            warmup_ratio: default_warmup_ratio(),
        }
    }
}

impl ScheduleConfig {
    /// Checks that every value is usable.
    ///
    /// # Errors
    /// A message naming the offending field.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            Self::Constant => Ok(()),
            Self::WarmupLinear { warmup_ratio } if (0.0..=1.0).contains(warmup_ratio) => Ok(()),
            Self::WarmupLinear { warmup_ratio } => Err(format!(
                "warmup_ratio must be in [0, 1], got {warmup_ratio}"
            )),
        }
    }

    /// The schedule for a run of `total_steps` updates peaking at `peak_lr`; warm-up steps
    /// are `ceil(warmup_ratio · total_steps)`, as HF `get_warmup_steps` does.
    #[expect(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "step counts are far below 2^53 and the ratio is in [0, 1]"
    )]
    pub fn build(&self, peak_lr: f64, total_steps: u64) -> Box<dyn LrSchedule> {
        match self {
            Self::Constant => Box::new(Constant { lr: peak_lr }),
            Self::WarmupLinear { warmup_ratio } => Box::new(WarmupLinear {
                peak_lr,
                warmup_steps: (warmup_ratio.clamp(0.0, 1.0) * total_steps as f64).ceil() as u64,
                total_steps,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Constant, LrSchedule, ScheduleConfig, WarmupLinear};

    #[test]
    fn warmup_linear_matches_hf() {
        // HF get_linear_schedule_with_warmup(warmup=10, total=110), base lr 1e-3.
        let s = WarmupLinear {
            peak_lr: 1e-3,
            warmup_steps: 10,
            total_steps: 110,
        };
        let at = |step| s.lr(step);
        assert_eq!(at(0), 0.0);
        assert!((at(5) - 5e-4).abs() < 1e-15);
        assert!((at(10) - 1e-3).abs() < 1e-15);
        assert!((at(60) - 5e-4).abs() < 1e-15);
        assert!((at(109) - 1e-5).abs() < 1e-15);
        assert_eq!(at(110), 0.0);
        assert_eq!(at(1000), 0.0);
        let no_warmup = WarmupLinear {
            warmup_steps: 0,
            ..s
        };
        assert_eq!(no_warmup.lr(0), 1e-3);
        assert_eq!(Constant { lr: 0.5 }.lr(7), 0.5);
    }

    #[test]
    fn config_builds_and_rejects_typos() {
        let c: ScheduleConfig = serde_json::from_str(r#"{"type": "warmup_linear"}"#).unwrap();
        assert_eq!(c, ScheduleConfig::default());
        let s = c.build(1e-3, 95);
        // ceil(0.1 · 95) = 10 warm-up steps.
        assert!((s.lr(5) - 5e-4).abs() < 1e-15);
        assert!((s.lr(10) - 1e-3).abs() < 1e-15);
        let c: ScheduleConfig = serde_json::from_str(r#"{"type": "constant"}"#).unwrap();
        assert_eq!(c.build(2e-5, 10).lr(3), 2e-5);
        let typo = r#"{"type": "warmup_linear", "warmup_ration": 0.2}"#;
        assert!(serde_json::from_str::<ScheduleConfig>(typo).is_err());
        let bad = ScheduleConfig::WarmupLinear { warmup_ratio: 1.5 };
        assert!(bad.validate().unwrap_err().contains("warmup_ratio"));
    }
}
