//! The part of the `.npy` format (v1–v3) that the Omniglot archives need: the header, then raw
//! little-endian data read by the caller. `.npz` archives are zip files of `.npy` entries.

use std::io::Read;
use std::path::Path;

use crate::error::{DatasetError, Result};

/// The magic bytes that start every `.npy` file.
const MAGIC: &[u8] = b"\x93NUMPY";

/// A parsed `.npy` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NpyHeader {
    /// The numpy type string, e.g. `|b1`, `|u1`, `<i8`.
    pub descr: String,
    /// Whether the data is in column-major order.
    pub fortran_order: bool,
    /// The array shape.
    pub shape: Vec<usize>,
}

impl NpyHeader {
    /// The number of elements.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Whether the array has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes per element of the supported types (`|b1`, `|u1`, `<i8`), `None` otherwise.
    pub fn item_size(&self) -> Option<usize> {
        match self.descr.as_str() {
            "|b1" | "|u1" => Some(1),
            "<i8" => Some(8),
            _ => None,
        }
    }
}

/// Reads the header of a `.npy` stream, leaving `reader` at the first data byte; `path` names
/// the file in errors.
///
/// # Errors
/// [`DatasetError::Io`] for read errors and [`DatasetError::Inconsistent`] for a malformed header.
pub fn read_npy_header(reader: &mut impl Read, path: &Path) -> Result<NpyHeader> {
    let bad = |reason: String| DatasetError::Inconsistent {
        path: path.to_path_buf(),
        reason,
    };
    let mut start = [0u8; 8];
    reader
        .read_exact(&mut start)
        .map_err(|e| DatasetError::io(path, e))?;
    if &start[..6] != MAGIC {
        return Err(bad("not a .npy array (bad magic bytes)".to_owned()));
    }
    let header_len = match start[6] {
        1 => {
            let mut len = [0u8; 2];
            reader
                .read_exact(&mut len)
                .map_err(|e| DatasetError::io(path, e))?;
            usize::from(u16::from_le_bytes(len))
        }
        2 | 3 => {
            let mut len = [0u8; 4];
            reader
                .read_exact(&mut len)
                .map_err(|e| DatasetError::io(path, e))?;
            usize::try_from(u32::from_le_bytes(len))
                .map_err(|_| bad("header length does not fit in memory".to_owned()))?
        }
        v => return Err(bad(format!("unsupported .npy version {v}"))),
    };
    if header_len > 1 << 20 {
        return Err(bad(format!("header of {header_len} bytes is too long")));
    }
    let mut text = vec![0u8; header_len];
    reader
        .read_exact(&mut text)
        .map_err(|e| DatasetError::io(path, e))?;
    let text = String::from_utf8(text).map_err(|_| bad("header is not UTF-8".to_owned()))?;
    parse_header(&text).map_err(bad)
}

/// Parses the Python dict literal of a `.npy` header.
fn parse_header(text: &str) -> std::result::Result<NpyHeader, String> {
    let value_after = |key: &str| -> std::result::Result<&str, String> {
        let at = text
            .find(&format!("'{key}'"))
            .ok_or_else(|| format!("header has no {key:?}: {text:?}"))?;
        let rest = &text[at + key.len() + 2..];
        let colon = rest
            .find(':')
            .ok_or_else(|| format!("header: no value for {key:?}"))?;
        Ok(rest[colon + 1..].trim_start())
    };
    let descr = value_after("descr")?;
    let descr = descr
        .strip_prefix('\'')
        .and_then(|d| d.split('\'').next())
        .ok_or_else(|| format!("header: bad descr in {text:?}"))?
        .to_owned();
    let fortran_order = value_after("fortran_order")?.starts_with("True");
    let shape = value_after("shape")?;
    let shape = shape
        .strip_prefix('(')
        .and_then(|s| s.split(')').next())
        .ok_or_else(|| format!("header: bad shape in {text:?}"))?;
    let shape = shape
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<usize>()
                .map_err(|_| format!("header: bad dimension {s:?}"))
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(NpyHeader {
        descr,
        fortran_order,
        shape,
    })
}

/// Opens entry `name` (e.g. `images.npy`) of the `.npz` archive at `path` and hands its reader,
/// positioned after the header, to `with`.
///
/// # Errors
/// [`DatasetError::Io`] when the archive cannot be read, [`DatasetError::MissingFile`] when the
/// entry is absent, [`DatasetError::Inconsistent`] for a malformed archive or header.
pub(crate) fn with_npz_entry<T>(
    path: &Path,
    name: &str,
    with: impl FnOnce(&mut dyn Read, &NpyHeader) -> Result<T>,
) -> Result<T> {
    let file = fs_err::File::open(path).map_err(|e| DatasetError::io(path, e))?;
    let mut archive = zip::ZipArchive::new(std::io::BufReader::new(file)).map_err(|e| {
        DatasetError::Inconsistent {
            path: path.to_path_buf(),
            reason: format!("not a readable .npz (zip) archive: {e}"),
        }
    })?;
    let mut entry = match archive.by_name(name) {
        Ok(entry) => entry,
        Err(zip::result::ZipError::FileNotFound) => {
            return Err(DatasetError::MissingFile {
                path: path.join(name),
                what: format!("array {name} in the .npz archive"),
            })
        }
        Err(e) => {
            return Err(DatasetError::Inconsistent {
                path: path.to_path_buf(),
                reason: format!("cannot read {name}: {e}"),
            })
        }
    };
    let header = read_npy_header(&mut entry, path)?;
    with(&mut entry, &header)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy(header: &str, data: &[u8]) -> Vec<u8> {
        let mut bytes = MAGIC.to_vec();
        bytes.extend([1, 0]);
        let len = u16::try_from(header.len()).unwrap();
        bytes.extend(len.to_le_bytes());
        bytes.extend(header.as_bytes());
        bytes.extend(data);
        bytes
    }

    #[test]
    fn parses_a_numpy_header() {
        let bytes = npy(
            "{'descr': '|b1', 'fortran_order': False, 'shape': (2, 3), }\n",
            &[1, 0, 1, 0, 0, 1],
        );
        let mut reader = bytes.as_slice();
        let header = read_npy_header(&mut reader, Path::new("x.npy")).unwrap();
        assert_eq!(header.descr, "|b1");
        assert!(!header.fortran_order);
        assert_eq!(header.shape, vec![2, 3]);
        assert_eq!(header.len(), 6);
        assert_eq!(header.item_size(), Some(1));
        assert_eq!(reader, &[1, 0, 1, 0, 0, 1]);
    }

    #[test]
    fn one_dimensional_shape_and_scalar() {
        let h = parse_header("{'descr': '<i8', 'fortran_order': True, 'shape': (5,), }").unwrap();
        assert_eq!(
            (h.item_size(), h.fortran_order, h.shape),
            (Some(8), true, vec![5])
        );
        let h = parse_header("{'descr': '<f4', 'fortran_order': False, 'shape': (), }").unwrap();
        assert!(h.shape.is_empty());
        assert_eq!(h.item_size(), None);
    }

    #[test]
    fn rejects_bad_magic_and_bad_headers() {
        let mut reader: &[u8] = b"PK\x03\x04 not npy";
        let err = read_npy_header(&mut reader, Path::new("x.npy")).unwrap_err();
        assert!(err.to_string().contains("bad magic"), "{err}");
        let bytes = npy("{'descr': '|b1', 'shape': (2, x), }", &[]);
        let err = read_npy_header(&mut bytes.as_slice(), Path::new("x.npy")).unwrap_err();
        assert!(err.to_string().contains("x.npy"), "{err}");
    }
}
