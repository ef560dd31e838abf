//! ICNN loss ("SuSana Distancia is all you need", arXiv 2305.09062; the code's
//! `modified_score`): `-log(score)`, where the score rewards same-class nearest neighbours that
//! are closer than the nearest other-class neighbour, other-class neighbours that are far, and
//! k-NN sets that share the label (`docs/losses.md` 3.3).

use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

use crate::error::{Result, TrainError};
use crate::losses::common::{class_major_labels, euclidean_matrix, loss_precision};
use crate::losses::{EpisodeEmbeddings, EpisodeLoss};

/// Added to denominators, as the reference code does.
const DENOM_EPS: f64 = 1e-7;
/// The score is clamped to at least this before `-log`.
const MIN_SCORE: f64 = 1e-6;

/// Which points of the episode the score is computed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IcnnSet {
    /// `suppicnn`: supports against supports.
    Support,
    /// `queryicnn`: queries against supports.
    Query,
    /// `fullicnn`: supports and queries against themselves, `ipc = K + Q`.
    #[default]
    Full,
}

/// Parameters of [`Icnn`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IcnnConfig {
    /// The points scored.
    pub set: IcnnSet,
    /// Neighbours per point (4 in the code; `m - 2` when the target set is smaller).
    pub k: i64,
    /// Drop each point's nearest target as "self". `None` (the default) drops it only when
    /// the origin and target sets are the same; `Some(true)` with `set = "query"` reproduces
    /// the reference code's bug (`docs/losses.md` 3.5 quirk 2).
    pub drop_self: Option<bool>,
}

impl Default for IcnnConfig {
    fn default() -> Self {
        Self {
            set: IcnnSet::Full,
            k: 4,
            drop_self: None,
        }
    }
}

/// The parts of an ICNN score, all scalars (`gamma` carries no gradient).
#[derive(Debug)]
pub struct IcnnScore {
    /// Intra-class term.
    pub lam_sc: Tensor,
    /// Inter-class term.
    pub lam_dc: Tensor,
    /// `(lam_sc + lam_dc) / 2`.
    pub lambda: Tensor,
    /// Fraction of the k nearest neighbours that share the label (1 for tiny sets).
    pub gamma: f64,
    /// `(lambda + gamma) / 2`, in `(0, 1]`.
    pub score: Tensor,
}

