//! Helpers for JSON Lines records.

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::lines::Line;
use crate::Result;

/// Parses one JSONL line as a JSON object of type `T`.
pub(crate) fn parse_object<T: DeserializeOwned>(line: &Line<'_>) -> Result<T> {
    if !line.text.trim_start().starts_with('{') {
        return Err(line.malformed("expected a JSON object"));
    }
    serde_json::from_str(line.text).map_err(|err| line.malformed(json_reason(&err)))
}

/// serde_json's message, with its "line 1 column N" suffix turned into a column.
fn json_reason(err: &serde_json::Error) -> String {
    let message = err.to_string();
    let suffix = format!(" at line {} column {}", err.line(), err.column());
    let message = match message.strip_suffix(&suffix) {
        Some(stripped) => format!("{stripped} (column {})", err.column()),
        None => message,
    };
    // serde writes field names in backticks; show them in JSON quotes.
    message.replace('`', "\"")
}

/// Reads an id field that may be a JSON string or number.
pub(crate) fn id_field(line: &Line<'_>, field: &str, value: Option<Value>) -> Result<String> {
    let id = match value {
        None | Some(Value::Null) => {
            return Err(line.malformed(format!("missing field \"{field}\"")));
        }
        Some(Value::String(id)) => id,
        Some(Value::Number(id)) => id.to_string(),
        Some(other) => {
            return Err(line.malformed(format!(
                "field \"{field}\" must be a string or number, got {}",
                type_name(&other)
            )));
        }
    };
    if id.trim().is_empty() {
        return Err(line.malformed(format!("field \"{field}\" is empty")));
    }
    Ok(id)
}

/// Reads a required string field.
pub(crate) fn string_field(line: &Line<'_>, field: &str, value: Option<String>) -> Result<String> {
    value.ok_or_else(|| line.malformed(format!("missing field \"{field}\"")))
}

pub(crate) fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    struct Rec {
        #[serde(rename = "_id")]
        id: Option<Value>,
        text: Option<String>,
    }

    fn line(text: &str) -> Line<'_> {
        Line {
            number: 7,
            text,
            path: Path::new("f.jsonl"),
        }
    }

    #[test]
    fn accepts_string_and_number_ids() {
        for (input, want) in [(r#"{"_id": "a1"}"#, "a1"), (r#"{"_id": 42}"#, "42")] {
            let l = line(input);
            let rec: Rec = parse_object(&l).unwrap();
            assert_eq!(id_field(&l, "_id", rec.id).unwrap(), want);
        }
    }

    #[test]
    fn rejects_missing_bad_and_empty_ids() {
        for (input, reason) in [
            (r#"{"text": "x"}"#, "missing field \"_id\""),
            (r#"{"_id": null}"#, "missing field \"_id\""),
            (
                r#"{"_id": [1]}"#,
                "field \"_id\" must be a string or number, got an array",
            ),
            (r#"{"_id": " "}"#, "field \"_id\" is empty"),
        ] {
            let l = line(input);
            let rec: Rec = parse_object(&l).unwrap();
            let err = id_field(&l, "_id", rec.id).unwrap_err();
            assert_eq!(err.to_string(), format!("f.jsonl:7: {reason}"));
        }
    }

    #[test]
    fn syntax_and_type_errors_name_the_line_and_column() {
        let err = parse_object::<Rec>(&line(r#"{"_id": "1", "text": }"#)).unwrap_err();
        assert_eq!(err.line(), Some(7));
        assert!(err.to_string().contains("(column 22)"), "{err}");
        let err = parse_object::<Rec>(&line(r#"{"_id": "1", "text": 5}"#)).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("f.jsonl:7: invalid type: integer"),
            "{err}"
        );
        let err = parse_object::<Rec>(&line(r#"["1", "x"]"#)).unwrap_err();
        assert_eq!(err.to_string(), "f.jsonl:7: expected a JSON object");
        let rec: Rec = parse_object(&line(r#"{"_id": "1"}"#)).unwrap();
        let err = string_field(&line(""), "text", rec.text).unwrap_err();
        assert_eq!(err.to_string(), "f.jsonl:7: missing field \"text\"");
    }
}
