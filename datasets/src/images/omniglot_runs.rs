//! Lake et al.'s 20 official one-shot runs (`all_runs.zip`): in each run, 20 training images
//! (one per character) and 20 test images, each to be matched to its character's training image.

use std::io::{Cursor, Read};
use std::path::Path;

use crate::error::{DatasetError, Result};
use crate::images::class_set::{resize_area, ImageClassSet};

/// One run as an [`ImageClassSet`]: class `c` holds two images, the training image of
/// character `c` (item 0) and the test image whose answer is `c` (item 1).
#[derive(Debug, Clone, PartialEq)]
pub struct OneShotRun {
    /// `run01` … `run20`.
    pub name: String,
    /// The 20 classes of two images each.
    pub images: ImageClassSet,
}

/// Reads every run of `all_runs.zip`, resizing the 105×105 images to `image_size` by area
/// averaging (ink = 1.0, as [`load_omniglot`](crate::images::load_omniglot)).
///
/// # Errors
/// [`DatasetError::MissingFile`] without the archive; [`DatasetError::Inconsistent`] naming the
/// archive and the entry for an unreadable image, a malformed `class_labels.txt`, or answers
/// that are not one test image per training image.
pub fn load_omniglot_runs(path: &Path, image_size: usize) -> Result<Vec<OneShotRun>> {
    if !path.is_file() {
        return Err(DatasetError::MissingFile {
            path: path.to_path_buf(),
            what: "Omniglot one-shot runs archive".to_owned(),
        });
    }
    let bad = |reason: String| DatasetError::Inconsistent {
        path: path.to_path_buf(),
        reason,
    };
    let file = fs_err::File::open(path).map_err(|e| DatasetError::io(path, e))?;
    let mut archive = zip::ZipArchive::new(std::io::BufReader::new(file))
        .map_err(|e| bad(format!("not a readable zip archive: {e}")))?;
    let mut read = |name: &str| -> Result<Vec<u8>> {
        let mut entry = archive
            .by_name(name)
            .map_err(|e| bad(format!("{name}: {e}")))?;
        let mut bytes = Vec::new();
        entry
            .read_to_end(&mut bytes)
            .map_err(|e| bad(format!("{name}: {e}")))?;
        Ok(bytes)
    };
    let mut runs = Vec::new();
    for r in 1..=20 {
        let name = format!("run{r:02}");
        let labels_name = format!("{name}/class_labels.txt");
        let labels = String::from_utf8(read(&labels_name)?)
            .map_err(|_| bad(format!("{labels_name}: not UTF-8")))?;
        let mut pairs: Vec<(usize, String)> = Vec::new();
        for (n, line) in labels
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let malformed = || {
                bad(format!(
                    "{labels_name}:{}: expected \"TEST TRAINING\"",
                    n + 1
                ))
            };
            let (test, training) = line.trim().split_once(' ').ok_or_else(malformed)?;
            let class = training
                .trim()
                .strip_prefix(&format!("{name}/training/class"))
                .and_then(|s| s.strip_suffix(".png"))
                .and_then(|s| s.parse::<usize>().ok())
                .filter(|c| (1..=20).contains(c))
                .ok_or_else(malformed)?;
            pairs.push((class - 1, test.trim().to_owned()));
        }
        let mut classes: Vec<usize> = pairs.iter().map(|p| p.0).collect();
        classes.sort_unstable();
        if classes != (0..20).collect::<Vec<_>>() {
            return Err(bad(format!(
                "{labels_name}: expected one test image for each of 20 training images"
            )));
        }
        pairs.sort_unstable();
        let mut images = ImageClassSet::new(image_size);
        for (class, test) in &pairs {
            let c = images.add_class(format!("{name}/class{:02}", class + 1));
            for entry in [
                format!("{name}/training/class{:02}.png", class + 1),
                test.clone(),
            ] {
                let pixels = decode_png(&read(&entry)?, image_size)
                    .map_err(|e| bad(format!("{entry}: unreadable image: {e}")))?;
                images
                    .push(c, &pixels)
                    .ok_or_else(|| bad(format!("{entry}: wrong size")))?;
            }
        }
        runs.push(OneShotRun { name, images });
    }
    Ok(runs)
}

/// Decodes a greyscale PNG (any bit depth) and resizes it to `side × side`; dark pixels are ink
/// (1.0).
fn decode_png(bytes: &[u8], side: usize) -> std::result::Result<Vec<f32>, String> {
    let mut decoder = png::Decoder::new(Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().map_err(|e| e.to_string())?;
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| "image too large".to_owned())?;
    let mut buf = vec![0u8; size];
    let info = reader.next_frame(&mut buf).map_err(|e| e.to_string())?;
    let channels = match info.color_type {
        png::ColorType::Grayscale => 1,
        png::ColorType::GrayscaleAlpha => 2,
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        png::ColorType::Indexed => return Err("palette images are not supported".to_owned()),
    };
    let (w, h) = (info.width as usize, info.height as usize);
    let ink: Vec<f32> = (0..w * h)
        .map(|i| {
            let row = i / w;
            let at = row * info.line_size + (i % w) * channels;
            if buf.get(at).copied().unwrap_or(255) < 128 {
                1.0
            } else {
                0.0
            }
        })
        .collect();
    let mut image = resize_area(&ink, h, w, side);
    image.iter_mut().for_each(|p| *p = p.clamp(0.0, 1.0));
    Ok(image)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::images::{load_omniglot, OmniglotOptions, OmniglotSplit};

    fn dir() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/omniglot")
    }

    #[test]
    fn twenty_runs_of_twenty_pairs_that_occur_in_the_evaluation_set() {
        let runs = load_omniglot_runs(&dir().join("all_runs.zip"), 28).unwrap();
        assert_eq!(runs.len(), 20);
        for run in &runs {
            assert_eq!(run.images.num_classes(), 20);
            assert!(run.images.class_items().iter().all(|c| c.len() == 2));
        }
        // The data README: every run image is pixel-identical to an evaluation npz image, so
        // after the same resize the first training image is found exactly.
        let eval = load_omniglot(
            &dir(),
            OmniglotSplit::Evaluation,
            &OmniglotOptions::default(),
        )
        .unwrap();
        let first = runs[0].images.image(0).unwrap();
        let found = (0..eval.len()).any(|i| eval.image(i) == Some(first));
        assert!(found, "run01 class01 not found in images_evaluation.npz");
    }

    #[test]
    fn unreadable_image_and_missing_archive_are_named() {
        let tmp = tempfile::tempdir().unwrap();
        let missing = load_omniglot_runs(&tmp.path().join("all_runs.zip"), 28).unwrap_err();
        assert!(
            matches!(missing, DatasetError::MissingFile { .. }),
            "{missing}"
        );
        let path = tmp.path().join("all_runs.zip");
        let mut zip = zip::ZipWriter::new(fs_err::File::create(&path).unwrap());
        let options = zip::write::SimpleFileOptions::default();
        zip.start_file("run01/class_labels.txt", options).unwrap();
        let labels: String = (1..=20)
            .map(|i| format!("run01/test/item{i:02}.png run01/training/class{i:02}.png\n"))
            .collect();
        std::io::Write::write_all(&mut zip, labels.as_bytes()).unwrap();
        zip.start_file("run01/training/class01.png", options)
            .unwrap();
        std::io::Write::write_all(&mut zip, b"\x89PNG\r\n\x1a\n truncated").unwrap();
        zip.finish().unwrap();
        let err = load_omniglot_runs(&path, 28).unwrap_err().to_string();
        assert!(
            err.contains("run01/training/class01.png: unreadable image"),
            "{err}"
        );
    }
}
