//! Class-per-folder image data sets (`root/<class>/<image>`), as used for faces (one folder per
//! identity: ORL, LFW) and for users' own data, and the decoding of one image into a fixed size
//! and channel count.

use std::path::{Path, PathBuf};

use image::imageops::FilterType;
use image::{DynamicImage, ImageReader};
use serde::{Deserialize, Serialize};

use crate::error::{DatasetError, Result};

/// File extensions (lower case) that [`ImageFolder::open`] picks up.
pub const IMAGE_EXTENSIONS: &[&str] = &["png", "pgm", "ppm", "pbm", "pnm", "jpg", "jpeg"];

/// The channels an image is converted to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channels {
    /// One channel (luma; RGB images are converted with the Rec. 601 weights of `image`).
    #[default]
    Grey,
    /// Three channels (a grey image is repeated into R, G and B).
    Rgb,
}

impl Channels {
    /// Number of channels: 1 or 3.
    pub fn count(self) -> usize {
        match self {
            Self::Grey => 1,
            Self::Rgb => 3,
        }
    }
}

/// What to do with an image whose size (after the optional crop) is not the target size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SizePolicy {
    /// Resize it to the target size (bilinear, aspect ratio not kept).
    #[default]
    Resize,
    /// Reject it with [`DatasetError::BadImage`].
    Exact,
}

/// How images are decoded: optional centre crop, then the target size, then the channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ImageOptions {
    /// Target width in pixels.
    pub width: u32,
    /// Target height in pixels.
    pub height: u32,
    /// Target channels.
    pub channels: Channels,
    /// A centre crop `[width, height]` taken before resizing (e.g. the face in a 250×250 LFW
    /// image); an image smaller than the crop is rejected.
    pub center_crop: Option<[u32; 2]>,
    /// What to do when the size differs from `width × height`.
    pub on_size_mismatch: SizePolicy,
}

impl Default for ImageOptions {
    fn default() -> Self {
        Self {
            width: 64,
            height: 64,
            channels: Channels::Grey,
            center_crop: None,
            on_size_mismatch: SizePolicy::Resize,
        }
    }
}

impl ImageOptions {
    /// Values per image: `channels × height × width`.
    pub fn len(&self) -> usize {
        self.channels.count() * self.width as usize * self.height as usize
    }

    /// Whether an image of these options holds no value (a zero width or height).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A decoded image, channel-major (`[C, H, W]`) 8-bit values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Channels.
    pub channels: Channels,
    /// `channels × height × width` values, channel-major then row-major.
    pub pixels: Vec<u8>,
}

/// Decodes the image at `path` (PNG, PGM/PPM or JPEG, recognised by content) and brings it to
/// `options`: centre crop, resize (or reject), grey/RGB conversion.
///
/// # Errors
/// [`DatasetError::Io`] when the file cannot be read, [`DatasetError::BadImage`] when it cannot
/// be decoded, is smaller than the crop, or has the wrong size under [`SizePolicy::Exact`].
pub fn load_image(path: &Path, options: &ImageOptions) -> Result<Image> {
    let bad = |reason: String| DatasetError::BadImage {
        path: path.to_path_buf(),
        reason,
    };
    if options.is_empty() {
        return Err(bad(format!(
            "target size {}x{} is empty",
            options.width, options.height
        )));
    }
    let reader = ImageReader::open(path)
        .map_err(|source| DatasetError::io(path, source))?
        .with_guessed_format()
        .map_err(|source| DatasetError::io(path, source))?;
    let mut img = reader
        .decode()
        .map_err(|e| bad(format!("cannot decode the image: {e}")))?;
    if let Some([cw, ch]) = options.center_crop {
        if img.width() < cw || img.height() < ch || cw == 0 || ch == 0 {
            return Err(bad(format!(
                "image is {}x{}, smaller than the centre crop {cw}x{ch}",
                img.width(),
                img.height()
            )));
        }
        img = img.crop_imm((img.width() - cw) / 2, (img.height() - ch) / 2, cw, ch);
    }
    if (img.width(), img.height()) != (options.width, options.height) {
        match options.on_size_mismatch {
            SizePolicy::Resize => {
                img = img.resize_exact(options.width, options.height, FilterType::Triangle);
            }
            SizePolicy::Exact => {
                return Err(bad(format!(
                    "image is {}x{}, expected {}x{} (on_size_mismatch = \"exact\")",
                    img.width(),
                    img.height(),
                    options.width,
                    options.height
                )))
            }
        }
    }
    Ok(Image {
        width: options.width,
        height: options.height,
        channels: options.channels,
        pixels: channel_major(&img, options.channels),
    })
}

