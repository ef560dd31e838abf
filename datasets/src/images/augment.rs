//! Seeded augmentations of square greyscale images: random resized crop, horizontal flip,
//! rotation and additive Gaussian noise, composed into one inverse affine map sampled
//! bilinearly (outside the source is background, 0).

use rand::Rng;
use serde::{Deserialize, Serialize};

/// Which augmentations to apply and how strongly; the default applies none.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AugmentConfig {
    /// Smallest crop area as a fraction of the image, in `(0, 1]` (1 = no crop); the crop's
    /// aspect ratio is drawn log-uniformly in `[3/4, 4/3]` and it is resized back to full size.
    pub crop_min_scale: f64,
    /// Probability of a horizontal flip.
    pub flip_prob: f64,
    /// Rotation angle drawn uniformly in `[-max, max]` degrees.
    pub max_rotation_deg: f64,
    /// Standard deviation of the additive Gaussian noise (0 = none).
    pub noise_std: f64,
}

impl Default for AugmentConfig {
    fn default() -> Self {
        Self {
            crop_min_scale: 1.0,
            flip_prob: 0.0,
            max_rotation_deg: 0.0,
            noise_std: 0.0,
        }
    }
}

impl AugmentConfig {
    /// Checks that every value is usable.
    ///
    /// # Errors
    /// A message naming the first bad field.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.crop_min_scale > 0.0 && self.crop_min_scale <= 1.0) {
            return Err(format!(
                "crop_min_scale must be in (0, 1], got {}",
                self.crop_min_scale
            ));
        }
        if !(0.0..=1.0).contains(&self.flip_prob) {
            return Err(format!(
                "flip_prob must be in [0, 1], got {}",
                self.flip_prob
            ));
        }
        if !(self.max_rotation_deg.is_finite() && self.max_rotation_deg >= 0.0) {
            return Err(format!(
                "max_rotation_deg must be finite and >= 0, got {}",
                self.max_rotation_deg
            ));
        }
        if !(self.noise_std.is_finite() && self.noise_std >= 0.0) {
            return Err(format!(
                "noise_std must be finite and >= 0, got {}",
                self.noise_std
            ));
        }
        Ok(())
    }

    /// Whether this config changes images at all.
    pub fn is_identity(&self) -> bool {
        self.crop_min_scale >= 1.0
            && self.flip_prob <= 0.0
            && self.max_rotation_deg <= 0.0
            && self.noise_std <= 0.0
    }
}

/// Applies an [`AugmentConfig`] with a caller-supplied random generator (so runs are seeded).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Augmenter {
    config: AugmentConfig,
}

impl Augmenter {
    /// Checks the config.
    ///
    /// # Errors
    /// A message naming the first bad field.
    pub fn new(config: AugmentConfig) -> Result<Self, String> {
        config.validate()?;
        Ok(Self { config })
    }

    /// Writes an augmented copy of the `side × side` image `src` into `out` (same size).
    /// `src` and `out` must both hold `side²` pixels; shorter buffers are filled as far as
    /// they go.
    #[expect(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        reason = "image sides are small; noise is added in f32"
    )]
    pub fn apply(&self, src: &[f32], side: usize, rng: &mut impl Rng, out: &mut [f32]) {
        let c = &self.config;
        let n = side as f64;
        let (mut crop_w, mut crop_h, mut x0, mut y0) = (n, n, 0.0, 0.0);
        if c.crop_min_scale < 1.0 {
            let area = rng.gen_range(c.crop_min_scale..=1.0);
            let log_ratio = rng.gen_range((0.75f64).ln()..=(4.0f64 / 3.0).ln());
            let ratio = log_ratio.exp();
            crop_w = (n * (area * ratio).sqrt()).min(n);
            crop_h = (n * (area / ratio).sqrt()).min(n);
            x0 = rng.gen_range(0.0..=(n - crop_w));
            y0 = rng.gen_range(0.0..=(n - crop_h));
        }
        let flip = c.flip_prob > 0.0 && rng.gen_bool(c.flip_prob);
        let angle = if c.max_rotation_deg > 0.0 {
            rng.gen_range(-c.max_rotation_deg..=c.max_rotation_deg)
                .to_radians()
        } else {
            0.0
        };
        let (sin, cos) = angle.sin_cos();
        let centre = (n - 1.0) / 2.0;
        for v in 0..side {
            for u in 0..side {
                // Output pixel -> rotated -> flipped -> position in the crop -> source.
                let (du, dv) = (u as f64 - centre, v as f64 - centre);
                let mut a = cos * du - sin * dv + centre;
                let b = sin * du + cos * dv + centre;
                if flip {
                    a = n - 1.0 - a;
                }
                let sx = x0 + (a + 0.5) * crop_w / n - 0.5;
                let sy = y0 + (b + 0.5) * crop_h / n - 0.5;
                if let Some(slot) = out.get_mut(v * side + u) {
                    *slot = bilinear(src, side, sx, sy) as f32;
                }
            }
        }
        if c.noise_std > 0.0 {
            for p in out.iter_mut().take(side * side) {
                *p += (c.noise_std * standard_normal(rng)) as f32;
            }
        }
    }
}