/// The code's `modified_score(X, y, T, y_T, k, ipc)`.
///
/// # Shapes
/// `x: [n, D]`, `labels: [n]`, `targets: [m, D]`, `target_labels: [m]` (int64), `m ≥ 3`.
///
/// # Errors
/// [`TrainError::InvalidInput`] for fewer than 3 targets or `k < 1`; libtorch errors.
pub fn icnn_score(
    x: &Tensor,
    labels: &Tensor,
    targets: &Tensor,
    target_labels: &Tensor,
    k: i64,
    ipc: Option<i64>,
    drop_self: bool,
) -> Result<IcnnScore> {
    let m = targets.size().first().copied().unwrap_or(0);
    let n = x.size().first().copied().unwrap_or(0);
    if m < 3 || n < 1 || k < 1 {
        return Err(TrainError::InvalidInput(format!(
            "icnn: needs at least 3 targets, 1 point and k >= 1, got {m} targets, {n} points, k = {k}"
        )));
    }
    let (k, gamma_forced) = if k + 2 >= m {
        (m - 2, true)
    } else {
        (k, false)
    };
    let ipc = ipc.unwrap_or(k + 1).max(1);
    let take = (ipc + i64::from(drop_self)).min(m);
    let d = loss_precision(&euclidean_matrix(x, targets)?)?;
    let (mut dn, mut idx) = d.f_topk(take, 1, false, true)?;
    if drop_self {
        dn = dn.f_narrow(1, 1, take - 1)?;
        idx = idx.f_narrow(1, 1, take - 1)?;
    }
    let cols = dn.size().get(1).copied().unwrap_or(0);
    if cols < 1 {
        return Err(TrainError::InvalidInput(
            "icnn: no neighbours left after dropping self".to_owned(),
        ));
    }
    let kk = k.min(cols);
    let neighbour_labels = target_labels
        .f_index_select(0, &idx.f_flatten(0, -1)?)?
        .f_view([n, cols])?;
    let same_mask = labels.f_unsqueeze(1)?.f_eq_tensor(&neighbour_labels)?;
    let diff_mask = same_mask.f_logical_not()?;
    let kind = dn.f_kind()?;
    let nn_dc = dn
        .f_masked_fill(&same_mask, f64::INFINITY)?
        .f_amin([1].as_slice(), true)?;
    let dk = dn.f_narrow(1, 0, kk)?;
    let same = same_mask.f_narrow(1, 0, kk)?.f_to_kind(kind)?;
    let diff = diff_mask.f_narrow(1, 0, kk)?.f_to_kind(kind)?;

    // Intra-class: same-class neighbour distances relative to the nearest other class.
    let u = dk.f_div(&nn_dc.f_add_scalar(DENOM_EPS)?)?;
    let u = u.f_div(&u.f_amax([1].as_slice(), true)?.f_clamp_min(1.0)?)?;
    let cnt = same.f_sum_dim_intlist([1].as_slice(), false, None::<Kind>)?;
    let a = u
        .f_mul(&same)?
        .f_sum_dim_intlist([1].as_slice(), false, None::<Kind>)?
        .f_div(&cnt.f_add_scalar(DENOM_EPS)?)?;
    let with_same = cnt.f_gt(0.0)?.f_sum(kind)?.f_add_scalar(DENOM_EPS)?;
    let lam_sc = a
        .f_sum(None::<Kind>)?
        .f_div(&with_same)?
        .f_neg()?
        .f_add_scalar(1.0)?;

    // Inter-class: other-class neighbour distances relative to the batch maximum.
    let vd = dk.f_mul(&diff)?;
    let v = vd.f_div(&vd.f_max()?.f_add_scalar(DENOM_EPS)?)?;
    let dcnt = diff.f_sum_dim_intlist([1].as_slice(), false, None::<Kind>)?;
    let b = v
        .f_sum_dim_intlist([1].as_slice(), false, None::<Kind>)?
        .f_div(&dcnt.f_add_scalar(DENOM_EPS)?)?;
    let with_diff = dcnt.f_gt(0.0)?.f_sum(kind)?.f_add_scalar(DENOM_EPS)?;
    let offset = if dcnt.f_sum(kind)?.f_double_value(&[])? == 0.0 {
        -1.0
    } else {
        0.0
    };
    let lam_dc = b
        .f_sum(None::<Kind>)?
        .f_div(&with_diff)?
        .f_add_scalar(offset)?
        .f_abs()?;

    let lambda = lam_sc.f_add(&lam_dc)?.f_mul_scalar(0.5)?;
    #[expect(clippy::cast_precision_loss, reason = "k is tiny")]
    let gamma = if gamma_forced {
        1.0
    } else {
        cnt.f_mean(None::<Kind>)?.f_double_value(&[])? / k as f64
    };
    let score = lambda.f_add_scalar(gamma)?.f_mul_scalar(0.5)?;
    Ok(IcnnScore {
        lam_sc,
        lam_dc,
        lambda,
        gamma,
        score,
    })
}

/// `-log(max(score, 1e-6))` over the configured set of episode points.
#[derive(Debug, Clone)]
pub struct Icnn {
    config: IcnnConfig,
}

impl Icnn {
    /// Checks the config.
    ///
    /// # Errors
    /// [`TrainError::InvalidInput`] for `k < 1`.
    pub fn new(config: IcnnConfig) -> Result<Self> {
        if config.k < 1 {
            return Err(TrainError::InvalidInput(format!(
                "icnn: k must be at least 1, got {}",
                config.k
            )));
        }
        Ok(Self { config })
    }
}

