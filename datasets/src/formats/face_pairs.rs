//! Face verification pairs: the LFW `pairs.txt` format, LFW-style TSV (`fold person1 image1
//! person2 image2 same`) and a generic TSV of image paths (`fold path1 path2 same`).

use std::collections::BTreeSet;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use crate::error::{DatasetError, Result};
use crate::formats::{open_buffered, ImageFolder};

/// Header of the generic pairs TSV written by [`write_face_pairs`].
pub const GENERIC_PAIRS_HEADER: &str = "fold\tpath1\tpath2\tsame";
/// Header of the LFW-style TSV (`pairs_available.tsv` of the LFW subset).
pub const LFW_TSV_HEADER: &str = "fold\tperson1\timage1\tperson2\timage2\tsame";

/// Two images and whether they show the same identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FacePair {
    /// 1-based line of the pairs file (0 for pairs made in memory).
    pub line: usize,
    /// Cross-validation fold, 0-based.
    pub fold: usize,
    /// First image, relative to the images folder (`<identity>/<file>`).
    pub left: PathBuf,
    /// Second image, relative to the images folder.
    pub right: PathBuf,
    /// Same identity.
    pub same: bool,
}

impl FacePair {
    /// The identities of both images (the first path component of each).
    pub fn identities(&self) -> [String; 2] {
        [identity_of(&self.left), identity_of(&self.right)]
    }
}