/// Bilinear sample of a `side × side` image at `(x, y)`; pixels outside are 0.
#[expect(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "coordinates are checked against the image bounds"
)]
fn bilinear(src: &[f32], side: usize, x: f64, y: f64) -> f64 {
    let (fx, fy) = (x.floor(), y.floor());
    let (tx, ty) = (x - fx, y - fy);
    let at = |xi: f64, yi: f64| -> f64 {
        if xi < 0.0 || yi < 0.0 || xi >= side as f64 || yi >= side as f64 {
            return 0.0;
        }
        src.get(yi as usize * side + xi as usize)
            .map_or(0.0, |&p| f64::from(p))
    };
    let top = at(fx, fy) * (1.0 - tx) + at(fx + 1.0, fy) * tx;
    let bottom = at(fx, fy + 1.0) * (1.0 - tx) + at(fx + 1.0, fy + 1.0) * tx;
    top * (1.0 - ty) + bottom * ty
}

/// One standard normal draw (Box-Muller).
fn standard_normal(rng: &mut impl Rng) -> f64 {
    let u1: f64 = rng.gen_range(f64::MIN_POSITIVE..1.0);
    let u2: f64 = rng.gen();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    use super::*;

    fn image() -> Vec<f32> {
        (0..25).map(|v| (v % 7) as f32 / 7.0).collect()
    }

    #[test]
    fn identity_config_copies_the_image() {
        let aug = Augmenter::new(AugmentConfig::default()).unwrap();
        let mut out = vec![0.0; 25];
        aug.apply(&image(), 5, &mut StdRng::seed_from_u64(1), &mut out);
        for (a, b) in out.iter().zip(image()) {
            assert!((a - b).abs() < 1e-6);
        }
    }

    #[test]
    fn flip_mirrors_rows() {
        let config = AugmentConfig {
            flip_prob: 1.0,
            ..AugmentConfig::default()
        };
        let mut out = vec![0.0; 25];
        Augmenter::new(config)
            .unwrap()
            .apply(&image(), 5, &mut StdRng::seed_from_u64(1), &mut out);
        let src = image();
        for y in 0..5 {
            for x in 0..5 {
                assert!((out[y * 5 + x] - src[y * 5 + 4 - x]).abs() < 1e-6);
            }
        }
    }

    #[test]
    fn same_seed_same_result_other_seed_other_result() {
        let config = AugmentConfig {
            crop_min_scale: 0.6,
            flip_prob: 0.5,
            max_rotation_deg: 15.0,
            noise_std: 0.05,
        };
        let aug = Augmenter::new(config).unwrap();
        let run = |seed| {
            let mut out = vec![0.0; 25];
            aug.apply(&image(), 5, &mut StdRng::seed_from_u64(seed), &mut out);
            out
        };
        assert_eq!(run(3), run(3));
        assert_ne!(run(3), run(4));
    }

    #[test]
    fn rejects_bad_values() {
        for config in [
            AugmentConfig {
                crop_min_scale: 0.0,
                ..AugmentConfig::default()
            },
            AugmentConfig {
                flip_prob: 1.5,
                ..AugmentConfig::default()
            },
            AugmentConfig {
                noise_std: f64::NAN,
                ..AugmentConfig::default()
            },
        ] {
            assert!(Augmenter::new(config).is_err());
        }
    }
}
