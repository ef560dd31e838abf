//! Correlation statistics and the shared average-rank helper.

use crate::error::{ensure_no_nan, ensure_same_len, Result};

/// 1-based ranks of `values`, with tied values sharing the average of the
/// ranks they span (the "fractional" ranking used by Mann-Whitney and
/// Spearman).
///
/// Sorting uses [`f64::total_cmp`], then ties are grouped with `==`, so
/// `-0.0` and `0.0` tie. Callers are expected to reject NaN beforehand (the
/// public metrics of this crate do); should one slip through, it never panics:
/// each NaN compares unequal to everything and gets a rank of its own.
/// Runs in `O(n log n)`.
///
/// ```
/// use pairwise_eval::average_ranks;
/// assert_eq!(average_ranks(&[10.0, 30.0, 20.0, 30.0]), vec![1.0, 3.5, 2.0, 3.5]);
/// ```
pub fn average_ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_unstable_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let value = values[order[start]];
        let end = start
            + order[start..]
                .iter()
                .take_while(|&&i| values[i] == value)
                .count()
                .max(1);
        // Positions start..end (0-based) hold ranks start+1..=end; their mean:
        let rank = (start + 1 + end) as f64 / 2.0;
        for &i in &order[start..end] {
            ranks[i] = rank;
        }
        start = end;
    }
    ranks
}

/// Pearson correlation coefficient of two paired samples.
///
/// Errors on a length mismatch or a NaN. Returns `Ok(None)` when the
/// coefficient is undefined: fewer than two pairs, or either side constant.
pub fn pearson(a: &[f64], b: &[f64]) -> Result<Option<f64>> {
    ensure_same_len("a", a.len(), "b", b.len())?;
    ensure_no_nan("a", a)?;
    ensure_no_nan("b", b)?;
    Ok(pearson_unchecked(a, b))
}

/// Spearman rank correlation: Pearson correlation of the average ranks, so
/// ties are handled exactly like `scipy.stats.spearmanr`.
///
/// Errors on a length mismatch or a NaN. Returns `Ok(None)` when either side
/// is constant or there are fewer than two pairs.
pub fn spearman(a: &[f64], b: &[f64]) -> Result<Option<f64>> {
    ensure_same_len("a", a.len(), "b", b.len())?;
    ensure_no_nan("a", a)?;
    ensure_no_nan("b", b)?;
    Ok(pearson_unchecked(&average_ranks(a), &average_ranks(b)))
}

/// Two-pass Pearson on validated input of equal length.
fn pearson_unchecked(a: &[f64], b: &[f64]) -> Option<f64> {
    if a.len() < 2 || is_constant(a) || is_constant(b) {
        return None;
    }
    let n = a.len() as f64;
    let mean_a = a.iter().sum::<f64>() / n;
    let mean_b = b.iter().sum::<f64>() / n;
    let (mut cov, mut var_a, mut var_b) = (0.0, 0.0, 0.0);
    for (&x, &y) in a.iter().zip(b) {
        let (dx, dy) = (x - mean_a, y - mean_b);
        cov += dx * dy;
        var_a += dx * dx;
        var_b += dy * dy;
    }
    let denom = (var_a * var_b).sqrt();
    if denom > 0.0 && denom.is_finite() {
        Some((cov / denom).clamp(-1.0, 1.0))
    } else {
        None
    }
}