/// Converts to the channels asked for and reorders interleaved pixels to `[C, H, W]`.
fn channel_major(img: &DynamicImage, channels: Channels) -> Vec<u8> {
    match channels {
        Channels::Grey => img.to_luma8().into_raw(),
        Channels::Rgb => {
            let rgb = img.to_rgb8().into_raw();
            let plane = rgb.len() / 3;
            let mut out = vec![0u8; rgb.len()];
            for (i, px) in rgb.chunks_exact(3).enumerate() {
                for (c, value) in px.iter().enumerate() {
                    out[c * plane + i] = *value;
                }
            }
            out
        }
    }
}

/// One image of an [`ImageFolder`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageItem {
    /// The image file.
    pub path: PathBuf,
    /// Index of its class in [`ImageFolder::classes`].
    pub label: usize,
}

/// A class-per-folder image data set: `root/<class>/<image>`, one class (identity) per
/// sub-folder. Classes and images are in natural order (`s2` before `s10`), so labels are
/// stable; files with other extensions than [`IMAGE_EXTENSIONS`] and class folders without
/// images are skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageFolder {
    root: PathBuf,
    classes: Vec<String>,
    items: Vec<ImageItem>,
}

impl ImageFolder {
    /// Lists the classes and images under `root` (nothing is decoded yet).
    ///
    /// # Errors
    /// [`DatasetError::MissingFile`] when `root` is not a folder, [`DatasetError::Io`] when a
    /// folder cannot be listed, [`DatasetError::Empty`] when no image is found.
    pub fn open(root: impl AsRef<Path>) -> Result<Self> {
        let root = root.as_ref();
        if !root.is_dir() {
            return Err(DatasetError::MissingFile {
                path: root.to_path_buf(),
                what: "image folder (one sub-folder per class)".to_owned(),
            });
        }
        let mut class_dirs: Vec<(String, PathBuf)> = Vec::new();
        for entry in fs_err::read_dir(root).map_err(|e| DatasetError::io(root, e))? {
            let entry = entry.map_err(|e| DatasetError::io(root, e))?;
            let path = entry.path();
            if path.is_dir() {
                class_dirs.push((entry.file_name().to_string_lossy().into_owned(), path));
            }
        }
        class_dirs.sort_by_cached_key(|a| natural_key(&a.0));
        let (mut classes, mut items) = (Vec::new(), Vec::new());
        for (name, dir) in class_dirs {
            let mut files = Vec::new();
            for entry in fs_err::read_dir(&dir).map_err(|e| DatasetError::io(&dir, e))? {
                let path = entry.map_err(|e| DatasetError::io(&dir, e))?.path();
                if path.is_file() && has_image_extension(&path) {
                    files.push(path);
                }
            }
            if files.is_empty() {
                continue;
            }
            files.sort_by_cached_key(|p| {
                natural_key(&p.file_name().unwrap_or_default().to_string_lossy())
            });
            let label = classes.len();
            classes.push(name);
            items.extend(files.into_iter().map(|path| ImageItem { path, label }));
        }
        if items.is_empty() {
            return Err(DatasetError::Empty {
                path: root.to_path_buf(),
            });
        }
        Ok(Self {
            root: root.to_path_buf(),
            classes,
            items,
        })
    }

