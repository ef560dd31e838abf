//! The one home of tensor math shared by the losses (and by the encoder's normalisation):
//! normalisation, similarity matrices, masks, candidate construction, shape checks and reduction.

use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

use crate::error::{Result, TrainError};
use crate::losses::EmbeddingBatch;

/// How a vector of per-query losses becomes one scalar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reduction {
    /// The mean over queries.
    #[default]
    Mean,
    /// The sum over queries.
    Sum,
}

/// Reduces per-query losses to a scalar.
///
/// # Shapes
/// `values: [B]` → `[]`.
///
/// # Errors
/// libtorch errors.
pub fn reduce(values: &Tensor, reduction: Reduction) -> Result<Tensor> {
    Ok(match reduction {
        Reduction::Mean => values.f_mean(None::<Kind>)?,
        Reduction::Sum => values.f_sum(None::<Kind>)?,
    })
}

/// The score between a query and a candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Similarity {
    /// Cosine similarity, in `[-1, 1]`.
    #[default]
    Cosine,
    /// Plain dot product.
    Dot,
}

impl Similarity {
    /// All pairwise scores between the rows of `a` and the rows of `b`.
    ///
    /// # Shapes
    /// `a: [N, D]`, `b: [M, D]` → `[N, M]`.
    ///
    /// # Errors
    /// libtorch errors (e.g. different `D`).
    pub fn matrix(self, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        match self {
            Self::Cosine => cosine_sim_matrix(a, b),
            Self::Dot => dot_sim_matrix(a, b),
        }
    }
}

/// Divides each row by its L2 norm (at least `1e-12`, as `torch.nn.functional.normalize`).
///
/// # Shapes
/// `xs: [..., D]` → same shape.
///
/// # Errors
/// libtorch errors.
pub fn l2_normalize(xs: &Tensor) -> Result<Tensor> {
    let norms = xs
        .f_norm_scalaropt_dim(2, [-1].as_slice(), true)?
        .f_clamp_min(1e-12)?;
    Ok(xs.f_div(&norms)?)
}

/// Cosine similarity of every row of `a` with every row of `b`.
///
/// # Shapes
/// `a: [N, D]`, `b: [M, D]` → `[N, M]`.
///
/// # Errors
/// libtorch errors.
pub fn cosine_sim_matrix(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    dot_sim_matrix(&l2_normalize(a)?, &l2_normalize(b)?)
}

/// Dot product of every row of `a` with every row of `b`.
///
/// # Shapes
/// `a: [N, D]`, `b: [M, D]` → `[N, M]`.
///
/// # Errors
/// libtorch errors.
pub fn dot_sim_matrix(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    Ok(a.f_matmul(&b.f_transpose(0, 1)?)?)
}

/// Added under the square root of the few-shot Euclidean distance (`docs/losses.md` 3.2): the
/// self-distance becomes 1e-3 and the gradient stays finite.
pub(crate) const FEWSHOT_SQRT_EPS: f64 = 1e-6;

/// Squared Euclidean distance of every row of `a` to every row of `b`.
///
/// # Shapes
/// `a: [N, D]`, `b: [M, D]` → `[N, M]`.
///
/// # Errors
/// libtorch errors.
pub(crate) fn squared_euclidean_matrix(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let diff = a.f_unsqueeze(1)?.f_sub(&b.f_unsqueeze(0)?)?;
    Ok(diff
        .f_square()?
        .f_sum_dim_intlist([-1].as_slice(), false, None::<Kind>)?)
}

/// `sqrt(||a_i - b_j||^2 + 1e-6)` for every pair of rows (the few-shot losses' distance).
///
/// # Shapes
/// `a: [N, D]`, `b: [M, D]` → `[N, M]`.
///
/// # Errors
/// libtorch errors.
pub(crate) fn euclidean_matrix(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    Ok(squared_euclidean_matrix(a, b)?
        .f_add_scalar(FEWSHOT_SQRT_EPS)?
        .f_sqrt()?)
}

