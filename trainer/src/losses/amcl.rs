//! Self-supervised contrastive objectives on two augmented views, usable on top of any
//! encoder: SimCLR's InfoNCE (NT-Xent with the positive in the denominator) and AMCL (Wang et
//! al., ECCV 2024, arXiv 2310.05615, eq. 2.1): several projection heads, a per-pair adaptive
//! temperature from a small network per head, the hardest negative instead of the softmax, and
//! the regulariser `Ω(τ) = (d/2) ln τ + 1/τ` (`docs/losses.md` 4).

use serde::{Deserialize, Serialize};
use tch::nn::{self, Module};
use tch::{Kind, Tensor};

use crate::error::{Result, TrainError};
use crate::losses::common::{diag_mask, l2_normalize, require_finite_positive};

/// Which contrastive objective the heads are trained with.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ContrastiveObjective {
    /// SimCLR InfoNCE over the `2B` projected views at a fixed temperature.
    InfoNce {
        /// Softmax temperature (SimCLR uses 0.1–0.5).
        temperature: f64,
    },
    /// AMCL eq. 2.1, summed over heads.
    Amcl {
        /// Weight of the regulariser Ω (0.1 in the code).
        beta: f64,
        /// Lowest temperature (the code's 1e-5 admits a degenerate solution; the doc advises
        /// about 0.05).
        tau_min: f64,
        /// Highest temperature (2.0 in the code).
        tau_max: f64,
        /// Hidden width of each temperature network.
        temperature_hidden: i64,
    },
}

/// Projection heads and the objective.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ContrastiveConfig {
    /// Number of projection heads C (1 for SimCLR, 3 for AMCL in the paper's code).
    pub heads: i64,
    /// Hidden width of each projection MLP.
    pub hidden_dim: i64,
    /// Output width d of each projection head.
    pub proj_dim: i64,
    /// The objective.
    pub objective: ContrastiveObjective,
}

impl Default for ContrastiveConfig {
    fn default() -> Self {
        Self {
            heads: 1,
            hidden_dim: 128,
            proj_dim: 64,
            objective: ContrastiveObjective::InfoNce { temperature: 0.5 },
        }
    }
}

impl ContrastiveConfig {
    /// Checks the values.
    ///
    /// # Errors
    /// [`TrainError::InvalidInput`] naming the bad value.
    pub fn validate(&self) -> Result<()> {
        if self.heads < 1 || self.hidden_dim < 1 || self.proj_dim < 1 {
            return Err(TrainError::InvalidInput(format!(
                "contrastive: heads, hidden_dim and proj_dim must be >= 1, got {}, {}, {}",
                self.heads, self.hidden_dim, self.proj_dim
            )));
        }
        match self.objective {
            ContrastiveObjective::InfoNce { temperature } => {
                require_finite_positive("info_nce: temperature", temperature)
            }
            ContrastiveObjective::Amcl {
                beta,
                tau_min,
                tau_max,
                temperature_hidden,
            } => {
                require_finite_positive("amcl: tau_min", tau_min)?;
                let usable =
                    beta.is_finite() && beta >= 0.0 && tau_max > tau_min && tau_max.is_finite();
                if !usable {
                    return Err(TrainError::InvalidInput(format!(
                        "amcl: need beta >= 0 and tau_max > tau_min, got beta {beta}, \
                         tau [{tau_min}, {tau_max}]"
                    )));
                }
                if temperature_hidden < 1 {
                    return Err(TrainError::InvalidInput(
                        "amcl: temperature_hidden must be >= 1".to_owned(),
                    ));
                }
                Ok(())
            }
        }
    }
}

/// AMCL's regulariser `Ω(τ) = (d/2) ln τ + 1/τ`.
///
/// # Errors
/// libtorch errors.
pub fn amcl_omega(tau: &Tensor, dim: i64) -> Result<Tensor> {
    #[expect(clippy::cast_precision_loss, reason = "projection widths are small")]
    let half_d = dim as f64 / 2.0;
    Ok(tau
        .f_log()?
        .f_mul_scalar(half_d)?
        .f_add(&tau.f_reciprocal()?)?)
}