    /// The folder this set was read from.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Class (identity) names; a label indexes this list.
    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    /// All images, grouped by class in class order.
    pub fn items(&self) -> &[ImageItem] {
        &self.items
    }

    /// The label of every image, in [`items`](Self::items) order.
    pub fn labels(&self) -> Vec<usize> {
        self.items.iter().map(|item| item.label).collect()
    }

    /// Number of images of every class, in class order.
    pub fn class_sizes(&self) -> Vec<usize> {
        let mut sizes = vec![0; self.classes.len()];
        for item in &self.items {
            sizes[item.label] += 1;
        }
        sizes
    }

    /// Keeps the classes for which `keep(name, image_count)` holds and renumbers the labels
    /// densely (order kept). The result may be empty.
    #[must_use]
    pub fn retain_classes(&self, mut keep: impl FnMut(&str, usize) -> bool) -> Self {
        let sizes = self.class_sizes();
        let mut new_label = vec![None; self.classes.len()];
        let mut classes = Vec::new();
        for (label, name) in self.classes.iter().enumerate() {
            if keep(name, sizes[label]) {
                new_label[label] = Some(classes.len());
                classes.push(name.clone());
            }
        }
        let items = self
            .items
            .iter()
            .filter_map(|item| {
                new_label[item.label].map(|label| ImageItem {
                    path: item.path.clone(),
                    label,
                })
            })
            .collect();
        Self {
            root: self.root.clone(),
            classes,
            items,
        }
    }

    /// Decodes every image with `options`, in [`items`](Self::items) order.
    ///
    /// # Errors
    /// The first [`load_image`] error, naming its file.
    pub fn load_images(&self, options: &ImageOptions) -> Result<Vec<Image>> {
        self.items
            .iter()
            .map(|item| load_image(&item.path, options))
            .collect()
    }
}

