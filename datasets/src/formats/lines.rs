//! Bounded, UTF-8 checked line reading with 1-based line numbers.

use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};

use crate::{DatasetError, Result};

/// One line of input, without its `\n` / `\r\n` terminator.
pub(crate) struct Line<'a> {
    /// 1-based line number.
    pub(crate) number: usize,
    /// The line's text.
    pub(crate) text: &'a str,
    /// The file (or display name) being read.
    pub(crate) path: &'a Path,
}

impl Line<'_> {
    /// True when the line holds only whitespace.
    pub(crate) fn is_blank(&self) -> bool {
        self.text.trim().is_empty()
    }

    /// A [`DatasetError::Malformed`] for this line.
    pub(crate) fn malformed(&self, reason: impl Into<String>) -> DatasetError {
        DatasetError::malformed(self.path, self.number, reason)
    }
}

/// Reads lines as bytes so that non-UTF-8 input and over-long lines give
/// typed errors with line numbers; never buffers more than `max_bytes + 2`.
pub(crate) struct LineReader<R> {
    reader: R,
    path: PathBuf,
    max_bytes: usize,
    number: usize,
    buf: Vec<u8>,
}

impl<R: BufRead> LineReader<R> {
    /// Wraps `reader`; `path` is used in error messages.
    pub(crate) fn new(reader: R, path: PathBuf, max_bytes: usize) -> Self {
        Self {
            reader,
            path,
            max_bytes,
            number: 0,
            buf: Vec::new(),
        }
    }

    /// The next line, or `None` at end of input.
    pub(crate) fn next_line(&mut self) -> Result<Option<Line<'_>>> {
        self.buf.clear();
        // Room for the content, an optional '\r' and the '\n'.
        let limit = u64::try_from(self.max_bytes)
            .unwrap_or(u64::MAX)
            .saturating_add(2);
        let read = (&mut self.reader)
            .take(limit)
            .read_until(b'\n', &mut self.buf)
            .map_err(|source| DatasetError::io(&self.path, source))?;
        if read == 0 {
            return Ok(None);
        }
        self.number += 1;
        if self.buf.last() == Some(&b'\n') {
            self.buf.pop();
        }
        if self.buf.last() == Some(&b'\r') {
            self.buf.pop();
        }
        if self.number == 1 && self.buf.starts_with(b"\xEF\xBB\xBF") {
            self.buf.drain(..3);
        }
        if self.buf.len() > self.max_bytes {
            return Err(DatasetError::LineTooLong {
                path: self.path.clone(),
                line: self.number,
                max_bytes: self.max_bytes,
            });
        }
        let text = std::str::from_utf8(&self.buf).map_err(|_| DatasetError::NotUtf8 {
            path: self.path.clone(),
            line: self.number,
        })?;
        Ok(Some(Line {
            number: self.number,
            text,
            path: &self.path,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(input: &[u8], max: usize) -> Result<Vec<(usize, String)>> {
        let mut reader = LineReader::new(input, PathBuf::from("mem"), max);
        let mut out = Vec::new();
        while let Some(line) = reader.next_line()? {
            out.push((line.number, line.text.to_owned()));
        }
        Ok(out)
    }

    #[test]
    fn numbers_lines_and_strips_terminators() {
        let lines = collect(b"\xEF\xBB\xBFa\r\n\nb\nc", 10).unwrap();
        let expected = [(1, "a"), (2, ""), (3, "b"), (4, "c")];
        let expected: Vec<_> = expected
            .iter()
            .map(|(n, s)| (*n, (*s).to_owned()))
            .collect();
        assert_eq!(lines, expected);
    }

    #[test]
    fn line_of_exactly_max_bytes_is_accepted() {
        assert_eq!(collect(b"abc\r\nabc\nabc", 3).unwrap().len(), 3);
    }

    #[test]
    fn over_long_line_is_reported_with_its_number() {
        let err = collect(b"ok\nabcd\nok\n", 3).unwrap_err();
        assert!(
            matches!(
                err,
                DatasetError::LineTooLong {
                    line: 2,
                    max_bytes: 3,
                    ..
                }
            ),
            "{err}"
        );
        let err = collect(b"ok\nabcd", 3).unwrap_err();
        assert!(
            matches!(err, DatasetError::LineTooLong { line: 2, .. }),
            "{err}"
        );
        let err = collect(b"abcd\r\n", 3).unwrap_err();
        assert!(
            matches!(err, DatasetError::LineTooLong { line: 1, .. }),
            "{err}"
        );
    }

    #[test]
    fn non_utf8_line_is_reported_with_its_number() {
        let err = collect(b"ok\nok\n\xFF\xFE\n", 100).unwrap_err();
        assert!(
            matches!(err, DatasetError::NotUtf8 { line: 3, .. }),
            "{err}"
        );
        assert_eq!(err.to_string(), "mem:3: line is not valid UTF-8");
    }
}
