//! Helpers shared by the loss tests: tolerant comparison, batches from plain numbers and a
//! finite-difference gradient check.

use tch::{Device, Kind, Tensor};

use crate::error::TrainError;
use crate::losses::{
    ClassificationLoss, EmbeddingBatch, EmbeddingLoss, EpisodeEmbeddings, EpisodeLoss,
};

/// Asserts `|actual - expected| <= rel * max(|expected|, 1e-12)`.
#[track_caller]
pub(crate) fn assert_close(actual: f64, expected: f64, rel: f64) {
    let tol = rel * expected.abs().max(1e-12);
    assert!(
        (actual - expected).abs() <= tol,
        "got {actual}, expected {expected} (relative tolerance {rel})"
    );
}

/// Compares with a value of `docs/losses.md`: relative tolerance 1e-5, but at least half a unit
/// of the sixth decimal to which the doc rounds.
#[track_caller]
pub(crate) fn assert_doc(actual: f64, expected: f64) {
    let tol = (1e-5 * expected.abs()).max(5e-7);
    assert!(
        (actual - expected).abs() <= tol,
        "got {actual}, doc value {expected} (tolerance {tol})"
    );
}

/// All elements as f64, in row-major order.
pub(crate) fn values(xs: &Tensor) -> Vec<f64> {
    Vec::try_from(xs.to_kind(Kind::Double).flatten(0, -1)).unwrap()
}

/// A batch of f64 tensors from flat row-major values; `negatives` empty means `None`.
pub(crate) fn batch(
    queries: &[f64],
    positives: &[f64],
    negatives: &[f64],
    dim: i64,
) -> EmbeddingBatch {
    let b = queries.len() as i64 / dim;
    EmbeddingBatch {
        queries: Tensor::from_slice(queries).view([b, dim]),
        positives: Tensor::from_slice(positives).view([b, dim]),
        negatives: (!negatives.is_empty())
            .then(|| Tensor::from_slice(negatives).view([b, -1, dim])),
    }
}

/// Deterministic pseudo-random values in about `[-1, 1]` (no global RNG, so tests can run in
/// parallel).
pub(crate) fn pseudo_random(n: usize, seed: f64) -> Vec<f64> {
    (0..n)
        .map(|i| (i as f64 * 1.7 + seed).sin() * 0.9 + 0.1 * (i as f64 * 0.3).cos())
        .collect()
}

/// The reduced loss of a tiny batch `B = 3, H = 2, D = 4` as f64.
fn loss_value(loss: &dyn EmbeddingLoss, inputs: &[Vec<f64>; 3]) -> f64 {
    let b = batch(&inputs[0], &inputs[1], &inputs[2], 4);
    tch::no_grad(|| loss.forward(&b).unwrap().double_value(&[]))
}

/// Compares autograd gradients of the reduced loss with central differences (`h = 1e-6`) on a
/// tiny f64 batch `B = 3, H = 2, D = 4`, and checks that the loss is finite and `>= 0`.
pub(crate) fn check_gradients(loss: &dyn EmbeddingLoss) {
    let inputs = [
        pseudo_random(12, 0.0),
        pseudo_random(12, 1.0),
        pseudo_random(24, 2.0),
    ];
    let tensors = [
        Tensor::from_slice(&inputs[0])
            .view([3, 4])
            .set_requires_grad(true),
        Tensor::from_slice(&inputs[1])
            .view([3, 4])
            .set_requires_grad(true),
        Tensor::from_slice(&inputs[2])
            .view([3, 2, 4])
            .set_requires_grad(true),
    ];
    let [q, p, n] = &tensors;
    let b = EmbeddingBatch {
        queries: q.shallow_clone(),
        positives: p.shallow_clone(),
        negatives: Some(n.shallow_clone()),
    };
    let value = loss.forward(&b).unwrap();
    let scalar = value.double_value(&[]);
    assert!(
        scalar.is_finite() && scalar >= 0.0,
        "{}: loss {scalar}",
        loss.name()
    );
    value.backward();
    let h = 1e-6;
    for (which, tensor) in tensors.iter().enumerate() {
        let grads = values(&tensor.grad());
        for (j, grad) in grads.iter().enumerate() {
            let mut plus = inputs.clone();
            plus[which][j] += h;
            let mut minus = inputs.clone();
            minus[which][j] -= h;
            let numeric = (loss_value(loss, &plus) - loss_value(loss, &minus)) / (2.0 * h);
            let tol = 1e-6 * numeric.abs().max(1e-2);
            assert!(
                (grad - numeric).abs() <= tol,
                "{}: input {which} entry {j}: autograd {grad}, finite difference {numeric}",
                loss.name()
            );
        }
    }
}

/// Checks that malformed batches give [`TrainError::InvalidInput`] from both `forward` and
/// `unreduced`, never a panic or a libtorch error.
pub(crate) fn check_shape_errors(loss: &dyn EmbeddingLoss) {
    let zeros = |shape: &[i64]| Tensor::zeros(shape, (Kind::Float, Device::Cpu));
    let cases = [
        (zeros(&[3, 4]), zeros(&[3, 5]), None),
        (zeros(&[3, 4]), zeros(&[2, 4]), None),
        (zeros(&[3, 4]), zeros(&[3, 4]), Some(zeros(&[3, 1, 5]))),
        (zeros(&[4]), zeros(&[4]), None),
    ];
    for (queries, positives, negatives) in cases {
        let b = EmbeddingBatch {
            queries,
            positives,
            negatives,
        };
        assert!(
            matches!(loss.forward(&b), Err(TrainError::InvalidInput(_))),
            "{b:?}"
        );
        assert!(
            matches!(loss.unreduced(&b), Err(TrainError::InvalidInput(_))),
            "{b:?}"
        );
    }
}

