//! Sentence-pair files: the STS Benchmark format and generic labelled pairs.

use std::path::Path;

use super::lines::{Line, LineReader};
use super::{open_buffered, MAX_RECORD_BYTES};
use crate::{DatasetError, LabelledPair, Result, ScoredPair};

/// Column layout of the original STS Benchmark files.
const STS_SCORE: usize = 4;
const STS_SENTENCE1: usize = 5;
const STS_SENTENCE2: usize = 6;
/// Highest STS similarity score.
const STS_MAX_SCORE: f32 = 5.0;

/// Reads an STS Benchmark file (`sts-train.csv`, `sts-dev.csv`, `sts-test.csv`).
///
/// The files are tab-separated with no header and no quoting; the columns
/// are genre, file, year, id, score (0–5), sentence1, sentence2. Extra
/// trailing columns (some lines have two) are ignored, blank lines skipped.
pub fn read_sts(path: impl AsRef<Path>) -> Result<Vec<ScoredPair>> {
    let path = path.as_ref();
    let mut lines = LineReader::new(open_buffered(path)?, path.to_path_buf(), MAX_RECORD_BYTES);
    let mut pairs = Vec::new();
    while let Some(line) = lines.next_line()? {
        if !line.is_blank() {
            pairs.push(parse_sts_line(&line)?);
        }
    }
    non_empty(path, pairs)
}

fn parse_sts_line(line: &Line<'_>) -> Result<ScoredPair> {
    let fields: Vec<&str> = line.text.split('\t').collect();
    if fields.len() <= STS_SENTENCE2 {
        return Err(line.malformed(format!(
            "expected at least {} tab-separated columns, found {}",
            STS_SENTENCE2 + 1,
            fields.len()
        )));
    }
    let raw_score = fields[STS_SCORE].trim();
    let score = raw_score
        .parse::<f32>()
        .map_err(|_| line.malformed(format!("score {raw_score:?} is not a number")))?;
    if !(0.0..=STS_MAX_SCORE).contains(&score) {
        return Err(line.malformed(format!("score {raw_score} is outside 0..={STS_MAX_SCORE}")));
    }
    Ok(ScoredPair {
        text_a: non_empty_text(line, fields[STS_SENTENCE1], "sentence1")?,
        text_b: non_empty_text(line, fields[STS_SENTENCE2], "sentence2")?,
        score,
    })
}

/// Reads `label<TAB>text_a<TAB>text_b` lines, where label is `0` or `1`.
///
/// Line 1 is taken as a header (and skipped) when its label column is not a
/// number, e.g. `label<TAB>sentence1<TAB>sentence2`. Blank lines are skipped.
pub fn read_labelled_pairs(path: impl AsRef<Path>) -> Result<Vec<LabelledPair>> {
    let path = path.as_ref();
    let mut lines = LineReader::new(open_buffered(path)?, path.to_path_buf(), MAX_RECORD_BYTES);
    let mut pairs = Vec::new();
    while let Some(line) = lines.next_line()? {
        if line.is_blank() || (line.number == 1 && is_header(line.text)) {
            continue;
        }
        pairs.push(parse_labelled_line(&line)?);
    }
    non_empty(path, pairs)
}

fn is_header(text: &str) -> bool {
    let label = text.split('\t').next().unwrap_or_default().trim();
    label.parse::<f64>().is_err()
}

fn parse_labelled_line(line: &Line<'_>) -> Result<LabelledPair> {
    let fields: Vec<&str> = line.text.split('\t').collect();
    let [label, text_a, text_b] = fields.as_slice() else {
        return Err(line.malformed(format!(
            "expected 3 tab-separated columns (label, text_a, text_b), found {}",
            fields.len()
        )));
    };
    let label = match label.trim() {
        "0" => false,
        "1" => true,
        other => return Err(line.malformed(format!("label {other:?} is not 0 or 1"))),
    };
    Ok(LabelledPair {
        label,
        text_a: non_empty_text(line, text_a, "text_a")?,
        text_b: non_empty_text(line, text_b, "text_b")?,
    })
}

fn non_empty_text(line: &Line<'_>, text: &str, column: &str) -> Result<String> {
    if text.trim().is_empty() {
        return Err(line.malformed(format!("{column} is empty")));
    }
    Ok(text.to_owned())
}