impl EpisodeLoss for Icnn {
    fn name(&self) -> &'static str {
        "icnn"
    }

    fn forward(&self, episode: &EpisodeEmbeddings) -> Result<Tensor> {
        episode.validate()?;
        let device = episode.support.device();
        let support_labels = class_major_labels(episode.ways, episode.shots, device)?;
        let k = self.config.k;
        let score = match self.config.set {
            IcnnSet::Support => icnn_score(
                &episode.support,
                &support_labels,
                &episode.support,
                &support_labels,
                k,
                None,
                self.config.drop_self.unwrap_or(true),
            )?,
            IcnnSet::Query => icnn_score(
                &episode.query,
                &episode.query_labels,
                &episode.support,
                &support_labels,
                k,
                None,
                self.config.drop_self.unwrap_or(false),
            )?,
            IcnnSet::Full => {
                let points = Tensor::f_cat(&[&episode.support, &episode.query], 0)?;
                let labels = Tensor::f_cat(&[&support_labels, &episode.query_labels], 0)?;
                let rows = points.size().first().copied().unwrap_or(0);
                let ipc = rows / episode.ways.max(1);
                icnn_score(
                    &points,
                    &labels,
                    &points,
                    &labels,
                    k,
                    Some(ipc),
                    self.config.drop_self.unwrap_or(true),
                )?
            }
        };
        Ok(score.score.f_clamp_min(MIN_SCORE)?.f_log()?.f_neg()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::test_util::{assert_doc, check_episode_gradients};

    fn points(xy: &[(f64, f64)]) -> Tensor {
        let flat: Vec<f64> = xy.iter().flat_map(|&(x, y)| [x, y]).collect();
        Tensor::from_slice(&flat).view([-1, 2])
    }

    fn check(xy: &[(f64, f64)], labels: &[i64], ipc: i64, want: [f64; 5]) {
        let x = points(xy);
        let y = Tensor::from_slice(labels);
        let s = icnn_score(&x, &y, &x, &y, 4, Some(ipc), true).unwrap();
        let [lam_sc, lam_dc, lambda, gamma, score] = want;
        assert_doc(s.lam_sc.double_value(&[]), lam_sc);
        assert_doc(s.lam_dc.double_value(&[]), lam_dc);
        assert_doc(s.lambda.double_value(&[]), lambda);
        assert_doc(s.gamma, gamma);
        assert_doc(s.score.double_value(&[]), score);
    }

    #[test]
    fn doc_example_a_well_separated() {
        let xy = [
            (0.0, 0.0),
            (0.0, 1.0),
            (1.1, 0.0),
            (3.0, 3.0),
            (3.0, 4.2),
            (4.1, 3.0),
        ];
        check(
            &xy,
            &[0, 0, 0, 1, 1, 1],
            3,
            [0.679300, 0.895936, 0.787618, 1.0, 0.893809],
        );
        // loss = 0.112263
        assert_doc(-0.893_809_f64.ln(), 0.112263);
    }

    #[test]
    fn doc_example_b_gamma_active() {
        let xy = [
            (0.0, 0.0),
            (0.1, 1.0),
            (1.1, 0.2),
            (0.9, 1.3),
            (3.0, 3.0),
            (3.2, 4.1),
            (4.3, 2.9),
            (2.0, 2.4),
        ];
        let labels = [0, 0, 0, 0, 1, 1, 1, 1];
        check(
            &xy,
            &labels,
            4,
            [0.471280, 0.700418, 0.585849, 0.75, 0.667925],
        );
    }

    #[test]
    fn doc_example_c_overlapping_through_the_loss() {
        // As an episode: 2-way, 3 "shots", no-op query set; `support` ICNN equals X = T.
        let xy = [
            (0.0, 0.0),
            (0.0, 1.05),
            (1.1, 0.0),
            (0.5, 0.45),
            (1.2, 1.0),
            (2.0, 2.1),
        ];
        check(
            &xy,
            &[0, 0, 0, 1, 1, 1],
            3,
            [0.122524, 0.489748, 0.306136, 1.0, 0.653068],
        );
        let episode = EpisodeEmbeddings {
            support: points(&xy),
            query: points(&xy[..1]),
            query_labels: Tensor::from_slice(&[0i64]),
            ways: 2,
            shots: 3,
        };
        let loss = Icnn::new(IcnnConfig {
            set: IcnnSet::Support,
            ..IcnnConfig::default()
        })
        .unwrap();
        // ipc defaults to k + 1 = 5 here (k = m - 2 = 4), not 3, so compare with the score
        // computed the same way.
        let y = Tensor::from_slice(&[0i64, 0, 0, 1, 1, 1]);
        let x = points(&xy);
        let want = icnn_score(&x, &y, &x, &y, 4, None, true).unwrap();
        assert_doc(
            loss.forward(&episode).unwrap().double_value(&[]),
            -want.score.double_value(&[]).ln(),
        );
    }

    #[test]
    fn gradients_match_finite_differences_for_each_set() {
        for set in [IcnnSet::Support, IcnnSet::Query, IcnnSet::Full] {
            check_episode_gradients(
                &Icnn::new(IcnnConfig {
                    set,
                    ..IcnnConfig::default()
                })
                .unwrap(),
            );
        }
    }

    #[test]
    fn tiny_target_sets_and_bad_k_are_errors() {
        assert!(Icnn::new(IcnnConfig {
            k: 0,
            ..IcnnConfig::default()
        })
        .is_err());
        let x = points(&[(0.0, 0.0), (1.0, 1.0)]);
        let y = Tensor::from_slice(&[0i64, 1]);
        assert!(matches!(
            icnn_score(&x, &y, &x, &y, 4, None, true),
            Err(TrainError::InvalidInput(_))
        ));
    }
}
