//! Reading `[rows, cols]` matrices from NumPy `.npy` files (format versions 1.0–3.0): enough
//! for vector sets and neighbour lists exchanged with numpy. Writing lives in `npy.rs`.

use std::path::Path;

use anyhow::{bail, Context};

/// A row-major `[rows, cols]` matrix read from a `.npy` file.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Matrix<T> {
    pub(crate) rows: usize,
    pub(crate) cols: usize,
    pub(crate) data: Vec<T>,
}

impl<T> Matrix<T> {
    /// Row `i` (`i < rows`).
    pub(crate) fn row(&self, i: usize) -> &[T] {
        &self.data[i * self.cols..(i + 1) * self.cols]
    }
}

/// Reads a little-endian float32 2-D `.npy` file (`descr '<f4'`, C order).
pub(crate) fn read_f32_matrix(path: &Path) -> anyhow::Result<Matrix<f32>> {
    read_matrix(path, "<f4", f32::from_le_bytes)
}

/// Reads a little-endian int32 2-D `.npy` file (`descr '<i4'`, C order).
pub(crate) fn read_i32_matrix(path: &Path) -> anyhow::Result<Matrix<i32>> {
    read_matrix(path, "<i4", i32::from_le_bytes)
}

fn read_matrix<T>(path: &Path, descr: &str, decode: fn([u8; 4]) -> T) -> anyhow::Result<Matrix<T>> {
    let bytes = fs_err::read(path)?;
    parse_matrix(&bytes, descr, decode).with_context(|| format!("cannot read {}", path.display()))
}

fn parse_matrix<T>(
    bytes: &[u8],
    descr: &str,
    decode: fn([u8; 4]) -> T,
) -> anyhow::Result<Matrix<T>> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        bail!("not a .npy file");
    }
    let (header_len, header_start) = match bytes[6] {
        1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
        2 | 3 if bytes.len() >= 12 => {
            let len = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
            (usize::try_from(len)?, 12)
        }
        version => bail!("unsupported .npy version {version}"),
    };
    let header = bytes
        .get(header_start..header_start + header_len)
        .context("truncated .npy header")?;
    let header = std::str::from_utf8(header).context(".npy header is not UTF-8")?;
    let found = dict_value(header, "descr")?;
    if found.trim_matches(['\'', '"']) != descr {
        bail!("dtype is {found}, expected '{descr}'");
    }
    if dict_value(header, "fortran_order")? != "False" {
        bail!("Fortran-ordered arrays are not supported");
    }
    let (rows, cols) = parse_shape(header)?;
    let payload = &bytes[header_start + header_len..];
    let expected = rows
        .checked_mul(cols)
        .and_then(|n| n.checked_mul(4))
        .context("shape overflows")?;
    if payload.len() != expected {
        bail!(
            "shape ({rows}, {cols}) needs {expected} bytes of data, the file has {}",
            payload.len()
        );
    }
    let data = payload
        .chunks_exact(4)
        .map(|c| decode([c[0], c[1], c[2], c[3]]))
        .collect();
    Ok(Matrix { rows, cols, data })
}

/// The raw text of `'key': value` in the header dict, up to the next top-level comma.
fn dict_value<'h>(header: &'h str, key: &str) -> anyhow::Result<&'h str> {
    let pattern = format!("'{key}':");
    let start = header
        .find(&pattern)
        .with_context(|| format!(".npy header has no {key}"))?
        + pattern.len();
    let rest = header[start..].trim_start();
    let end = if rest.starts_with('(') {
        rest.find(')').map_or(rest.len(), |i| i + 1)
    } else {
        rest.find([',', '}']).unwrap_or(rest.len())
    };
    Ok(rest[..end].trim())
}

fn parse_shape(header: &str) -> anyhow::Result<(usize, usize)> {
    let shape = dict_value(header, "shape")?;
    let dims: Vec<usize> = shape
        .trim_matches(['(', ')'])
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::parse)
        .collect::<Result<_, _>>()
        .with_context(|| format!("bad shape {shape}"))?;
    match dims[..] {
        [rows, cols] => Ok((rows, cols)),
        _ => bail!("expected a 2-D array, the shape is {shape}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_back_what_the_f32_writer_wrote() {
        let mut bytes = Vec::new();
        let data = [1.0, -2.5, 3.0, 4.0, 5.0, 6.25];
        crate::npy::write_f32_matrix(&mut bytes, 2, 3, &data).unwrap();
        let matrix = parse_matrix(&bytes, "<f4", f32::from_le_bytes).unwrap();
        assert_eq!((matrix.rows, matrix.cols), (2, 3));
        assert_eq!(matrix.data, data);
        assert_eq!(matrix.row(1), &[4.0, 5.0, 6.25]);
    }

    #[test]
    fn reads_back_int32_and_rejects_the_wrong_dtype() {
        let mut bytes = Vec::new();
        crate::npy::write_i32_matrix(&mut bytes, 1, 2, &[7, -1]).unwrap();
        let matrix = parse_matrix(&bytes, "<i4", i32::from_le_bytes).unwrap();
        assert_eq!(matrix.data, [7, -1]);
        let err = parse_matrix(&bytes, "<f4", f32::from_le_bytes).unwrap_err();
        assert!(err.to_string().contains("dtype"), "{err}");
    }

    #[test]
    fn rejects_truncated_data_and_other_ranks() {
        let mut bytes = Vec::new();
        crate::npy::write_i32_matrix(&mut bytes, 2, 2, &[1, 2, 3, 4]).unwrap();
        bytes.pop();
        assert!(parse_matrix(&bytes, "<i4", i32::from_le_bytes).is_err());
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }";
        assert!(parse_shape(header).is_err());
        assert_eq!(parse_shape("{'shape': (5, 384), }").unwrap(), (5, 384));
    }
}
