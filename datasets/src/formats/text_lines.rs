//! Input texts for the `embed` command: plain lines or JSON Lines.

use std::io::BufRead;
use std::path::Path;

use serde::Deserialize;

use super::jsonl::{parse_object, string_field};
use super::lines::{Line, LineReader};
use super::open_buffered;
use crate::{DatasetError, Result};

/// Default for [`TextInputLimits::max_line_bytes`]: 1 MiB.
pub const DEFAULT_MAX_LINE_BYTES: usize = 1 << 20;

/// Limits applied while reading input texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextInputLimits {
    /// Longest accepted line in bytes, excluding its line terminator.
    /// Longer lines give [`DatasetError::LineTooLong`] without being
    /// buffered whole.
    pub max_line_bytes: usize,
}

impl Default for TextInputLimits {
    fn default() -> Self {
        Self {
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TextFormat {
    Plain,
    Jsonl,
}

/// Reads the texts to embed from the file at `path`.
///
/// The input is JSON Lines when the file name ends in `.jsonl` or the first
/// non-blank line starts with `{`: each line is then an object with a
/// string field `text` (other fields are ignored). Otherwise every line is
/// one text, with a trailing `\r` removed. Blank lines are skipped in both
/// formats. Errors: [`DatasetError::NotUtf8`], [`DatasetError::LineTooLong`],
/// [`DatasetError::Malformed`] (all with the line number) and
/// [`DatasetError::Empty`] when there is no text at all.
pub fn read_texts(path: impl AsRef<Path>, limits: TextInputLimits) -> Result<Vec<String>> {
    let path = path.as_ref();
    read_texts_from(open_buffered(path)?, path, limits)
}

/// Like [`read_texts`], but from any buffered reader (e.g. locked stdin);
/// `name` labels errors and, if it ends in `.jsonl`, selects JSON Lines.
pub fn read_texts_from<R: BufRead>(
    reader: R,
    name: impl AsRef<Path>,
    limits: TextInputLimits,
) -> Result<Vec<String>> {
    let name = name.as_ref();
    let mut format = has_jsonl_extension(name).then_some(TextFormat::Jsonl);
    let mut lines = LineReader::new(reader, name.to_path_buf(), limits.max_line_bytes);
    let mut texts = Vec::new();
    while let Some(line) = lines.next_line()? {
        if line.is_blank() {
            continue;
        }
        let format = *format.get_or_insert_with(|| detect_format(line.text));
        texts.push(match format {
            TextFormat::Plain => line.text.to_owned(),
            TextFormat::Jsonl => parse_text_record(&line)?,
        });
    }
    if texts.is_empty() {
        return Err(DatasetError::Empty {
            path: name.to_path_buf(),
        });
    }
    Ok(texts)
}

fn has_jsonl_extension(name: &Path) -> bool {
    name.extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("jsonl"))
}

fn detect_format(first_line: &str) -> TextFormat {
    if first_line.trim_start().starts_with('{') {
        TextFormat::Jsonl
    } else {
        TextFormat::Plain
    }
}

#[derive(Deserialize)]
struct RawText {
    text: Option<String>,
}

fn parse_text_record(line: &Line<'_>) -> Result<String> {
    let raw: RawText = parse_object(line)?;
    let text = string_field(line, "text", raw.text)?;
    if text.trim().is_empty() {
        return Err(line.malformed("field \"text\" is empty"));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use tempfile::TempDir;

    use super::*;

    fn read(input: &[u8], name: &str, max: usize) -> Result<Vec<String>> {
        let limits = TextInputLimits {
            max_line_bytes: max,
        };
        read_texts_from(Cursor::new(input.to_vec()), name, limits)
    }

    #[test]
    fn default_limit_is_one_mib() {
        assert_eq!(TextInputLimits::default().max_line_bytes, 1 << 20);
    }

    #[test]
    fn plain_lines_skip_blanks_and_strip_cr() {
        let texts = read(b"first\r\n\n  \nsecond line\nthird", "<stdin>", 100).unwrap();
        assert_eq!(texts, ["first", "second line", "third"]);
    }

    #[test]
    fn jsonl_detected_from_first_line() {
        let input = b"\n{\"id\": 1, \"text\": \"a\"}\n{\"text\": \"b\\u00e9\"}\n";
        assert_eq!(read(input, "<stdin>", 100).unwrap(), ["a", "b\u{e9}"]);
    }

    #[test]
    fn jsonl_detected_from_file_name() {
        let err = read(b"plain text\n", "input.jsonl", 100).unwrap_err();
        assert_eq!(err.to_string(), "input.jsonl:1: expected a JSON object");
    }

    #[test]
    fn jsonl_missing_or_empty_text_names_the_line() {
        let err = read(b"{\"text\": \"a\"}\n\n{\"txt\": \"b\"}\n", "in", 100).unwrap_err();
        assert_eq!(err.to_string(), "in:3: missing field \"text\"");
        let err = read(b"{\"text\": \"a\"}\n{\"text\": \"\"}\n", "in", 100).unwrap_err();
        assert_eq!(err.to_string(), "in:2: field \"text\" is empty");
        let err = read(b"{\"text\": 3}\n", "in", 100).unwrap_err();
        assert_eq!(err.line(), Some(1));
    }

    #[test]
    fn non_utf8_line_names_the_line() {
        let err = read(b"ok\nalso ok\nbad \xC3\x28\n", "<stdin>", 100).unwrap_err();
        assert!(
            matches!(err, DatasetError::NotUtf8 { line: 3, .. }),
            "{err}"
        );
        assert_eq!(err.to_string(), "<stdin>:3: line is not valid UTF-8");
    }

    #[test]
    fn over_long_line_names_the_line_and_limit() {
        let mut input = b"short\n".to_vec();
        input.extend(std::iter::repeat_n(b'x', 10_000));
        input.extend(b"\nshort\n");
        let err = read(&input, "big.txt", 16).unwrap_err();
        assert!(
            matches!(
                err,
                DatasetError::LineTooLong {
                    line: 2,
                    max_bytes: 16,
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(err.to_string(), "big.txt:2: line is longer than 16 bytes");
    }

    #[test]
    fn no_texts_is_empty_error() {
        let err = read(b"\n \r\n", "<stdin>", 100).unwrap_err();
        assert!(matches!(err, DatasetError::Empty { .. }), "{err}");
        assert_eq!(err.to_string(), "<stdin>: file contains no records");
    }

    #[test]
    fn reads_files_by_path() {
        let dir = TempDir::new().unwrap();
        let plain = dir.path().join("texts.txt");
        fs_err::write(&plain, "a\nb\n").unwrap();
        assert_eq!(
            read_texts(&plain, TextInputLimits::default()).unwrap(),
            ["a", "b"]
        );

        let jsonl = dir.path().join("texts.JSONL");
        fs_err::write(&jsonl, "{\"text\": \"a\"}\n").unwrap();
        assert_eq!(
            read_texts(&jsonl, TextInputLimits::default()).unwrap(),
            ["a"]
        );

        let err = read_texts(dir.path().join("none.txt"), TextInputLimits::default()).unwrap_err();
        assert!(matches!(err, DatasetError::Io { .. }), "{err}");
        assert!(err.to_string().contains("none.txt"), "{err}");
    }
}
