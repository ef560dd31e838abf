//! Tests of [`AdamW`] against torch and across save/load.

use std::path::Path;

use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};

use super::{AdamW, AdamWConfig};
use crate::error::TrainError;

fn leaf(values: &[f64]) -> Tensor {
    Tensor::from_slice(values).set_requires_grad(true)
}

/// Sets the gradient of `p` to `g` (through `backward` of `sum(p · g)`).
fn set_grad(opt: &mut AdamW, p: &Tensor, g: &[f64]) {
    opt.zero_grad().unwrap();
    (p * Tensor::from_slice(g)).sum(Kind::Double).backward();
}

fn values(t: &Tensor) -> Vec<f64> {
    Vec::<f64>::try_from(t).unwrap()
}

fn config(lr: f64, weight_decay: f64) -> AdamWConfig {
    AdamWConfig {
        lr,
        weight_decay,
        ..AdamWConfig::default()
    }
}

// Golden values from torch 2.11 (/work/main/.venv/bin/python):
//
//     p = torch.nn.Parameter(torch.tensor([1.0, -2.0], dtype=torch.float64))
//     opt = torch.optim.AdamW([p], lr=0.1, betas=(0.9, 0.999), eps=1e-6, weight_decay=0.01)
//     for g in ([0.5, -1.0], [0.25, 0.5], [-1.0, 2.0]):
//         p.grad = torch.tensor(g, dtype=torch.float64); opt.step(); print(p.tolist())
//
// Step 1 by hand, element 0 (p = 1, g = 0.5):
//   decay  p = 1 · (1 − 0.1·0.01)              = 0.999
//   m = 0.1 · 0.5 = 0.05,  v = 0.001 · 0.25    = 0.00025
//   m̂ = 0.05 / (1 − 0.9) = 0.5,  v̂ = 0.00025 / (1 − 0.999) = 0.25,  √v̂ = 0.5
//   p = 0.999 − 0.1 · 0.5 / (0.5 + 1e-6)        = 0.999 − 0.0999998 = 0.8990002
// element 1 (p = −2, g = −1): p = −1.998, m̂ = −1, √v̂ = 1,
//   p = −1.998 + 0.1 · 1 / (1 + 1e-6)            = −1.998 + 0.0999999 = −1.8980001
#[test]
fn adamw_matches_torch() {
    let p = leaf(&[1.0, -2.0]);
    let mut opt =
        AdamW::from_named(vec![("w".into(), p.shallow_clone())], config(0.1, 0.01)).unwrap();
    let grads: [[f64; 2]; 3] = [[0.5, -1.0], [0.25, 0.5], [-1.0, 2.0]];
    let torch: [[f64; 2]; 3] = [
        [0.8990001999996, -1.8980000999999],
        [0.8048834717781306, -1.8694684296281412],
        [0.8247142598369087, -1.9133321056381178],
    ];
    for (g, want) in grads.iter().zip(&torch) {
        set_grad(&mut opt, &p, g);
        opt.step(0.1).unwrap();
        for (got, want) in values(&p).iter().zip(want) {
            assert!((got - want).abs() < 1e-14, "{got} vs torch {want}");
        }
    }
    assert_eq!(opt.steps(), 3);
}

#[test]
fn weight_decay_skips_no_decay_names_and_params_without_grad() {
    let w = leaf(&[1.0]);
    let b = leaf(&[1.0]);
    let idle = leaf(&[1.0]);
    let named = vec![
        ("lin.weight".into(), w.shallow_clone()),
        ("lin.bias".into(), b.shallow_clone()),
        ("idle.weight".into(), idle.shallow_clone()),
    ];
    let mut opt = AdamW::from_named(named, config(0.1, 0.5)).unwrap();
    // Zero gradients: the Adam term is 0 / (0 + eps) = 0, only decay moves a parameter.
    ((&w + &b) * 0.0).sum(Kind::Double).backward();
    opt.step(0.1).unwrap();
    assert_eq!(values(&w), [1.0 - 0.1 * 0.5]);
    assert_eq!(values(&b), [1.0]);
    assert_eq!(values(&idle), [1.0], "no gradient: untouched");
}