/// True when every element equals the first (vacuously true when empty).
fn is_constant(values: &[f64]) -> bool {
    values
        .first()
        .is_none_or(|&first| values.iter().all(|&v| v == first))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::EvalError;
    use proptest::prelude::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn ranks_without_and_with_ties() {
        assert_eq!(average_ranks(&[]), Vec::<f64>::new());
        assert_eq!(average_ranks(&[3.0, 1.0, 2.0]), vec![3.0, 1.0, 2.0]);
        // 0.2 -> 1; the three 0.6 span ranks 2..=4 -> 3; -0.0 == 0.0 tie.
        assert_eq!(
            average_ranks(&[0.6, 0.2, 0.6, 0.6, 0.9]),
            vec![3.0, 1.0, 3.0, 3.0, 5.0]
        );
        assert_eq!(average_ranks(&[0.0, -0.0]), vec![1.5, 1.5]);
    }

    #[test]
    fn spearman_golden_with_ties() {
        // a ranks: 1 2 3 4 5; b = [5,6,7,8,7] ranks: 1 2 3.5 5 3.5.
        // Centred (mean 3): a: -2 -1 0 1 2; b: -2 -1 0.5 2 0.5.
        // cov = 4+1+0+2+1 = 8; ssa = 10; ssb = 4+1+0.25+4+0.25 = 9.5.
        // rho = 8 / sqrt(95) = 0.8207826816681233 (scipy.stats.spearmanr).
        let rho = spearman(&[1.0, 2.0, 3.0, 4.0, 5.0], &[5.0, 6.0, 7.0, 8.0, 7.0])
            .unwrap()
            .unwrap();
        assert!(close(rho, 0.8207826816681233), "{rho}");
        assert!(close(rho, 8.0 / 95f64.sqrt()));
    }

    #[test]
    fn spearman_ties_on_both_sides() {
        // a = [1,1,2,3] ranks 1.5 1.5 3 4 (mean 2.5): -1 -1 0.5 1.5, ss = 4.5
        // b = [2,1,1,3] ranks 3 1.5 1.5 4:             0.5 -1 -1 1.5, ss = 4.5
        // cov = -0.5 + 1 - 0.5 + 2.25 = 2.25 -> rho = 2.25/4.5 = 0.5
        let rho = spearman(&[1.0, 1.0, 2.0, 3.0], &[2.0, 1.0, 1.0, 3.0])
            .unwrap()
            .unwrap();
        assert!(close(rho, 0.5), "{rho}");
    }

    #[test]
    fn pearson_golden() {
        // x = [1,2,3], y = [2,4,7]: centred x -1 0 1, y -2.333 -0.333 2.667
        // cov = 2.333+2.667 = 5, ssx = 2, ssy = 5.444+0.111+7.111 = 12.667
        // r = 5 / sqrt(25.333) = 0.9933992677987828
        let r = pearson(&[1.0, 2.0, 3.0], &[2.0, 4.0, 7.0])
            .unwrap()
            .unwrap();
        assert!(close(r, 5.0 / (2.0f64 * 38.0 / 3.0).sqrt()), "{r}");
        let r = pearson(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0])
            .unwrap()
            .unwrap();
        assert!(close(r, -1.0));
    }

    #[test]
    fn undefined_and_invalid_inputs() {
        assert_eq!(spearman(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]), Ok(None));
        assert_eq!(pearson(&[1.0, 2.0], &[0.1, 0.1]), Ok(None));
        assert_eq!(pearson(&[1.0], &[2.0]), Ok(None));
        assert_eq!(spearman(&[], &[]), Ok(None));
        assert!(matches!(
            spearman(&[1.0], &[1.0, 2.0]),
            Err(EvalError::LengthMismatch { .. })
        ));
        assert_eq!(
            pearson(&[1.0, 2.0], &[0.0, f64::NAN]),
            Err(EvalError::NanValue {
                name: "b",
                index: 1
            })
        );
    }

    proptest! {
        #[test]
        fn ranks_sum_to_triangle_number(v in prop::collection::vec(-5i32..5, 0..50)) {
            let v: Vec<f64> = v.into_iter().map(f64::from).collect();
            let n = v.len() as f64;
            let sum: f64 = average_ranks(&v).iter().sum();
            prop_assert!((sum - n * (n + 1.0) / 2.0).abs() < 1e-9);
        }

        #[test]
        fn spearman_is_bounded_symmetric_and_rank_invariant(
            pairs in prop::collection::vec((-5i32..5, -5i32..5), 2..40)
        ) {
            let a: Vec<f64> = pairs.iter().map(|p| f64::from(p.0)).collect();
            let b: Vec<f64> = pairs.iter().map(|p| f64::from(p.1)).collect();
            let rho = spearman(&a, &b).unwrap();
            prop_assert_eq!(rho.map(|r| (r * 1e9).round()),
                spearman(&b, &a).unwrap().map(|r| (r * 1e9).round()));
            let a3: Vec<f64> = a.iter().map(|x| (x / 3.0).exp()).collect();
            let rho3 = spearman(&a3, &b).unwrap();
            prop_assert_eq!(rho.is_some(), rho3.is_some());
            if let (Some(r), Some(r3)) = (rho, rho3) {
                prop_assert!((-1.0..=1.0).contains(&r));
                prop_assert!((r - r3).abs() < 1e-9);
            }
        }
    }
}