/// One head's AMCL term per anchor (eq. 2.1):
/// `-s⁺/τ⁺ + s*/τ* + β Ω(τ⁺) - β Ω(τ*)`, where `s*`, `τ*` belong to the hardest negative.
///
/// # Shapes
/// All inputs `[B]` → `[B]`.
///
/// # Errors
/// libtorch errors.
pub fn amcl_head_terms(
    s_pos: &Tensor,
    tau_pos: &Tensor,
    s_hard: &Tensor,
    tau_hard: &Tensor,
    beta: f64,
    dim: i64,
) -> Result<Tensor> {
    let positive = s_pos.f_div(tau_pos)?.f_neg()?;
    let negative = s_hard.f_div(tau_hard)?;
    let reg = amcl_omega(tau_pos, dim)?
        .f_sub(&amcl_omega(tau_hard, dim)?)?
        .f_mul_scalar(beta)?;
    Ok(positive.f_add(&negative)?.f_add(&reg)?)
}

/// One projection head with its temperature network.
#[derive(Debug)]
struct Head {
    project: nn::Sequential,
    temperature: Option<nn::Sequential>,
}

/// Projection heads and (for AMCL) temperature networks on top of an encoder's features.
#[derive(Debug)]
pub struct ContrastiveHeads {
    config: ContrastiveConfig,
    heads: Vec<Head>,
}

impl ContrastiveHeads {
    /// Builds the heads under `path` for `in_dim`-wide features.
    ///
    /// # Errors
    /// [`TrainError::InvalidInput`] for an invalid config.
    pub fn new(path: &nn::Path<'_>, in_dim: i64, config: ContrastiveConfig) -> Result<Self> {
        config.validate()?;
        let heads = (0..config.heads)
            .map(|c| {
                let p = path / format!("head{c}");
                let project = nn::seq()
                    .add(nn::linear(
                        &p / "fc1",
                        in_dim,
                        config.hidden_dim,
                        Default::default(),
                    ))
                    .add_fn(Tensor::relu)
                    .add(nn::linear(
                        &p / "fc2",
                        config.hidden_dim,
                        config.proj_dim,
                        Default::default(),
                    ));
                let temperature = match config.objective {
                    ContrastiveObjective::Amcl {
                        temperature_hidden, ..
                    } => Some(
                        nn::seq()
                            .add(nn::linear(
                                &p / "tau1",
                                2 * config.proj_dim,
                                temperature_hidden,
                                Default::default(),
                            ))
                            .add_fn(Tensor::relu)
                            .add(nn::linear(
                                &p / "tau2",
                                temperature_hidden,
                                1,
                                Default::default(),
                            )),
                    ),
                    ContrastiveObjective::InfoNce { .. } => None,
                };
                Head {
                    project,
                    temperature,
                }
            })
            .collect();
        Ok(Self { config, heads })
    }