/// Class prototypes: the mean of each class's `shots` consecutive support rows.
///
/// # Shapes
/// `support: [ways · shots, D]` (class-major) → `[ways, D]`.
///
/// # Errors
/// libtorch errors.
pub(crate) fn prototypes(support: &Tensor, ways: i64, shots: i64) -> Result<Tensor> {
    let dim = support.size().last().copied().unwrap_or(0);
    Ok(support
        .f_reshape([ways, shots, dim])?
        .f_mean_dim([1].as_slice(), false, None::<Kind>)?)
}

/// Episode labels `[0]*per_class + [1]*per_class + …` (class-major order).
///
/// # Shapes
/// → `[ways · per_class]`, int64.
///
/// # Errors
/// libtorch errors.
pub(crate) fn class_major_labels(ways: i64, per_class: i64, device: Device) -> Result<Tensor> {
    Ok(
        // The output size given: without it torch reads the total back from the device.
        Tensor::f_arange(ways, (Kind::Int64, device))?.f_repeat_interleave_self_int(
            per_class,
            Some(0),
            Some(ways * per_class),
        )?,
    )
}

/// A boolean mask that is true exactly at `(i, i)`.
///
/// # Shapes
/// → `[rows, cols]`.
///
/// # Errors
/// libtorch errors.
pub(crate) fn diag_mask(rows: i64, cols: i64, device: Device) -> Result<Tensor> {
    let r = Tensor::f_arange(rows, (Kind::Int64, device))?.f_unsqueeze(1)?;
    let c = Tensor::f_arange(cols, (Kind::Int64, device))?.f_unsqueeze(0)?;
    Ok(r.f_eq_tensor(&c)?)
}

/// The candidate passages of a batch: all positives, then the first hard negative of every
/// query, then the second, and so on (sentence-transformers' order), so column `i < B` is the
/// positive of query `i`.
///
/// # Shapes
/// `positives: [B, D]`, `negatives: [B, H, D]` → `[B (1 + H), D]`.
///
/// # Errors
/// libtorch errors.
pub(crate) fn candidates(batch: &EmbeddingBatch) -> Result<Tensor> {
    match &batch.negatives {
        Some(negatives) if negatives.size().get(1).copied().unwrap_or(0) > 0 => {
            let dim = batch.positives.size().last().copied().unwrap_or(0);
            let flat = negatives.f_transpose(0, 1)?.f_reshape([-1, dim])?;
            Ok(Tensor::f_cat(&[&batch.positives, &flat], 0)?)
        }
        Some(_) | None => Ok(batch.positives.shallow_clone()),
    }
}

/// A boolean mask that is true at `(a, b)` when `labels[a] == labels[b]`.
///
/// # Shapes
/// `labels: [B]` → `[B, B]`.
///
/// # Errors
/// libtorch errors.
pub(crate) fn same_label_mask(labels: &Tensor) -> Result<Tensor> {
    Ok(labels
        .f_unsqueeze(1)?
        .f_eq_tensor(&labels.f_unsqueeze(0)?)?)
}

/// A boolean mask that is true strictly above the diagonal (`a < b`), so that every unordered
/// pair of rows is taken once.
///
/// # Shapes
/// → `[n, n]`.
///
/// # Errors
/// libtorch errors.
pub(crate) fn upper_triangle_mask(n: i64, device: Device) -> Result<Tensor> {
    let r = Tensor::f_arange(n, (Kind::Int64, device))?.f_unsqueeze(1)?;
    let c = Tensor::f_arange(n, (Kind::Int64, device))?.f_unsqueeze(0)?;
    Ok(r.f_lt_tensor(&c)?)
}

