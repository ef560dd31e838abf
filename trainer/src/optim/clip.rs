//! Gradient clipping by global norm.

use tch::Tensor;

use crate::error::Result;

/// Scales the gradients of `params` so that their global L2 norm is at most `max_norm`, as
/// `torch.nn.utils.clip_grad_norm_` does (coefficient `max_norm / (norm + 1e-6)`, applied only
/// when below 1). Parameters without a gradient are skipped.
///
/// Returns the total norm before clipping (0 when no parameter has a gradient). A non-finite
/// norm is returned as is and the gradients are left untouched: the caller decides whether to
/// skip the step.
///
/// # Errors
/// libtorch errors (e.g. gradients on different devices).
pub fn clip_grad_norm<'a, I>(params: I, max_norm: f64) -> Result<f64>
where
    I: IntoIterator<Item = &'a Tensor>,
{
    let mut grads = Vec::new();
    for p in params {
        let g = p.f_grad()?;
        if g.defined() {
            grads.push(g);
        }
    }
    if grads.is_empty() {
        return Ok(0.0);
    }
    let total = tch::no_grad(|| -> Result<f64> {
        let norms = grads
            .iter()
            .map(Tensor::f_norm)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Tensor::f_stack(&norms, 0)?.f_norm()?.f_double_value(&[])?)
    })?;
    let coef = max_norm / (total + 1e-6);
    if total.is_finite() && coef < 1.0 {
        tch::no_grad(|| -> Result<()> {
            for g in &mut grads {
                let _ = g.f_mul_scalar_(coef)?;
            }
            Ok(())
        })?;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use tch::{Kind, Tensor};

    use super::clip_grad_norm;

    fn with_grad(values: &[f32]) -> Tensor {
        let t = Tensor::from_slice(values).set_requires_grad(true);
        (&t * Tensor::from_slice(values))
            .sum(Kind::Float)
            .backward();
        t
    }

    fn grad(t: &Tensor) -> Vec<f32> {
        Vec::<f32>::try_from(t.grad()).unwrap()
    }

    // Grads [3, 4] and [12]: norm √(9 + 16 + 144) = 13. torch.nn.utils.clip_grad_norm_ with
    // max_norm 1.3 returns 13.0 and leaves grads [0.29999998, 0.39999998] and [1.1999999]
    // (coefficient 1.3 / (13 + 1e-6)).
    #[test]
    fn clips_to_max_norm_and_returns_the_norm_before() {
        let a = with_grad(&[3.0, 4.0]);
        let b = with_grad(&[12.0]);
        let no_grad = Tensor::from_slice(&[1.0f32]).set_requires_grad(true);
        let norm = clip_grad_norm([&a, &no_grad, &b], 1.3).unwrap();
        assert!((norm - 13.0).abs() < 1e-6, "{norm}");
        let want = [0.299_999_98, 0.399_999_98, 1.199_999_9];
        for (got, want) in grad(&a).iter().chain(&grad(&b)).zip(want) {
            assert!((got - want).abs() < 1e-6, "{got} vs {want}");
        }
        assert!(!no_grad.grad().defined());
    }

    #[test]
    fn leaves_small_and_non_finite_grads_alone() {
        let a = with_grad(&[3.0, 4.0]);
        assert!((clip_grad_norm([&a], 10.0).unwrap() - 5.0).abs() < 1e-6);
        assert_eq!(grad(&a), [3.0, 4.0]);
        let inf = with_grad(&[f32::INFINITY, 1.0]);
        assert!(clip_grad_norm([&inf], 1.0).unwrap().is_infinite());
        assert_eq!(grad(&inf)[1], 1.0);
        assert_eq!(clip_grad_norm(std::iter::empty(), 1.0).unwrap(), 0.0);
    }
}