/// The Proto-Triplet example of `docs/losses.md` 3.2: prototypes (0,0), (2,0), (0,2) as 1-shot
/// supports; queries (0.5,0) y=0, (1.2,0) y=0, (0,1.6) y=2.
pub(crate) fn doc_episode() -> EpisodeEmbeddings {
    EpisodeEmbeddings {
        support: Tensor::from_slice(&[0.0f64, 0.0, 2.0, 0.0, 0.0, 2.0]).view([3, 2]),
        query: Tensor::from_slice(&[0.5f64, 0.0, 1.2, 0.0, 0.0, 1.6]).view([3, 2]),
        query_labels: Tensor::from_slice(&[0i64, 0, 2]),
        ways: 3,
        shots: 1,
    }
}

/// The reduced loss of a 3-way 2-shot 2-query f64 episode with `D = 4`.
fn episode_value(loss: &dyn EpisodeLoss, support: &[f64], query: &[f64]) -> f64 {
    let ep = EpisodeEmbeddings {
        support: Tensor::from_slice(support).view([6, 4]),
        query: Tensor::from_slice(query).view([6, 4]),
        query_labels: Tensor::from_slice(&[0i64, 0, 1, 1, 2, 2]),
        ways: 3,
        shots: 2,
    };
    tch::no_grad(|| loss.forward(&ep).unwrap().double_value(&[]))
}

/// Compares autograd gradients of an episode loss with central differences (`h = 1e-6`) on a
/// 3-way 2-shot 2-query f64 episode (`D = 4`), and checks that the loss is finite and `>= 0`.
pub(crate) fn check_episode_gradients(loss: &dyn EpisodeLoss) {
    let inputs = [pseudo_random(24, 0.3), pseudo_random(24, 4.1)];
    let support = Tensor::from_slice(&inputs[0])
        .view([6, 4])
        .set_requires_grad(true);
    let query = Tensor::from_slice(&inputs[1])
        .view([6, 4])
        .set_requires_grad(true);
    let ep = EpisodeEmbeddings {
        support: support.shallow_clone(),
        query: query.shallow_clone(),
        query_labels: Tensor::from_slice(&[0i64, 0, 1, 1, 2, 2]),
        ways: 3,
        shots: 2,
    };
    let value = loss.forward(&ep).unwrap();
    let scalar = value.double_value(&[]);
    assert!(
        scalar.is_finite() && scalar >= 0.0,
        "{}: loss {scalar}",
        loss.name()
    );
    value.backward();
    let h = 1e-6;
    let mut nonzero = 0;
    for (which, tensor) in [&support, &query].iter().enumerate() {
        // A tensor the loss does not use (queries for support-only ICNN) gets no gradient.
        let grad = tensor.grad();
        let grads = if grad.defined() {
            values(&grad)
        } else {
            vec![0.0; 24]
        };
        for (j, grad) in grads.iter().enumerate() {
            let mut plus = inputs.clone();
            plus[which][j] += h;
            let mut minus = inputs.clone();
            minus[which][j] -= h;
            let numeric = (episode_value(loss, &plus[0], &plus[1])
                - episode_value(loss, &minus[0], &minus[1]))
                / (2.0 * h);
            let tol = 1e-5 * numeric.abs().max(1e-2);
            assert!(
                (grad - numeric).abs() <= tol,
                "{}: input {which} entry {j}: autograd {grad}, finite difference {numeric}",
                loss.name()
            );
            nonzero += usize::from(grad.abs() > 1e-9);
        }
    }
    assert!(nonzero > 0, "{}: all gradients are zero", loss.name());
}

/// Compares autograd gradients of a [`ClassificationLoss`] with respect to the features and the
/// class weights with central differences (`h = 1e-6`) on a tiny f64 batch: `B = 6` with labels
/// `[0, 0, 1, 1, 2, 3]`, `C = 4`, `D = 5`; also checks that the loss is finite and `>= 0`.
pub(crate) fn check_class_gradients(loss: &dyn ClassificationLoss) {
    let inputs = [pseudo_random(30, 0.5), pseudo_random(20, 3.0)];
    let shapes: [&[i64]; 2] = [&[6, 5], &[4, 5]];
    let labels = Tensor::from_slice(&[0i64, 0, 1, 1, 2, 3]);
    let value_of = |inputs: &[Vec<f64>; 2]| {
        let f = Tensor::from_slice(&inputs[0]).view(shapes[0]);
        let w = Tensor::from_slice(&inputs[1]).view(shapes[1]);
        tch::no_grad(|| loss.forward(&f, &w, &labels).unwrap().double_value(&[]))
    };
    let tensors: Vec<Tensor> = inputs
        .iter()
        .zip(shapes)
        .map(|(v, shape)| Tensor::from_slice(v).view(shape).set_requires_grad(true))
        .collect();
    let value = loss.forward(&tensors[0], &tensors[1], &labels).unwrap();
    let scalar = value.double_value(&[]);
    assert!(
        scalar.is_finite() && scalar >= 0.0,
        "{}: loss {scalar}",
        loss.name()
    );
    value.backward();
    let h = 1e-6;
    for (which, tensor) in tensors.iter().enumerate() {
        for (j, grad) in values(&tensor.grad()).iter().enumerate() {
            let mut plus = inputs.clone();
            plus[which][j] += h;
            let mut minus = inputs.clone();
            minus[which][j] -= h;
            let numeric = (value_of(&plus) - value_of(&minus)) / (2.0 * h);
            let tol = 1e-6 * numeric.abs().max(1e-2);
            assert!(
                (grad - numeric).abs() <= tol,
                "{}: input {which} entry {j}: autograd {grad}, finite difference {numeric}",
                loss.name()
            );
        }
    }
}
