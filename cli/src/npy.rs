//! Writing `[n, dim]` float32 and int32 matrices in NumPy's `.npy` format (version 1.0).

use std::io::Write;

/// Serialises a row-major `[rows, cols]` f32 matrix as `.npy` bytes.
pub(crate) fn write_f32_matrix(
    out: &mut impl Write,
    rows: usize,
    cols: usize,
    data: &[f32],
) -> std::io::Result<()> {
    write_matrix(out, "<f4", rows, cols, data.iter().map(|v| v.to_le_bytes()))
}

/// Serialises a row-major `[rows, cols]` int32 matrix as `.npy` bytes.
pub(crate) fn write_i32_matrix(
    out: &mut impl Write,
    rows: usize,
    cols: usize,
    data: &[i32],
) -> std::io::Result<()> {
    write_matrix(out, "<i4", rows, cols, data.iter().map(|v| v.to_le_bytes()))
}

/// The `.npy` header for `descr` and the shape, then the little-endian values.
fn write_matrix(
    out: &mut impl Write,
    descr: &str,
    rows: usize,
    cols: usize,
    values: impl Iterator<Item = [u8; 4]>,
) -> std::io::Result<()> {
    let mut header =
        format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': ({rows}, {cols}), }}");
    // Magic (6) + version (2) + header length (2) + header + '\n' must be a multiple of 64.
    let unpadded = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    header.push('\n');
    let header_len =
        u16::try_from(header.len()).map_err(|_| std::io::Error::other("npy header too long"))?;
    out.write_all(b"\x93NUMPY\x01\x00")?;
    out.write_all(&header_len.to_le_bytes())?;
    out.write_all(header.as_bytes())?;
    for value in values {
        out.write_all(&value)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_aligned_and_data_follows() {
        let mut bytes = Vec::new();
        write_f32_matrix(&mut bytes, 2, 3, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
        assert_eq!(&bytes[..8], b"\x93NUMPY\x01\x00");
        let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
        assert_eq!((10 + header_len) % 64, 0);
        let header = std::str::from_utf8(&bytes[10..10 + header_len]).unwrap();
        assert!(header.contains("'shape': (2, 3)"));
        assert!(header.ends_with('\n'));
        assert_eq!(bytes.len(), 10 + header_len + 6 * 4);
        assert_eq!(
            &bytes[10 + header_len..10 + header_len + 4],
            &1.0f32.to_le_bytes()
        );
    }
}