/// A 3 → 2 linear model with fixed initial weights.
fn linear_model() -> (VarStore, Tensor, Tensor) {
    let vs = VarStore::new(Device::Cpu);
    let init = Tensor::from_slice(&[0.1f32, -0.2, 0.3, 0.4, 0.0, -0.5]).view([2, 3]);
    let w = vs.root().sub("lin").var_copy("weight", &init);
    let b = vs
        .root()
        .sub("lin")
        .var_copy("bias", &Tensor::from_slice(&[0.05f32, -0.05]));
    (vs, w, b)
}

/// `steps` updates of the linear model on fixed data.
fn train(opt: &mut AdamW, w: &Tensor, b: &Tensor, steps: usize) {
    let x = (Tensor::arange(12, (Kind::Float, Device::Cpu)).view([4, 3]) * 0.37).sin();
    let y = (Tensor::arange(8, (Kind::Float, Device::Cpu)).view([4, 2]) * 0.71).cos();
    for _ in 0..steps {
        opt.zero_grad().unwrap();
        let pred = x.matmul(&w.tr()) + b;
        (pred - &y).square().mean(Kind::Float).backward();
        opt.step(1e-2).unwrap();
    }
}

#[test]
fn packed_update_equals_per_parameter_update() {
    // Weight and bias: one decaying and one non-decaying group in the packed buffer.
    let (vs, w, b) = linear_model();
    let mut packed = AdamW::new(&vs, config(1e-2, 0.1)).unwrap();
    assert!(packed.is_packed());
    let (vs_apart, w_apart, b_apart) = linear_model();
    let mut apart = AdamW::build(
        vs_apart.variables().into_iter().collect(),
        config(1e-2, 0.1),
        false,
    )
    .unwrap();
    assert!(!apart.is_packed());
    train(&mut packed, &w, &b, 7);
    train(&mut apart, &w_apart, &b_apart, 7);
    assert!(w.equal(&w_apart), "weight differs:\n{w}\n{w_apart}");
    assert!(b.equal(&b_apart), "bias differs:\n{b}\n{b_apart}");
    // The model's own tensors were updated: they are views of the packed buffer.
    assert!(!w.equal(&linear_model().1));
    // Gradients accumulate into the packed buffer, and zeroing it zeroes every gradient.
    packed.zero_grad().unwrap();
    assert_eq!(
        values(&w.grad().to_kind(Kind::Double).flatten(0, -1)),
        [0.0; 6]
    );
}

#[test]
fn parameters_of_different_dtypes_are_not_packed() {
    let w = Tensor::from_slice(&[1.0f32, 2.0]).set_requires_grad(true);
    let d = leaf(&[1.0]);
    let named = vec![
        ("w".into(), w.shallow_clone()),
        ("d".into(), d.shallow_clone()),
    ];
    let mut opt = AdamW::from_named(named, config(0.1, 0.0)).unwrap();
    assert!(!opt.is_packed());
    opt.zero_grad().unwrap();
    (w.sum(Kind::Double) + d.sum(Kind::Double)).backward();
    opt.step(0.1).unwrap();
    assert!(values(&d)[0] < 1.0);
}