fn non_empty<T>(path: &Path, records: Vec<T>) -> Result<Vec<T>> {
    if records.is_empty() {
        return Err(DatasetError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use tempfile::NamedTempFile;

    use super::*;

    fn file(content: &[u8]) -> NamedTempFile {
        let file = NamedTempFile::new().unwrap();
        fs_err::write(file.path(), content).unwrap();
        file
    }

    fn sts_line(score: &str, a: &str, b: &str) -> String {
        format!("main-captions\tMSRvid\t2012test\t0001\t{score}\t{a}\t{b}\n")
    }

    #[test]
    fn sts_reads_fields_and_ignores_extra_columns() {
        let content = format!(
            "{}{}\n",
            sts_line("2.500", "A girl.", "A \"girl\", styling."),
            sts_line("5.000", "x", "y").trim_end().to_owned() + "\tsrc1\tsrc2"
        );
        let f = file(content.as_bytes());
        let pairs = read_sts(f.path()).unwrap();
        assert_eq!(pairs.len(), 2);
        assert_eq!(pairs[0].text_a, "A girl.");
        assert_eq!(pairs[0].text_b, "A \"girl\", styling.");
        assert!((pairs[0].score - 2.5).abs() < 1e-6);
        assert_eq!(pairs[1].text_b, "y");
    }

    #[test]
    fn sts_bad_score_names_the_line() {
        let content = format!(
            "{}\n{}",
            sts_line("1.0", "a", "b"),
            sts_line("high", "a", "b")
        );
        let f = file(content.as_bytes());
        let err = read_sts(f.path()).unwrap_err();
        let want = format!("{}:3: score \"high\" is not a number", f.path().display());
        assert_eq!(err.to_string(), want);
    }

    #[test]
    fn sts_out_of_range_score_and_short_lines_are_errors() {
        let f = file(sts_line("5.5", "a", "b").as_bytes());
        let err = read_sts(f.path()).unwrap_err();
        assert!(
            err.to_string().ends_with(":1: score 5.5 is outside 0..=5"),
            "{err}"
        );

        let content = format!("{}a\tb\tc\n", sts_line("1", "a", "b"));
        let f = file(content.as_bytes());
        let err = read_sts(f.path()).unwrap_err();
        assert!(err
            .to_string()
            .ends_with(":2: expected at least 7 tab-separated columns, found 3"));

        let f = file(sts_line("1", "a", " ").as_bytes());
        let err = read_sts(f.path()).unwrap_err();
        assert!(err.to_string().ends_with(":1: sentence2 is empty"), "{err}");
    }

    #[test]
    fn sts_empty_and_missing_files_are_errors() {
        let f = file(b"\n\n");
        assert!(matches!(
            read_sts(f.path()),
            Err(DatasetError::Empty { .. })
        ));
        let err = read_sts("/nonexistent/sts-test.csv").unwrap_err();
        assert!(matches!(err, DatasetError::Io { .. }), "{err}");
        assert!(
            err.to_string().contains("/nonexistent/sts-test.csv"),
            "{err}"
        );
    }

    #[test]
    fn labelled_pairs_with_header() {
        let f = file(b"label\tsentence1\tsentence2\n1\ta\tb\n\n0\tc\td\r\n");
        let pairs = read_labelled_pairs(f.path()).unwrap();
        assert_eq!(
            pairs,
            [
                LabelledPair {
                    label: true,
                    text_a: "a".to_owned(),
                    text_b: "b".to_owned()
                },
                LabelledPair {
                    label: false,
                    text_a: "c".to_owned(),
                    text_b: "d".to_owned()
                },
            ]
        );
    }

    #[test]
    fn labelled_pairs_without_header() {
        let f = file(b"0\ta\tb\n");
        assert_eq!(read_labelled_pairs(f.path()).unwrap().len(), 1);
    }

    #[test]
    fn labelled_pairs_bad_label_names_the_line() {
        // A numeric first label is data, not a header.
        let f = file(b"2\ta\tb\n");
        let err = read_labelled_pairs(f.path()).unwrap_err();
        assert!(
            err.to_string().ends_with(":1: label \"2\" is not 0 or 1"),
            "{err}"
        );
        // A header after line 1 is an error.
        let f = file(b"1\ta\tb\nlabel\tx\ty\n");
        let err = read_labelled_pairs(f.path()).unwrap_err();
        assert!(
            err.to_string()
                .ends_with(":2: label \"label\" is not 0 or 1"),
            "{err}"
        );
    }

    #[test]
    fn labelled_pairs_wrong_columns_and_empty_file() {
        let f = file(b"1\ta\tb\n1\ta\n");
        let err = read_labelled_pairs(f.path()).unwrap_err();
        assert_eq!(err.line(), Some(2));
        assert!(err.to_string().contains("found 2"), "{err}");
        let f = file(b"label\ta\tb\n");
        let err = read_labelled_pairs(f.path()).unwrap_err();
        assert!(matches!(err, DatasetError::Empty { .. }), "{err}");
    }
}