/// One-hot rows of `labels` over `classes` columns, in the floating-point `kind`.
///
/// # Shapes
/// `labels: [B]` → `[B, classes]`.
///
/// # Errors
/// libtorch errors (e.g. a label outside `[0, classes)`).
pub(crate) fn one_hot(labels: &Tensor, classes: i64, kind: Kind) -> Result<Tensor> {
    Ok(labels.f_one_hot(classes)?.f_to_kind(kind)?)
}

/// Checks that `labels` is a `[batch]` integer tensor with every value in `[0, classes)`.
///
/// # Errors
/// [`TrainError::InvalidInput`] naming the problem.
pub(crate) fn check_labels(labels: &Tensor, batch: i64, classes: i64) -> Result<()> {
    if labels.size() != [batch] {
        return Err(TrainError::InvalidInput(format!(
            "labels: expected shape [{batch}], got {:?}",
            labels.size()
        )));
    }
    if labels.f_kind()? != Kind::Int64 {
        return Err(TrainError::InvalidInput(format!(
            "labels: expected int64 values, got {:?}",
            labels.f_kind()?
        )));
    }
    let (min, max) = (
        labels.f_min()?.f_int64_value(&[])?,
        labels.f_max()?.f_int64_value(&[])?,
    );
    if min < 0 || max >= classes {
        return Err(TrainError::InvalidInput(format!(
            "labels: values must lie in [0, {classes}), got [{min}, {max}]"
        )));
    }
    Ok(())
}

/// Casts half-precision scores to f32 before a loss is computed on them; f32 and f64 pass
/// through unchanged.
///
/// # Errors
/// libtorch errors.
pub(crate) fn loss_precision(scores: &Tensor) -> Result<Tensor> {
    Ok(match scores.f_kind()? {
        Kind::Half | Kind::BFloat16 => scores.f_to_kind(Kind::Float)?,
        _ => scores.shallow_clone(),
    })
}

/// Checks that `tensor` has floating-point elements and the expected shape; `None` in
/// `expected` accepts any size in that dimension.
///
/// # Errors
/// [`TrainError::InvalidInput`] naming `what`, the expected and the actual shape.
pub(crate) fn expect_shape(what: &str, tensor: &Tensor, expected: &[Option<i64>]) -> Result<()> {
    let actual = tensor.size();
    let matches = actual.len() == expected.len()
        && actual
            .iter()
            .zip(expected)
            .all(|(a, e)| e.is_none_or(|e| e == *a));
    if !matches {
        let want: Vec<String> = expected
            .iter()
            .map(|e| e.map_or_else(|| "_".to_owned(), |e| e.to_string()))
            .collect();
        return Err(TrainError::InvalidInput(format!(
            "{what}: expected shape [{}], got {actual:?}",
            want.join(", ")
        )));
    }
    let kind = tensor.f_kind()?;
    if !matches!(
        kind,
        Kind::Half | Kind::BFloat16 | Kind::Float | Kind::Double
    ) {
        return Err(TrainError::InvalidInput(format!(
            "{what}: expected floating-point values, got {kind:?}"
        )));
    }
    Ok(())
}

