//! Which device and precision a model runs on.

use std::fmt;
use std::str::FromStr;

use tch::{Device, Kind};

use crate::error::{Result, TrainError};

/// The device a user asks for: `auto` (CUDA when present, else CPU), `cpu`, `cuda` or `cuda:N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceChoice {
    /// The first CUDA device when one is available, else the CPU.
    #[default]
    Auto,
    /// The CPU.
    Cpu,
    /// The CUDA device with this index.
    Cuda(usize),
}

impl DeviceChoice {
    /// Resolves the choice to a libtorch device.
    ///
    /// # Errors
    /// [`TrainError::Device`] when CUDA is asked for but not available, or the index is out of
    /// range.
    pub fn resolve(self) -> Result<Device> {
        match self {
            Self::Auto => Ok(Device::cuda_if_available()),
            Self::Cpu => Ok(Device::Cpu),
            Self::Cuda(index) => {
                let count = tch::Cuda::device_count();
                if count <= 0 {
                    return Err(TrainError::Device(
                        "CUDA was asked for, but libtorch sees no CUDA device".to_owned(),
                    ));
                }
                if i64::try_from(index).map_or(true, |i| i >= count) {
                    return Err(TrainError::Device(format!(
                        "cuda:{index} was asked for, but there are only {count} CUDA devices"
                    )));
                }
                Ok(Device::Cuda(index))
            }
        }
    }
}

impl FromStr for DeviceChoice {
    type Err = TrainError;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(Self::Auto),
            "cpu" => Ok(Self::Cpu),
            "cuda" | "gpu" => Ok(Self::Cuda(0)),
            other => other
                .strip_prefix("cuda:")
                .and_then(|i| i.parse().ok())
                .map(Self::Cuda)
                .ok_or_else(|| {
                    TrainError::Device(format!(
                        "unknown device {s:?}; expected auto, cpu, cuda or cuda:N"
                    ))
                }),
        }
    }
}

impl fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Auto => f.write_str("auto"),
            Self::Cpu => f.write_str("cpu"),
            Self::Cuda(i) => write!(f, "cuda:{i}"),
        }
    }
}

/// The floating-point precision of a model's weights and activations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Precision {
    /// 32-bit floats everywhere.
    #[default]
    F32,
    /// bfloat16 weights and activations; pooling and normalisation in f32.
    Bf16,
}

impl Precision {
    /// The libtorch kind of this precision.
    pub fn kind(self) -> Kind {
        match self {
            Self::F32 => Kind::Float,
            Self::Bf16 => Kind::BFloat16,
        }
    }
}

impl FromStr for Precision {
    type Err = TrainError;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "f32" | "fp32" | "float32" => Ok(Self::F32),
            "bf16" | "bfloat16" => Ok(Self::Bf16),
            _ => Err(TrainError::Device(format!(
                "unknown precision {s:?}; expected f32 or bf16"
            ))),
        }
    }
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::F32 => "f32",
            Self::Bf16 => "bf16",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_device_names() {
        assert_eq!("auto".parse::<DeviceChoice>().unwrap(), DeviceChoice::Auto);
        assert_eq!("CPU".parse::<DeviceChoice>().unwrap(), DeviceChoice::Cpu);
        assert_eq!(
            "cuda".parse::<DeviceChoice>().unwrap(),
            DeviceChoice::Cuda(0)
        );
        assert_eq!(
            "cuda:3".parse::<DeviceChoice>().unwrap(),
            DeviceChoice::Cuda(3)
        );
        assert!("tpu".parse::<DeviceChoice>().is_err());
        assert!("cuda:x".parse::<DeviceChoice>().is_err());
    }

    #[test]
    fn cpu_always_resolves() {
        assert_eq!(DeviceChoice::Cpu.resolve().unwrap(), Device::Cpu);
    }

    #[test]
    fn parses_precisions() {
        assert_eq!("bf16".parse::<Precision>().unwrap(), Precision::Bf16);
        assert_eq!("fp32".parse::<Precision>().unwrap(), Precision::F32);
        assert!("int8".parse::<Precision>().is_err());
    }
}
