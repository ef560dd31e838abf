//! Few-shot classification metrics: nearest-prototype accuracy of one episode, and the mean
//! accuracy with its 95% confidence interval over many episodes (`1.96 · std / √n`, the
//! convention of Prototypical Networks and of the SuSana code).

use serde::Serialize;

use crate::error::{ensure_no_nan, ensure_same_len, EvalError, Result};

/// Mean episode accuracy and its 95% confidence half-width, both in percent.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FewShotSummary {
    /// Mean accuracy over episodes, in percent.
    pub accuracy: f64,
    /// `1.96 · std / √episodes`, in percent (population standard deviation, as `numpy.std`).
    pub ci95: f64,
    /// Standard deviation of the episode accuracies, in percent.
    pub std: f64,
    /// Number of episodes.
    pub episodes: usize,
}

/// Summarises per-episode accuracies (fractions in `[0, 1]`); `None` for no episodes.
///
/// # Errors
/// [`EvalError::NanValue`] for a NaN accuracy.
#[expect(
    clippy::cast_precision_loss,
    reason = "episode counts are far below 2^53"
)]
pub fn summarize_episodes(accuracies: &[f64]) -> Result<Option<FewShotSummary>> {
    ensure_no_nan("accuracies", accuracies)?;
    if accuracies.is_empty() {
        return Ok(None);
    }
    let n = accuracies.len() as f64;
    let mean = accuracies.iter().sum::<f64>() / n;
    let var = accuracies.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / n;
    let std = var.sqrt();
    Ok(Some(FewShotSummary {
        accuracy: 100.0 * mean,
        ci95: 100.0 * 1.96 * std / n.sqrt(),
        std: 100.0 * std,
        episodes: accuracies.len(),
    }))
}

/// The fraction of queries whose nearest prototype (squared Euclidean distance to the mean of
/// each class's supports) is their own class.
///
/// `embeddings` holds `dim`-wide rows; `support` (class-major, `ways × shots` rows) and `query`
/// (class-major, the same number per class) index into them.
///
/// # Errors
/// [`EvalError::LengthMismatch`] when the counts disagree, [`EvalError::IndexOutOfRange`] for
/// a row index past the embeddings, [`EvalError::NanValue`] for a NaN embedding used.
#[expect(clippy::cast_precision_loss, reason = "episode sizes are small")]
pub fn nearest_prototype_accuracy(
    embeddings: &[f32],
    dim: usize,
    support: &[usize],
    query: &[usize],
    ways: usize,
    shots: usize,
) -> Result<f64> {
    ensure_same_len("support", support.len(), "ways × shots", ways * shots)?;
    if dim == 0 || !embeddings.len().is_multiple_of(dim) {
        return Err(EvalError::LengthMismatch {
            left_name: "embeddings",
            left: embeddings.len(),
            right_name: "a multiple of dim",
            right: dim,
        });
    }
    if ways == 0 || query.is_empty() || !query.len().is_multiple_of(ways) {
        return Err(EvalError::LengthMismatch {
            left_name: "query",
            left: query.len(),
            right_name: "a positive multiple of ways",
            right: ways,
        });
    }
    let rows = embeddings.len() / dim;
    let row = |name: &'static str, index: usize| -> Result<&[f32]> {
        let r =
            embeddings
                .get(index * dim..(index + 1) * dim)
                .ok_or(EvalError::IndexOutOfRange {
                    name,
                    index,
                    len: rows,
                })?;
        match r.iter().position(|v| v.is_nan()) {
            Some(_) => Err(EvalError::NanValue {
                name: "embeddings",
                index,
            }),
            None => Ok(r),
        }
    };
    let mut prototypes = vec![0.0f64; ways * dim];
    for (i, &s) in support.iter().enumerate() {
        let class = i / shots;
        for (p, &v) in prototypes[class * dim..(class + 1) * dim]
            .iter_mut()
            .zip(row("support", s)?)
        {
            *p += f64::from(v) / shots as f64;
        }
    }
    let per_class = query.len() / ways;
    let mut correct = 0usize;
    for (j, &q) in query.iter().enumerate() {
        let x = row("query", q)?;
        let mut best = (f64::INFINITY, usize::MAX);
        for class in 0..ways {
            let d: f64 = prototypes[class * dim..(class + 1) * dim]
                .iter()
                .zip(x)
                .map(|(p, &v)| (p - f64::from(v)).powi(2))
                .sum();
            if d < best.0 {
                best = (d, class);
            }
        }
        correct += usize::from(best.1 == j / per_class);
    }
    Ok(correct as f64 / query.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_matches_numpy() {
        // np.mean([1, .5, .75, 1]) = .8125, np.std = 0.2067, 1.96 * std / 2 = 0.2026
        let s = summarize_episodes(&[1.0, 0.5, 0.75, 1.0]).unwrap().unwrap();
        assert!((s.accuracy - 81.25).abs() < 1e-9);
        assert!((s.std - 20.728_6).abs() < 1e-3, "{}", s.std);
        assert!((s.ci95 - 20.314).abs() < 1e-3, "{}", s.ci95);
        assert_eq!(s.episodes, 4);
        assert_eq!(summarize_episodes(&[]).unwrap(), None);
        assert!(summarize_episodes(&[f64::NAN]).is_err());
    }

    #[test]
    fn nearest_prototype_classifies_by_class_means() {
        // 2-way 2-shot in 1-D: class 0 supports at 0 and 2 (prototype 1), class 1 at 10 and 12
        // (prototype 11). Queries: 0.5 and 7 for class 0 (7 is nearer 11: wrong), 9 and 12 for 1.
        let emb = [0.0f32, 2.0, 10.0, 12.0, 0.5, 7.0, 9.0, 12.0];
        let acc = nearest_prototype_accuracy(&emb, 1, &[0, 1, 2, 3], &[4, 5, 6, 7], 2, 2).unwrap();
        assert!((acc - 0.75).abs() < 1e-12);
    }

    #[test]
    fn bad_inputs_are_errors() {
        let emb = [0.0f32, 1.0, 2.0, 3.0];
        assert!(matches!(
            nearest_prototype_accuracy(&emb, 1, &[0, 1], &[2, 3], 2, 2),
            Err(EvalError::LengthMismatch { .. })
        ));
        assert!(matches!(
            nearest_prototype_accuracy(&emb, 1, &[0, 1], &[2, 9], 2, 1),
            Err(EvalError::IndexOutOfRange { index: 9, .. })
        ));
        assert!(matches!(
            nearest_prototype_accuracy(&emb, 1, &[0, 1], &[2], 2, 1),
            Err(EvalError::LengthMismatch { .. })
        ));
        let nan = [0.0f32, f32::NAN, 2.0, 3.0];
        assert!(matches!(
            nearest_prototype_accuracy(&nan, 1, &[0, 1], &[2, 3], 2, 1),
            Err(EvalError::NanValue { .. })
        ));
    }
}