    /// The loss of two views: `view_a[i]` and `view_b[i]` are the same image.
    ///
    /// # Shapes
    /// `view_a, view_b: [B, in_dim]`, `B ≥ 2` → `[]` (mean over the `2B` anchors, summed over
    /// heads).
    ///
    /// # Errors
    /// [`TrainError::InvalidInput`] for mismatched or too small batches; libtorch errors.
    pub fn forward(&self, view_a: &Tensor, view_b: &Tensor) -> Result<Tensor> {
        let size = view_a.size();
        let batch = size.first().copied().unwrap_or(0);
        if batch < 2 || view_b.size() != size || size.len() != 2 {
            return Err(TrainError::InvalidInput(format!(
                "contrastive: need two views of the same shape [B >= 2, D], got {size:?} and {:?}",
                view_b.size()
            )));
        }
        let features = Tensor::f_cat(&[view_a, view_b], 0)?;
        let device = features.device();
        let rows = 2 * batch;
        let partner = Tensor::f_arange(rows, (Kind::Int64, device))?
            .f_add_scalar(batch)?
            .f_remainder(rows)?;
        let self_mask = diag_mask(rows, rows, device)?;
        let mut total: Option<Tensor> = None;
        for head in &self.heads {
            let z = l2_normalize(&head.project.forward(&features))?;
            let sim = z.f_matmul(&z.f_transpose(0, 1)?)?;
            let term = match (self.config.objective, &head.temperature) {
                (ContrastiveObjective::InfoNce { temperature }, _) => sim
                    .f_div_scalar(temperature)?
                    .f_masked_fill(&self_mask, f64::NEG_INFINITY)?
                    .f_log_softmax(-1, None::<Kind>)?
                    .f_nll_loss(&partner, None::<Tensor>, tch::Reduction::Mean, -100)?,
                (
                    ContrastiveObjective::Amcl {
                        beta,
                        tau_min,
                        tau_max,
                        ..
                    },
                    Some(net),
                ) => {
                    let partner_col = partner.f_unsqueeze(1)?;
                    let s_pos = sim.f_gather(1, &partner_col, false)?.f_squeeze_dim(1)?;
                    let negatives_only = self_mask.f_logical_or(
                        &Tensor::f_zeros_like(&self_mask)?.f_scatter_value(1, &partner_col, 1)?,
                    )?;
                    let hardest = tch::no_grad(|| {
                        sim.f_masked_fill(&negatives_only, f64::NEG_INFINITY)?
                            .f_argmax(1, true)
                    })?;
                    let s_hard = sim.f_gather(1, &hardest, false)?.f_squeeze_dim(1)?;
                    let temperature = |other: &Tensor| -> Result<Tensor> {
                        let pair = Tensor::f_cat(
                            &[&z, &z.f_index_select(0, &other.f_flatten(0, -1)?)?],
                            1,
                        )?;
                        Ok(net
                            .forward(&pair)
                            .f_squeeze_dim(1)?
                            .f_sigmoid()?
                            .f_mul_scalar(tau_max - tau_min)?
                            .f_add_scalar(tau_min)?)
                    };
                    let tau_pos = temperature(&partner)?;
                    let tau_hard = temperature(&hardest)?;
                    amcl_head_terms(
                        &s_pos,
                        &tau_pos,
                        &s_hard,
                        &tau_hard,
                        beta,
                        self.config.proj_dim,
                    )?
                    .f_mean(None::<Kind>)?
                }
                (ContrastiveObjective::Amcl { .. }, None) => {
                    return Err(TrainError::InvalidInput(
                        "amcl: head built without a temperature network".to_owned(),
                    ))
                }
            };
            total = Some(match total {
                Some(t) => t.f_add(&term)?,
                None => term,
            });
        }
        total.ok_or_else(|| TrainError::InvalidInput("contrastive: no heads".to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use tch::Device;

    use super::*;
    use crate::losses::test_util::{assert_doc, values};

    fn t(v: &[f64]) -> Tensor {
        Tensor::from_slice(v)
    }

    #[test]
    fn doc_vector_eq_2_1() {
        // docs/losses.md 4.5: beta 0.1, d = 4; heads (0.8, 0.5 | 0.5, 0.25) and (0.4, 1.0 | 0.3, 0.5).
        let terms = amcl_head_terms(
            &t(&[0.8, 0.4]),
            &t(&[0.5, 1.0]),
            &t(&[0.5, 0.3]),
            &t(&[0.25, 0.5]),
            0.1,
            4,
        )
        .unwrap();
        let got = values(&terms);
        assert_doc(got[0], 0.338629);
        assert_doc(got[1], 0.238629);
        assert_doc(got[0] + got[1], 0.577259);
        let omega = values(&amcl_omega(&t(&[0.5, 0.25, 1.0]), 4).unwrap());
        assert_doc(omega[0], 0.613706);
        assert_doc(omega[1], 1.227411);
        assert_doc(omega[2], 1.0);
    }

    #[test]
    fn head_terms_gradients_match_finite_differences() {
        let inputs = [0.8, 0.5, 0.5, 0.25];
        let xs: Vec<Tensor> = inputs
            .iter()
            .map(|&v| t(&[v]).set_requires_grad(true))
            .collect();
        let f = |v: &[f64]| {
            amcl_head_terms(&t(&[v[0]]), &t(&[v[1]]), &t(&[v[2]]), &t(&[v[3]]), 0.1, 4)
                .unwrap()
                .double_value(&[0])
        };
        let value = amcl_head_terms(&xs[0], &xs[1], &xs[2], &xs[3], 0.1, 4).unwrap();
        value.sum(Kind::Double).backward();
        for (i, x) in xs.iter().enumerate() {
            let (mut plus, mut minus) = (inputs, inputs);
            plus[i] += 1e-6;
            minus[i] -= 1e-6;
            let numeric = (f(&plus) - f(&minus)) / 2e-6;
            let grad = x.grad().double_value(&[0]);
            assert!(
                (grad - numeric).abs() <= 1e-6 * numeric.abs().max(1.0),
                "{i}: {grad} vs {numeric}"
            );
        }
    }

    fn heads(objective: ContrastiveObjective, n: i64) -> (nn::VarStore, ContrastiveHeads) {
        tch::manual_seed(0);
        let vs = nn::VarStore::new(Device::Cpu);
        let config = ContrastiveConfig {
            heads: n,
            hidden_dim: 8,
            proj_dim: 4,
            objective,
        };
        let heads = ContrastiveHeads::new(&vs.root(), 6, config).unwrap();
        (vs, heads)
    }

    #[test]
    fn info_nce_single_head_matches_the_softmax_formula() {
        let (_vs, h) = heads(ContrastiveObjective::InfoNce { temperature: 0.5 }, 1);
        let a = Tensor::randn([3, 6], (Kind::Float, Device::Cpu));
        let b = Tensor::randn([3, 6], (Kind::Float, Device::Cpu));
        let got = h.forward(&a, &b).unwrap().double_value(&[]);
        // Recompute by hand from the projections.
        let z = l2_normalize(&h.heads[0].project.forward(&Tensor::cat(&[&a, &b], 0))).unwrap();
        let sim = values(&z.matmul(&z.tr()));
        let mut want = 0.0;
        for i in 0..6 {
            let p = (i + 3) % 6;
            let denom: f64 = (0..6)
                .filter(|&j| j != i)
                .map(|j| (sim[i * 6 + j] / 0.5).exp())
                .sum();
            want += -(sim[i * 6 + p] / 0.5) + denom.ln();
        }
        assert!((got - want / 6.0).abs() < 1e-5, "{got} vs {}", want / 6.0);
    }

    #[test]
    fn amcl_three_heads_train_every_parameter() {
        let objective = ContrastiveObjective::Amcl {
            beta: 0.1,
            tau_min: 0.05,
            tau_max: 2.0,
            temperature_hidden: 8,
        };
        let (vs, h) = heads(objective, 3);
        let a = Tensor::randn([4, 6], (Kind::Float, Device::Cpu));
        let b = Tensor::randn([4, 6], (Kind::Float, Device::Cpu));
        let loss = h.forward(&a, &b).unwrap();
        assert!(loss.double_value(&[]).is_finite());
        loss.backward();
        let variables = vs.variables();
        assert_eq!(
            variables.len(),
            3 * 8,
            "3 heads × (2 projection + 2 temperature layers)"
        );
        for (name, var) in variables {
            assert!(var.grad().defined(), "{name} got no gradient");
        }
    }

    #[test]
    fn bad_configs_and_views_are_errors() {
        let bad = ContrastiveConfig {
            heads: 0,
            ..ContrastiveConfig::default()
        };
        assert!(bad.validate().is_err());
        let bad = ContrastiveConfig {
            objective: ContrastiveObjective::Amcl {
                beta: 0.1,
                tau_min: 1.0,
                tau_max: 0.5,
                temperature_hidden: 8,
            },
            ..ContrastiveConfig::default()
        };
        assert!(bad.validate().is_err());
        let (_vs, h) = heads(ContrastiveObjective::InfoNce { temperature: 0.5 }, 1);
        let a = Tensor::zeros([1, 6], (Kind::Float, Device::Cpu));
        assert!(matches!(
            h.forward(&a, &a),
            Err(TrainError::InvalidInput(_))
        ));
    }
}
