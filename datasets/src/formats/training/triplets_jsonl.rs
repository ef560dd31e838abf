//! JSONL pair and triplet files for training.

use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use super::super::jsonl::{parse_object, type_name};
use super::super::lines::{Line, LineReader};
use super::super::{open_buffered, MAX_RECORD_BYTES};
use crate::{DatasetError, Result, TrainingExample};

/// The fields a training line may hold; anything else (e.g. an `id`) is ignored.
#[derive(Debug, Deserialize)]
struct RawExample {
    query: Option<Value>,
    anchor: Option<Value>,
    positive: Option<Value>,
    negative: Option<Value>,
    negatives: Option<Value>,
    texts: Option<Value>,
}

/// Reads a JSONL file of training examples, one JSON object per line.
///
/// Each line takes one of two shapes:
///
/// * named fields: `query` (or its synonym `anchor`) and `positive`, plus
///   optionally one hard negative as `negative` (a string) or several as
///   `negatives` (an array of strings, possibly empty), e.g.
///   `{"query": "q", "positive": "p", "negatives": ["n1", "n2"]}`;
/// * sentence-transformers style: `{"texts": [anchor, positive, negative…]}`
///   with at least two strings.
///
/// `null` counts as absent; other fields are ignored. Texts are kept as
/// written (not trimmed). Blank lines are skipped.
///
/// # Errors
///
/// [`DatasetError::Malformed`] with the 1-based line number for invalid
/// JSON, a missing `query`/`anchor` or `positive`, an empty or blank text, a
/// non-string text, `query` together with `anchor`, `negative` together with
/// `negatives`, or `texts` mixed with named fields; [`DatasetError::Empty`]
/// when the file holds no examples; [`DatasetError::Io`],
/// [`DatasetError::NotUtf8`] or [`DatasetError::LineTooLong`] for unreadable
/// input.
pub fn read_training_jsonl(path: impl AsRef<Path>) -> Result<Vec<TrainingExample>> {
    let path = path.as_ref();
    let mut lines = LineReader::new(open_buffered(path)?, path.to_path_buf(), MAX_RECORD_BYTES);
    let mut examples = Vec::new();
    while let Some(line) = lines.next_line()? {
        if !line.is_blank() {
            examples.push(parse_example(&line)?);
        }
    }
    if examples.is_empty() {
        return Err(DatasetError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(examples)
}

fn parse_example(line: &Line<'_>) -> Result<TrainingExample> {
    let raw: RawExample = parse_object(line)?;
    match raw.texts {
        None | Some(Value::Null) => parse_named(line, raw),
        Some(texts) => {
            let named = [
                ("query", &raw.query),
                ("anchor", &raw.anchor),
                ("positive", &raw.positive),
                ("negative", &raw.negative),
                ("negatives", &raw.negatives),
            ];
            if let Some((field, _)) = named.iter().find(|(_, value)| present(value)) {
                return Err(line.malformed(format!(
                    "use either \"texts\" or named fields, not both (found \"texts\" and \"{field}\")"
                )));
            }
            parse_texts(line, texts)
        }
    }
}

fn parse_named(line: &Line<'_>, raw: RawExample) -> Result<TrainingExample> {
    let query = match (non_null(raw.query), non_null(raw.anchor)) {
        (Some(_), Some(_)) => {
            return Err(line.malformed("give \"query\" or \"anchor\", not both"));
        }
        (Some(query), None) => text(line, "query", query)?,
        (None, Some(anchor)) => text(line, "anchor", anchor)?,
        (None, None) => return Err(line.malformed("missing field \"query\" (or \"anchor\")")),
    };
    let positive = non_null(raw.positive)
        .ok_or_else(|| line.malformed("missing field \"positive\""))
        .and_then(|value| text(line, "positive", value))?;
    let negatives = match (non_null(raw.negative), non_null(raw.negatives)) {
        (Some(_), Some(_)) => {
            return Err(line.malformed("give \"negative\" or \"negatives\", not both"));
        }
        (Some(negative), None) => vec![text(line, "negative", negative)?],
        (None, Some(negatives)) => text_array(line, "negatives", negatives)?,
        (None, None) => Vec::new(),
    };
    Ok(TrainingExample {
        query,
        positive,
        negatives,
    })
}

fn parse_texts(line: &Line<'_>, texts: Value) -> Result<TrainingExample> {
    let mut texts = text_array(line, "texts", texts)?.into_iter();
    let (Some(query), Some(positive)) = (texts.next(), texts.next()) else {
        return Err(line
            .malformed("field \"texts\" needs at least 2 texts (anchor, positive[, negatives…])"));
    };
    Ok(TrainingExample {
        query,
        positive,
        negatives: texts.collect(),
    })
}

fn present(value: &Option<Value>) -> bool {
    !matches!(value, None | Some(Value::Null))
}

fn non_null(value: Option<Value>) -> Option<Value> {
    value.filter(|value| !value.is_null())
}

/// A non-blank string; `name` labels errors (`"positive"`, `"texts[2]"`).
fn text(line: &Line<'_>, name: &str, value: Value) -> Result<String> {
    match value {
        Value::String(text) if text.trim().is_empty() => {
            Err(line.malformed(format!("field \"{name}\" is empty")))
        }
        Value::String(text) => Ok(text),
        other => Err(line.malformed(format!(
            "field \"{name}\" must be a string, got {}",
            type_name(&other)
        ))),
    }
}

fn text_array(line: &Line<'_>, field: &str, value: Value) -> Result<Vec<String>> {
    let Value::Array(items) = value else {
        return Err(line.malformed(format!(
            "field \"{field}\" must be an array of strings, got {}",
            type_name(&value)
        )));
    };
    items
        .into_iter()
        .enumerate()
        .map(|(index, item)| text(line, &format!("{field}[{index}]"), item))
        .collect()
}

#[cfg(test)]
mod tests {
    use tempfile::NamedTempFile;

    use super::*;

    fn file(content: &str) -> NamedTempFile {
        let file = NamedTempFile::new().unwrap();
        fs_err::write(file.path(), content).unwrap();
        file
    }

    fn example(query: &str, positive: &str, negatives: &[&str]) -> TrainingExample {
        TrainingExample {
            query: query.to_owned(),
            positive: positive.to_owned(),
            negatives: negatives.iter().map(|&n| n.to_owned()).collect(),
        }
    }

    #[test]
    fn reads_named_fields_and_texts_arrays() {
        let f = file(concat!(
            "{\"query\": \"q1\", \"positive\": \"p1\", \"id\": 7}\n",
            "\n",
            "{\"anchor\": \"a2\", \"positive\": \"p2\", \"negative\": \"n2\"}\r\n",
            "{\"query\": \"q3\", \"positive\": \"p3\", \"negatives\": [\"n3\", \"m3\"]}\n",
            "{\"query\": \"q4\", \"positive\": \"p4\", \"negatives\": [], \"negative\": null}\n",
            "{\"texts\": [\"a5\", \"p5\"]}\n",
            "{\"texts\": [\"a6\", \"p6\", \"n6\", \"m6\"], \"query\": null}\n",
        ));
        let examples = read_training_jsonl(f.path()).unwrap();
        assert_eq!(
            examples,
            [
                example("q1", "p1", &[]),
                example("a2", "p2", &["n2"]),
                example("q3", "p3", &["n3", "m3"]),
                example("q4", "p4", &[]),
                example("a5", "p5", &[]),
                example("a6", "p6", &["n6", "m6"]),
            ]
        );
    }

    #[test]
    fn errors_name_the_file_line_and_problem() {
        let good = "{\"query\": \"q\", \"positive\": \"p\"}\n";
        for (bad, reason) in [
            (
                r#"{"positive": "p"}"#,
                "missing field \"query\" (or \"anchor\")",
            ),
            (r#"{"query": "q"}"#, "missing field \"positive\""),
            (
                r#"{"query": "q", "positive": null}"#,
                "missing field \"positive\"",
            ),
            (
                r#"{"query": " ", "positive": "p"}"#,
                "field \"query\" is empty",
            ),
            (
                r#"{"anchor": "", "positive": "p"}"#,
                "field \"anchor\" is empty",
            ),
            (
                r#"{"query": "q", "positive": 3}"#,
                "field \"positive\" must be a string, got a number",
            ),
            (
                r#"{"query": "q", "anchor": "a", "positive": "p"}"#,
                "give \"query\" or \"anchor\", not both",
            ),
            (
                r#"{"query": "q", "positive": "p", "negative": "n", "negatives": []}"#,
                "give \"negative\" or \"negatives\", not both",
            ),
            (
                r#"{"query": "q", "positive": "p", "negatives": "n"}"#,
                "field \"negatives\" must be an array of strings, got a string",
            ),
            (
                r#"{"query": "q", "positive": "p", "negatives": ["n", ""]}"#,
                "field \"negatives[1]\" is empty",
            ),
            (
                r#"{"texts": ["a"]}"#,
                "field \"texts\" needs at least 2 texts (anchor, positive[, negatives…])",
            ),
            (
                r#"{"texts": ["a", "p", null]}"#,
                "field \"texts[2]\" must be a string, got null",
            ),
            (
                r#"{"texts": ["a", "p"], "positive": "p"}"#,
                "use either \"texts\" or named fields, not both (found \"texts\" and \"positive\")",
            ),
            (r#"["q", "p"]"#, "expected a JSON object"),
        ] {
            let f = file(&format!("{good}\n{good}{bad}\n{good}"));
            let err = read_training_jsonl(f.path()).unwrap_err();
            assert_eq!(err.line(), Some(4), "{bad}: {err}");
            assert_eq!(
                err.to_string(),
                format!("{}:4: {reason}", f.path().display()),
                "{bad}"
            );
        }
    }

    #[test]
    fn invalid_json_and_empty_files_are_errors() {
        let f = file("{\"query\": \"q\", \"positive\": \"p\"}\n{\"query\": \n");
        let err = read_training_jsonl(f.path()).unwrap_err();
        assert_eq!(err.line(), Some(2), "{err}");
        let f = file("\n  \n");
        let err = read_training_jsonl(f.path()).unwrap_err();
        assert!(matches!(err, DatasetError::Empty { .. }), "{err}");
    }
}