fn has_image_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// A sort key that orders runs of digits by value: `s2 < s10`, `2.pgm < 10.pgm`.
pub(crate) fn natural_key(name: &str) -> Vec<(String, u64)> {
    let mut key = Vec::new();
    let mut text = String::new();
    let mut digits = String::new();
    for ch in name.chars() {
        if ch.is_ascii_digit() {
            digits.push(ch);
        } else {
            if !digits.is_empty() {
                key.push((
                    std::mem::take(&mut text),
                    digits.parse().unwrap_or(u64::MAX),
                ));
                digits.clear();
            }
            text.push(ch);
        }
    }
    let number = if digits.is_empty() {
        0
    } else {
        digits.parse().unwrap_or(u64::MAX)
    };
    key.push((text, number));
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_png(path: &Path, width: u32, height: u32, rgb: bool) {
        let img = if rgb {
            DynamicImage::ImageRgb8(image::RgbImage::from_fn(width, height, |x, y| {
                image::Rgb([(x * 10) as u8, (y * 10) as u8, 200])
            }))
        } else {
            DynamicImage::ImageLuma8(image::GrayImage::from_fn(width, height, |x, _| {
                image::Luma([(x * 20) as u8])
            }))
        };
        img.save(path).unwrap();
    }

    #[test]
    fn natural_order_puts_2_before_10() {
        let mut names = vec!["s10", "s2", "s1", "a", "10.pgm", "9.pgm"];
        names.sort_by_key(|n| natural_key(n));
        assert_eq!(names, ["9.pgm", "10.pgm", "a", "s1", "s2", "s10"]);
    }

    #[test]
    fn grey_and_rgb_conversion_and_channel_major_layout() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.png");
        write_png(&path, 4, 3, true);
        let options = ImageOptions {
            width: 4,
            height: 3,
            channels: Channels::Rgb,
            ..ImageOptions::default()
        };
        let rgb = load_image(&path, &options).unwrap();
        assert_eq!(rgb.pixels.len(), 3 * 3 * 4);
        // Pixel (x = 2, y = 1): R = 20, G = 10, B = 200, in three planes of 12.
        assert_eq!(
            [
                rgb.pixels[4 + 2],
                rgb.pixels[12 + 4 + 2],
                rgb.pixels[24 + 4 + 2]
            ],
            [20, 10, 200]
        );
        let grey = load_image(
            &path,
            &ImageOptions {
                channels: Channels::Grey,
                ..options
            },
        )
        .unwrap();
        assert_eq!(grey.pixels.len(), 12);
        // A grey image read as RGB repeats its value in the three planes.
        let grey_path = dir.path().join("g.png");
        write_png(&grey_path, 4, 3, false);
        let repeated = load_image(&grey_path, &options).unwrap();
        assert_eq!(repeated.pixels[1], 20);
        assert_eq!(repeated.pixels[12 + 1], 20);
        assert_eq!(repeated.pixels[24 + 1], 20);
    }

    #[test]
    fn wrong_size_is_resized_or_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.png");
        write_png(&path, 10, 8, false);
        let resized = load_image(&path, &ImageOptions::default()).unwrap();
        assert_eq!(
            (resized.width, resized.height, resized.pixels.len()),
            (64, 64, 4096)
        );
        let exact = ImageOptions {
            on_size_mismatch: SizePolicy::Exact,
            ..ImageOptions::default()
        };
        let err = load_image(&path, &exact).unwrap_err().to_string();
        assert!(
            err.contains("a.png") && err.contains("10x8") && err.contains("64x64"),
            "{err}"
        );
        let crop = ImageOptions {
            center_crop: Some([20, 20]),
            ..ImageOptions::default()
        };
        let err = load_image(&path, &crop).unwrap_err().to_string();
        assert!(err.contains("smaller than the centre crop"), "{err}");
    }

    #[test]
    fn undecodable_and_missing_files_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("broken.png");
        fs_err::write(&path, b"not an image").unwrap();
        let err = load_image(&path, &ImageOptions::default()).unwrap_err();
        assert!(matches!(err, DatasetError::BadImage { .. }), "{err}");
        assert!(err.to_string().contains("broken.png"));
        let missing = load_image(&dir.path().join("nope.png"), &ImageOptions::default());
        assert!(matches!(missing, Err(DatasetError::Io { .. })));
    }

    #[test]
    fn folder_lists_classes_in_natural_order_and_skips_other_files() {
        let dir = tempfile::tempdir().unwrap();
        for (class, n) in [("s10", 2), ("s2", 3), ("empty", 0)] {
            let class_dir = dir.path().join(class);
            fs_err::create_dir_all(&class_dir).unwrap();
            for i in 0..n {
                write_png(&class_dir.join(format!("{i}.png")), 2, 2, false);
            }
        }
        fs_err::write(dir.path().join("s2").join("notes.txt"), "x").unwrap();
        let folder = ImageFolder::open(dir.path()).unwrap();
        assert_eq!(folder.classes(), ["s2", "s10"]);
        assert_eq!(folder.labels(), [0, 0, 0, 1, 1]);
        assert_eq!(folder.class_sizes(), [3, 2]);
        let big = folder.retain_classes(|_, n| n >= 3);
        assert_eq!(
            (big.classes(), big.labels()),
            (&["s2".to_owned()][..], vec![0, 0, 0])
        );
        let images = folder.load_images(&ImageOptions::default()).unwrap();
        assert_eq!(images.len(), 5);
        assert!(matches!(
            ImageFolder::open(dir.path().join("empty")),
            Err(DatasetError::Empty { .. })
        ));
        assert!(matches!(
            ImageFolder::open(dir.path().join("nope")),
            Err(DatasetError::MissingFile { .. })
        ));
    }
}
