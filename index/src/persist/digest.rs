//! Checksummed files: a file written and fsynced with its size and CRC-32 recorded, so that a
//! truncated or damaged file is told from a good one before anything parses it.

use std::io::{BufWriter, Read, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{IndexError, Result};

/// Size and checksum of a file, as recorded in a manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileDigest {
    /// Length in bytes.
    pub bytes: u64,
    /// CRC-32 (IEEE) of the contents.
    pub crc32: u32,
}

/// Creates `path`, fills it through `fill`, flushes it to disk and returns its digest.
///
/// # Errors
/// [`IndexError::Io`] naming the file.
pub(crate) fn write_synced(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<FileDigest> {
    let file = fs_err::File::create(path)?;
    let mut out = DigestWriter::new(BufWriter::new(file));
    fill(&mut out)?;
    let (writer, digest) = out.finish();
    let file = writer.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    Ok(digest)
}

/// Reads `path` through and returns its digest.
///
/// # Errors
/// [`IndexError::Io`] naming the file.
pub(crate) fn digest_file(path: &Path) -> Result<FileDigest> {
    let mut file = fs_err::File::open(path)?;
    let mut hasher = crc32fast::Hasher::new();
    let mut buffer = vec![0u8; 1 << 16];
    let mut bytes = 0u64;
    loop {
        let read = file.read(&mut buffer)?;
        let Some(chunk) = buffer.get(..read).filter(|chunk| !chunk.is_empty()) else {
            break;
        };
        hasher.update(chunk);
        bytes += read as u64;
    }
    Ok(FileDigest {
        bytes,
        crc32: hasher.finalize(),
    })
}

/// Checks that `path` has the recorded length (first, which catches truncation cheaply) and
/// checksum.
///
/// # Errors
/// [`IndexError::Corrupt`] on a mismatch, [`IndexError::Io`] when the file cannot be read.
pub(crate) fn verify_file(path: &Path, expected: &FileDigest) -> Result<()> {
    let corrupt = |reason: String| IndexError::Corrupt {
        offset: None,
        path: path.to_path_buf(),
        reason,
    };
    let bytes = fs_err::metadata(path)?.len();
    if bytes != expected.bytes {
        return Err(corrupt(format!(
            "{bytes} bytes where the manifest records {} (truncated or replaced)",
            expected.bytes
        )));
    }
    let found = digest_file(path)?;
    if found != *expected {
        return Err(corrupt(format!(
            "checksum {:08x} where the manifest records {:08x}",
            found.crc32, expected.crc32
        )));
    }
    Ok(())
}

/// A writer that checksums and counts what passes through it.
struct DigestWriter<W> {
    inner: W,
    hasher: crc32fast::Hasher,
    bytes: u64,
}

impl<W: Write> DigestWriter<W> {
    fn new(inner: W) -> Self {
        Self {
            inner,
            hasher: crc32fast::Hasher::new(),
            bytes: 0,
        }
    }

    fn finish(self) -> (W, FileDigest) {
        let digest = FileDigest {
            bytes: self.bytes,
            crc32: self.hasher.finalize(),
        };
        (self.inner, digest)
    }
}

impl<W: Write> Write for DigestWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let written = self.inner.write(buf)?;
        let done = buf.get(..written).unwrap_or(buf);
        self.hasher.update(done);
        self.bytes += done.len() as u64;
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_match_what_was_written() {
        let dir = tempfile::tempdir().unwrap();
        let written = write_synced(&dir.path().join("data"), |out| out.write_all(b"abc")).unwrap();
        assert_eq!(written, digest_file(&dir.path().join("data")).unwrap());
        assert_eq!(written.bytes, 3);
        assert_eq!(written.crc32, 0x3524_41c2); // CRC-32 of "abc"
    }

    #[test]
    fn verify_reports_truncation_and_damage() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data");
        let digest = write_synced(&path, |out| out.write_all(b"0123456789")).unwrap();
        verify_file(&path, &digest).unwrap();
        fs_err::write(&path, b"01234").unwrap();
        let err = verify_file(&path, &digest).unwrap_err().to_string();
        assert!(err.contains("truncated"), "{err}");
        fs_err::write(&path, b"0123456780").unwrap();
        let err = verify_file(&path, &digest).unwrap_err().to_string();
        assert!(err.contains("checksum"), "{err}");
    }
}
