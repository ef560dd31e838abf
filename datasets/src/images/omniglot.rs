//! Omniglot from the npz archives of `shared/data/omniglot`: `images` bool
//! `(characters, 20, 105, 105)` with `True` = background, and `labels`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{DatasetError, Result};
use crate::images::class_set::{resize_area, rotate90, ImageClassSet};
use crate::images::npz::with_npz_entry;

/// The two halves of Lake et al.'s split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OmniglotSplit {
    /// The 30 background alphabets (964 characters): training.
    Background,
    /// The 20 evaluation alphabets (659 characters): testing.
    Evaluation,
}

impl OmniglotSplit {
    /// The archive's file name.
    pub fn file_name(self) -> &'static str {
        match self {
            Self::Background => "images_background.npz",
            Self::Evaluation => "images_evaluation.npz",
        }
    }
}

/// How to load Omniglot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OmniglotOptions {
    /// Output side in pixels (images are resized from 105 by area averaging).
    pub image_size: usize,
    /// Add the 90°, 180° and 270° rotations of every character as new classes (4× classes,
    /// as in Prototypical Networks).
    pub rotations: bool,
    /// Keep only the first this many characters (for quick runs and tests).
    pub max_characters: Option<usize>,
}

impl Default for OmniglotOptions {
    fn default() -> Self {
        Self {
            image_size: 28,
            rotations: false,
            max_characters: None,
        }
    }
}

/// Loads one split of Omniglot from `dir`. Pixels are `1.0` for ink and `0.0` for background.
/// Class `c` is character row `c`; with rotations, class `4c + r` is character `c` turned by
/// `r × 90°` counter-clockwise.
///
/// # Errors
/// [`DatasetError::MissingFile`] without the archive, [`DatasetError::Inconsistent`] for an
/// archive that is not a bool `(C, D, H, W)` array, [`DatasetError::Io`] for read errors.
pub fn load_omniglot(
    dir: &Path,
    split: OmniglotSplit,
    options: &OmniglotOptions,
) -> Result<ImageClassSet> {
    let path: PathBuf = dir.join(split.file_name());
    if !path.is_file() {
        return Err(DatasetError::MissingFile {
            path,
            what: "Omniglot archive".to_owned(),
        });
    }
    if options.image_size == 0 {
        return Err(DatasetError::Inconsistent {
            path,
            reason: "image_size must be at least 1".to_owned(),
        });
    }
    with_npz_entry(&path, "images.npy", |reader, header| {
        let bad = |reason: String| DatasetError::Inconsistent {
            path: path.clone(),
            reason,
        };
        let &[characters, drawers, height, width] = header.shape.as_slice() else {
            return Err(bad(format!(
                "images: expected 4 dimensions (characters, drawers, height, width), got {:?}",
                header.shape
            )));
        };
        if header.descr != "|b1" && header.descr != "|u1" {
            return Err(bad(format!(
                "images: expected bool pixels, got {}",
                header.descr
            )));
        }
        if header.fortran_order {
            return Err(bad("images: Fortran order is not supported".to_owned()));
        }
        let keep = options.max_characters.unwrap_or(characters).min(characters);
        let side = options.image_size;
        let mut set = ImageClassSet::new(side);
        let mut raw = vec![0u8; height * width];
        let mut pixels = vec![0.0f32; height * width];
        let turns = if options.rotations { 4 } else { 1 };
        for c in 0..keep {
            let first = set.num_classes();
            for r in 0..turns {
                set.add_class(format!("{}/{c:04}/rot{}", split.file_name(), r * 90));
            }
            for d in 0..drawers {
                reader.read_exact(&mut raw).map_err(|e| {
                    bad(format!(
                        "images: truncated at character {c} drawer {d}: {e}"
                    ))
                })?;
                for (p, &b) in pixels.iter_mut().zip(&raw) {
                    *p = if b == 0 { 1.0 } else { 0.0 };
                }
                let mut image = resize_area(&pixels, height, width, side);
                // Area weights sum to 1 only up to rounding.
                image.iter_mut().for_each(|p| *p = p.clamp(0.0, 1.0));
                for r in 0..turns {
                    if r > 0 {
                        image = rotate90(&image, side);
                    }
                    set.push(first + r, &image)
                        .ok_or_else(|| bad("internal: image size mismatch".to_owned()))?;
                }
            }
        }
        Ok(set)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn omniglot_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/omniglot")
    }

    #[test]
    fn loads_the_first_evaluation_characters_with_rotations() {
        let options = OmniglotOptions {
            image_size: 28,
            rotations: true,
            max_characters: Some(3),
        };
        let set = load_omniglot(&omniglot_dir(), OmniglotSplit::Evaluation, &options).unwrap();
        assert_eq!(set.num_classes(), 12);
        assert_eq!(set.len(), 3 * 20 * 4);
        assert!(set.class_items().iter().all(|items| items.len() == 20));
        // Ink is about 8% of the pixels and lies in [0, 1].
        let ink = set.pixels().iter().sum::<f32>() / set.pixels().len() as f32;
        assert!((0.03..0.2).contains(&ink), "ink fraction {ink}");
        assert!(set.pixels().iter().all(|p| (0.0..=1.0).contains(p)));
        // Class 1 is class 0 turned by 90°.
        let a = set.image(set.class_items()[0][5]).unwrap();
        let b = set.image(set.class_items()[1][5]).unwrap();
        assert_eq!(rotate90(a, 28), b);
    }

    #[test]
    fn missing_and_unreadable_archives_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let err = load_omniglot(
            dir.path(),
            OmniglotSplit::Background,
            &OmniglotOptions::default(),
        )
        .unwrap_err();
        assert!(matches!(err, DatasetError::MissingFile { .. }), "{err}");
        fs_err::write(dir.path().join("images_background.npz"), b"not a zip").unwrap();
        let err = load_omniglot(
            dir.path(),
            OmniglotSplit::Background,
            &OmniglotOptions::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("images_background.npz"), "{err}");
        assert!(err.to_string().contains("zip"), "{err}");
    }
}