#[test]
fn save_load_continue_is_bit_identical() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("optimizer.safetensors");
    let weights = dir.path().join("model.safetensors");

    let (vs, w, b) = linear_model();
    let mut straight = AdamW::new(&vs, config(1e-2, 0.1)).unwrap();
    train(&mut straight, &w, &b, 6);

    let (vs1, w1, b1) = linear_model();
    let mut first = AdamW::new(&vs1, config(1e-2, 0.1)).unwrap();
    train(&mut first, &w1, &b1, 3);
    first.save_state(&state).unwrap();
    vs1.save(&weights).unwrap();
    assert!(!dir.path().join("optimizer.safetensors.tmp").exists());

    let (mut vs2, w2, b2) = linear_model();
    vs2.load(&weights).unwrap();
    let mut resumed = AdamW::new(&vs2, config(1e-2, 0.1)).unwrap();
    resumed.load_state(&state).unwrap();
    assert_eq!(resumed.steps(), 3);
    train(&mut resumed, &w2, &b2, 3);

    assert!(w.equal(&w2), "weight differs:\n{w}\n{w2}");
    assert!(b.equal(&b2), "bias differs:\n{b}\n{b2}");
    // And the resumed run really differs from a fresh optimiser.
    let (mut vs3, w3, b3) = linear_model();
    vs3.load(&weights).unwrap();
    let mut fresh = AdamW::new(&vs3, config(1e-2, 0.1)).unwrap();
    train(&mut fresh, &w3, &b3, 3);
    assert!(!w.equal(&w3));
}

fn load_error(opt: &mut AdamW, path: &Path) -> String {
    let err = opt.load_state(path).unwrap_err();
    assert!(matches!(err, TrainError::BadWeights { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    msg
}

#[test]
fn load_state_from_another_model_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("opt.safetensors");
    let named = |specs: &[(&str, usize)]| {
        specs
            .iter()
            .map(|(n, len)| ((*n).to_owned(), leaf(&vec![0.0; *len])))
            .collect::<Vec<_>>()
    };
    let saved = AdamW::from_named(named(&[("a", 2), ("b", 3)]), AdamWConfig::default()).unwrap();
    saved.save_state(&path).unwrap();

    let mut renamed = AdamW::from_named(named(&[("a", 2), ("c", 3)]), AdamWConfig::default());
    let msg = load_error(renamed.as_mut().unwrap(), &path);
    assert!(
        msg.contains("another model") && msg.contains("`b`") && msg.contains("`c`"),
        "{msg}"
    );

    let mut reshaped = AdamW::from_named(named(&[("a", 2), ("b", 4)]), AdamWConfig::default());
    let msg = load_error(reshaped.as_mut().unwrap(), &path);
    assert!(msg.contains("[3]") && msg.contains("[4]"), "{msg}");

    let mut more = AdamW::from_named(
        named(&[("a", 2), ("b", 3), ("z", 1)]),
        AdamWConfig::default(),
    );
    let msg = load_error(more.as_mut().unwrap(), &path);
    assert!(
        msg.contains("`z` is in the model but not the file"),
        "{msg}"
    );

    let weights = dir.path().join("weights.safetensors");
    Tensor::write_safetensors(
        &[("a", Tensor::zeros([2], (Kind::Float, Device::Cpu)))],
        &weights,
    )
    .unwrap();
    let msg = load_error(more.as_mut().unwrap(), &weights);
    assert!(msg.contains("not an AdamW state file"), "{msg}");
}

#[test]
fn config_defaults_typos_and_validation() {
    let parsed: AdamWConfig = serde_json::from_str(r#"{"lr": 1e-4}"#).unwrap();
    assert_eq!(parsed, config(1e-4, 0.01));
    assert_eq!(parsed.no_decay, ["bias", "LayerNorm"]);
    assert!(serde_json::from_str::<AdamWConfig>(r#"{"learning_rate": 1e-4}"#).is_err());
    assert!(config(-1.0, 0.0).validate().is_err());
    let bad_beta = AdamWConfig {
        beta2: 1.0,
        ..AdamWConfig::default()
    };
    assert!(bad_beta.validate().unwrap_err().contains("beta2"));
    assert!(!parsed.decays("encoder.layer.0.attention.output.LayerNorm.weight"));
    assert!(parsed.decays("encoder.layer.0.attention.output.dense.weight"));
}