fn identity_of(path: &Path) -> String {
    path.components()
        .next()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The LFW file name of image `number` of `person`: `<person>/<person>_<NNNN>.jpg`.
pub fn lfw_image_path(person: &str, number: u32) -> PathBuf {
    PathBuf::from(person).join(format!("{person}_{number:04}.jpg"))
}

/// Reads a pairs file in any of the three formats, recognised by the first line: `F N` (LFW
/// `pairs.txt`: `F` folds of `N` same then `N` different pairs, fold = position), or one of the
/// two TSV headers ([`LFW_TSV_HEADER`], [`GENERIC_PAIRS_HEADER`]; folds 1-based in the file).
///
/// # Errors
/// [`DatasetError::Malformed`] naming the line for an unknown header or a bad record,
/// [`DatasetError::Empty`] when there is no pair.
pub fn read_face_pairs(path: impl AsRef<Path>) -> Result<Vec<FacePair>> {
    let path = path.as_ref();
    let mut lines = Vec::new();
    for (i, line) in open_buffered(path)?.lines().enumerate() {
        let line = line.map_err(|e| DatasetError::io(path, e))?;
        if !line.trim().is_empty() {
            lines.push((i + 1, line));
        }
    }
    let Some((first_no, first)) = lines.first().cloned() else {
        return Err(DatasetError::Empty {
            path: path.to_path_buf(),
        });
    };
    let header: Vec<&str> = first.split_whitespace().collect();
    let pairs = if header.join("\t") == LFW_TSV_HEADER {
        parse_records(path, &lines[1..], parse_lfw_tsv)?
    } else if header.join("\t") == GENERIC_PAIRS_HEADER {
        parse_records(path, &lines[1..], parse_generic)?
    } else if let [folds, per_half] = header.as_slice() {
        let number = |s: &str| s.parse::<usize>().ok().filter(|&n| n > 0);
        let (Some(folds), Some(per_half)) = (number(folds), number(per_half)) else {
            return Err(DatasetError::malformed(
                path,
                first_no,
                "bad `folds pairs` header",
            ));
        };
        parse_lfw_txt(path, &lines[1..], folds, per_half)?
    } else {
        return Err(DatasetError::malformed(
            path,
            first_no,
            format!(
                "unknown pairs format: expect an LFW `folds pairs` line, {LFW_TSV_HEADER:?} or \
                 {GENERIC_PAIRS_HEADER:?}"
            ),
        ));
    };
    if pairs.is_empty() {
        return Err(DatasetError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(pairs)
}

type RecordParser = fn(&[&str]) -> std::result::Result<(usize, PathBuf, PathBuf, bool), String>;

fn parse_records(
    path: &Path,
    lines: &[(usize, String)],
    parse: RecordParser,
) -> Result<Vec<FacePair>> {
    lines
        .iter()
        .map(|(line, text)| {
            let fields: Vec<&str> = text.split('\t').map(str::trim).collect();
            let (fold, left, right, same) =
                parse(&fields).map_err(|reason| DatasetError::malformed(path, *line, reason))?;
            Ok(FacePair {
                line: *line,
                fold,
                left,
                right,
                same,
            })
        })
        .collect()
}

fn parse_fold(field: &str) -> std::result::Result<usize, String> {
    match field.parse::<usize>() {
        Ok(fold) if fold >= 1 => Ok(fold - 1),
        _ => Err(format!("fold must be a number from 1, got {field:?}")),
    }
}

fn parse_same(field: &str) -> std::result::Result<bool, String> {
    match field {
        "1" | "true" => Ok(true),
        "0" | "false" => Ok(false),
        _ => Err(format!("same must be 0 or 1, got {field:?}")),
    }
}

fn parse_number(field: &str) -> std::result::Result<u32, String> {
    field
        .parse()
        .map_err(|_| format!("image number expected, got {field:?}"))
}

fn parse_lfw_tsv(fields: &[&str]) -> std::result::Result<(usize, PathBuf, PathBuf, bool), String> {
    let &[fold, p1, i1, p2, i2, same] = fields else {
        return Err(format!(
            "expected 6 tab-separated fields, got {}",
            fields.len()
        ));
    };
    Ok((
        parse_fold(fold)?,
        lfw_image_path(p1, parse_number(i1)?),
        lfw_image_path(p2, parse_number(i2)?),
        parse_same(same)?,
    ))
}

fn parse_generic(fields: &[&str]) -> std::result::Result<(usize, PathBuf, PathBuf, bool), String> {
    let &[fold, left, right, same] = fields else {
        return Err(format!(
            "expected 4 tab-separated fields, got {}",
            fields.len()
        ));
    };
    if left.is_empty() || right.is_empty() {
        return Err("empty image path".to_owned());
    }
    Ok((
        parse_fold(fold)?,
        PathBuf::from(left),
        PathBuf::from(right),
        parse_same(same)?,
    ))
}

fn parse_lfw_txt(
    path: &Path,
    lines: &[(usize, String)],
    folds: usize,
    per_half: usize,
) -> Result<Vec<FacePair>> {
    if lines.len() != folds * 2 * per_half {
        return Err(DatasetError::Inconsistent {
            path: path.to_path_buf(),
            reason: format!(
                "the header promises {folds} folds of 2 x {per_half} pairs, the file has {} pairs",
                lines.len()
            ),
        });
    }
    lines
        .iter()
        .enumerate()
        .map(|(index, (line, text))| {
            let fields: Vec<&str> = text.split_whitespace().collect();
            let parsed = parse_lfw_txt_fields(&fields);
            let (left, right, same) =
                parsed.map_err(|reason| DatasetError::malformed(path, *line, reason))?;
            Ok(FacePair {
                line: *line,
                fold: index / (2 * per_half),
                left,
                right,
                same,
            })
        })
        .collect()
}

fn parse_lfw_txt_fields(fields: &[&str]) -> std::result::Result<(PathBuf, PathBuf, bool), String> {
    match *fields {
        [person, i1, i2] => Ok((
            lfw_image_path(person, parse_number(i1)?),
            lfw_image_path(person, parse_number(i2)?),
            true,
        )),
        [p1, i1, p2, i2] => Ok((
            lfw_image_path(p1, parse_number(i1)?),
            lfw_image_path(p2, parse_number(i2)?),
            false,
        )),
        _ => Err(format!("expected 3 or 4 fields, got {}", fields.len())),
    }
}

/// Checks that both images of every pair exist under `images`.
///
/// # Errors
/// [`DatasetError::MissingFile`] naming the first missing image and the line of its pair.
pub fn check_pair_images(pairs: &[FacePair], images: &Path) -> Result<()> {
    for pair in pairs {
        for image in [&pair.left, &pair.right] {
            let full = images.join(image);
            if !full.is_file() {
                return Err(DatasetError::MissingFile {
                    path: full,
                    what: format!("image of the pair on line {}", pair.line),
                });
            }
        }
    }
    Ok(())
}

/// The pairs whose two images both exist under `images` (how `pairs_available.tsv` was made
/// from the official `pairs.txt`).
pub fn present_pairs(pairs: &[FacePair], images: &Path) -> Vec<FacePair> {
    pairs
        .iter()
        .filter(|p| images.join(&p.left).is_file() && images.join(&p.right).is_file())
        .cloned()
        .collect()
}

/// Every identity named by the pairs.
pub fn pair_identities(pairs: &[FacePair]) -> BTreeSet<String> {
    pairs.iter().flat_map(FacePair::identities).collect()
}

/// The training side of an identity split: the classes of `folder` that no pair names, so
/// training never sees an evaluation identity.
pub fn exclude_pair_identities(folder: &ImageFolder, pairs: &[FacePair]) -> ImageFolder {
    let held_out = pair_identities(pairs);
    folder.retain_classes(|name, _| !held_out.contains(name))
}

/// All pairs of images of `folder` (every image with every later one), with paths relative to
/// its root; pair `i` goes to fold `i % folds`. For verification on held-out identities, such
/// as the last 10 ORL subjects.
pub fn all_pairs(folder: &ImageFolder, folds: usize) -> Vec<FacePair> {
    let folds = folds.max(1);
    let relative: Vec<PathBuf> = folder
        .items()
        .iter()
        .map(|item| {
            item.path
                .strip_prefix(folder.root())
                .map_or_else(|_| item.path.clone(), Path::to_path_buf)
        })
        .collect();
    let mut pairs = Vec::new();
    for (a, item_a) in folder.items().iter().enumerate() {
        for (b, item_b) in folder.items().iter().enumerate().skip(a + 1) {
            pairs.push(FacePair {
                line: 0,
                fold: pairs.len() % folds,
                left: relative[a].clone(),
                right: relative[b].clone(),
                same: item_a.label == item_b.label,
            });
        }
    }
    pairs
}

/// Writes pairs in the generic TSV format ([`GENERIC_PAIRS_HEADER`]; folds 1-based).
///
/// # Errors
/// [`DatasetError::Io`] when the file cannot be written.
pub fn write_face_pairs(path: &Path, pairs: &[FacePair]) -> Result<()> {
    let io = |e| DatasetError::io(path, e);
    let mut out = std::io::BufWriter::new(fs_err::File::create(path).map_err(io)?);
    writeln!(out, "{GENERIC_PAIRS_HEADER}").map_err(io)?;
    for p in pairs {
        writeln!(
            out,
            "{}\t{}\t{}\t{}",
            p.fold + 1,
            p.left.display(),
            p.right.display(),
            u8::from(p.same)
        )
        .map_err(io)?;
    }
    out.flush().map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        fs_err::write(&path, text).unwrap();
        path
    }

    #[test]
    fn lfw_pairs_txt_assigns_folds_by_position() {
        let dir = tempfile::tempdir().unwrap();
        let text = "2 1\nAnn\t1\t2\nAnn\t1\tBob\t3\nCid 2 4\nBob 1 Cid 1\n";
        let pairs = read_face_pairs(write(dir.path(), "pairs.txt", text)).unwrap();
        assert_eq!(pairs.len(), 4);
        assert_eq!(
            pairs.iter().map(|p| p.fold).collect::<Vec<_>>(),
            [0, 0, 1, 1]
        );
        assert_eq!(
            pairs.iter().map(|p| p.same).collect::<Vec<_>>(),
            [true, false, true, false]
        );
        assert_eq!(pairs[1].left, Path::new("Ann/Ann_0001.jpg"));
        assert_eq!(pairs[1].right, Path::new("Bob/Bob_0003.jpg"));
        assert_eq!(pairs[1].identities(), ["Ann".to_owned(), "Bob".to_owned()]);
        let short = read_face_pairs(write(dir.path(), "short.txt", "2 1\nAnn 1 2\n"));
        assert!(matches!(short, Err(DatasetError::Inconsistent { .. })));
    }

    #[test]
    fn tsv_formats_round_trip_and_bad_lines_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let lfw = format!("{LFW_TSV_HEADER}\n3\tAnn\t1\tAnn\t2\t1\n");
        let pairs = read_face_pairs(write(dir.path(), "a.tsv", &lfw)).unwrap();
        assert_eq!((pairs[0].fold, pairs[0].same, pairs[0].line), (2, true, 2));
        let out = dir.path().join("b.tsv");
        write_face_pairs(&out, &pairs).unwrap();
        let again = read_face_pairs(&out).unwrap();
        assert_eq!((&again[0].left, again[0].fold), (&pairs[0].left, 2));
        let bad = format!("{GENERIC_PAIRS_HEADER}\n1\ta.png\tb.png\t1\n1\ta.png\tb.png\tyes\n");
        let err = read_face_pairs(write(dir.path(), "c.tsv", &bad)).unwrap_err();
        assert_eq!(err.line(), Some(3), "{err}");
        let unknown = read_face_pairs(write(dir.path(), "d.tsv", "hello world again\n"));
        assert!(matches!(
            unknown,
            Err(DatasetError::Malformed { line: 1, .. })
        ));
    }

    #[test]
    fn a_pair_naming_a_missing_image_is_reported_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        fs_err::create_dir_all(dir.path().join("Ann")).unwrap();
        fs_err::write(dir.path().join("Ann/Ann_0001.jpg"), b"x").unwrap();
        let text = format!("{LFW_TSV_HEADER}\n1\tAnn\t1\tAnn\t1\t1\n1\tAnn\t1\tAnn\t2\t1\n");
        let pairs = read_face_pairs(write(dir.path(), "p.tsv", &text)).unwrap();
        let err = check_pair_images(&pairs, dir.path())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("Ann_0002.jpg") && err.contains("line 3"),
            "{err}"
        );
        assert_eq!(present_pairs(&pairs, dir.path()).len(), 1);
    }
}
