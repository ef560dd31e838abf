//! Typed errors for the evaluation crate, plus the shared input checks.

use thiserror::Error;

/// Result alias used throughout `pairwise-eval`.
pub type Result<T, E = EvalError> = std::result::Result<T, E>;

/// Everything that can go wrong when computing a metric.
///
/// Metrics that are merely *undefined* for the given input (for example an
/// AUC with an empty class) are not errors: they are reported as `Ok(None)`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EvalError {
    /// Two inputs that must be paired element-wise have different lengths.
    #[error("length mismatch: {left_name} has {left} elements but {right_name} has {right}")]
    LengthMismatch {
        /// Name of the first input.
        left_name: &'static str,
        /// Length of the first input.
        left: usize,
        /// Name of the second input.
        right_name: &'static str,
        /// Length of the second input.
        right: usize,
    },
    /// A score (or value) is NaN, which has no place in a ranking.
    #[error("NaN in {name} at index {index}")]
    NanValue {
        /// Name of the input holding the NaN.
        name: &'static str,
        /// Position of the first NaN.
        index: usize,
    },
    /// An index points outside the slice it refers to.
    #[error("index {index} out of range for {name} of length {len}")]
    IndexOutOfRange {
        /// Name of the indexed input.
        name: &'static str,
        /// The offending index.
        index: usize,
        /// Length of the indexed input.
        len: usize,
    },
    /// An input that must hold at least one value is empty.
    #[error("{name} is empty")]
    Empty {
        /// Name of the empty input.
        name: &'static str,
    },
    /// A summary needs both classes, but one of them has no sample.
    #[error("both classes are needed, got {n_positives} positives and {n_negatives} negatives")]
    SingleClass {
        /// Number of positive samples.
        n_positives: usize,
        /// Number of negative samples.
        n_negatives: usize,
    },
    /// A value is infinite where only finite values can be placed (histogram bins).
    #[error("infinite value in {name} at index {index}")]
    Infinite {
        /// Name of the input holding the infinity.
        name: &'static str,
        /// Position of the first infinite value.
        index: usize,
    },
    /// An option is outside its valid range.
    #[error("invalid option {name}: {reason}")]
    InvalidOption {
        /// Name of the option.
        name: &'static str,
        /// What is wrong with its value.
        reason: String,
    },
}

/// Fails with [`EvalError::LengthMismatch`] unless both lengths agree.
pub(crate) fn ensure_same_len(
    left_name: &'static str,
    left: usize,
    right_name: &'static str,
    right: usize,
) -> Result<()> {
    if left == right {
        Ok(())
    } else {
        Err(EvalError::LengthMismatch {
            left_name,
            left,
            right_name,
            right,
        })
    }
}

/// Fails with [`EvalError::NanValue`] at the first NaN in `values`.
pub(crate) fn ensure_no_nan(name: &'static str, values: &[f64]) -> Result<()> {
    match values.iter().position(|v| v.is_nan()) {
        Some(index) => Err(EvalError::NanValue { name, index }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_len_ok_and_mismatch() {
        assert!(ensure_same_len("a", 3, "b", 3).is_ok());
        let err = ensure_same_len("labels", 2, "scores", 3).unwrap_err();
        assert_eq!(
            err.to_string(),
            "length mismatch: labels has 2 elements but scores has 3"
        );
    }

    #[test]
    fn nan_is_reported_with_its_index() {
        assert!(ensure_no_nan("s", &[1.0, f64::INFINITY]).is_ok());
        assert_eq!(
            ensure_no_nan("s", &[1.0, f64::NAN, f64::NAN]),
            Err(EvalError::NanValue {
                name: "s",
                index: 1
            })
        );
    }
}