/// Rejects a parameter that is not finite and positive; `what` names it, e.g. `"mw: temperature"`.
///
/// # Errors
/// [`TrainError::InvalidInput`] with the name and the value.
pub(crate) fn require_finite_positive(what: &str, value: f64) -> Result<()> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(TrainError::InvalidInput(format!(
            "{what} must be finite and positive, got {value}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::test_util::{assert_close, values};

    #[test]
    fn normalised_rows_have_unit_norm() {
        let xs = Tensor::from_slice(&[3.0f64, 4.0, 0.0, 0.0]).view([2, 2]);
        assert_eq!(
            values(&l2_normalize(&xs).unwrap()),
            vec![0.6, 0.8, 0.0, 0.0]
        );
    }

    #[test]
    fn similarity_matrices() {
        let a = Tensor::from_slice(&[1.0f64, 0.0, 0.0, 2.0]).view([2, 2]);
        let b = Tensor::from_slice(&[3.0f64, 4.0, 0.0, 1.0, 1.0, 0.0]).view([3, 2]);
        let dot = values(&dot_sim_matrix(&a, &b).unwrap());
        assert_eq!(dot, vec![3.0, 0.0, 1.0, 8.0, 2.0, 0.0]);
        let cos = values(&cosine_sim_matrix(&a, &b).unwrap());
        for (got, want) in cos.iter().zip([0.6, 0.0, 1.0, 0.8, 1.0, 0.0]) {
            assert_close(*got, want, 1e-12);
        }
    }

    #[test]
    fn diag_mask_marks_the_diagonal() {
        let mask = diag_mask(2, 3, Device::Cpu).unwrap();
        let got = values(&mask.to_kind(Kind::Double));
        assert_eq!(got, vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0]);
    }

    #[test]
    fn candidates_follow_sentence_transformers_order() {
        // B = 2, H = 2, D = 1: positives p1 = 1, p2 = 2; negatives n11 = 11, n12 = 12, n21 = 21, n22 = 22.
        let batch = EmbeddingBatch {
            queries: Tensor::zeros([2, 1], (Kind::Double, Device::Cpu)),
            positives: Tensor::from_slice(&[1.0f64, 2.0]).view([2, 1]),
            negatives: Some(Tensor::from_slice(&[11.0f64, 12.0, 21.0, 22.0]).view([2, 2, 1])),
        };
        let got = values(&candidates(&batch).unwrap());
        assert_eq!(got, vec![1.0, 2.0, 11.0, 21.0, 12.0, 22.0]);
    }

    #[test]
    fn fewshot_distances_prototypes_and_labels() {
        let a = Tensor::from_slice(&[0.0f64, 0.0, 3.0, 4.0]).view([2, 2]);
        let d2 = values(&squared_euclidean_matrix(&a, &a).unwrap());
        assert_eq!(d2, vec![0.0, 25.0, 25.0, 0.0]);
        let d = values(&euclidean_matrix(&a, &a).unwrap());
        assert_close(d[0], 1e-3, 1e-9);
        assert_close(d[1], (25.0f64 + 1e-6).sqrt(), 1e-12);
        let support = Tensor::from_slice(&[0.0f64, 2.0, 4.0, 6.0, 1.0, 1.0, 3.0, 3.0]).view([4, 2]);
        let protos = values(&prototypes(&support, 2, 2).unwrap());
        assert_eq!(protos, vec![2.0, 4.0, 2.0, 2.0]);
        let labels = class_major_labels(3, 2, Device::Cpu).unwrap();
        assert_eq!(
            Vec::<i64>::try_from(labels).unwrap(),
            vec![0, 0, 1, 1, 2, 2]
        );
    }

    #[test]
    fn reductions() {
        let xs = Tensor::from_slice(&[1.0f64, 2.0, 6.0]);
        assert_close(
            reduce(&xs, Reduction::Mean).unwrap().double_value(&[]),
            3.0,
            1e-12,
        );
        assert_close(
            reduce(&xs, Reduction::Sum).unwrap().double_value(&[]),
            9.0,
            1e-12,
        );
    }

    #[test]
    fn expect_shape_reports_what_and_shapes() {
        let xs = Tensor::zeros([2, 3], (Kind::Float, Device::Cpu));
        assert!(expect_shape("xs", &xs, &[Some(2), None]).is_ok());
        let err = expect_shape("xs", &xs, &[Some(2), Some(4)]).unwrap_err();
        assert!(
            matches!(&err, TrainError::InvalidInput(m) if m.contains("xs") && m.contains("[2, 4]"))
        );
        let ints = Tensor::zeros([2], (Kind::Int64, Device::Cpu));
        assert!(matches!(
            expect_shape("ids", &ints, &[None]),
            Err(TrainError::InvalidInput(_))
        ));
    }
}
