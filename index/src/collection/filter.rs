//! Metadata filters: a small JSON query language over document metadata.
//!
//! ```text
//! {"lang": "en"}                               field equals value
//! {"year": {"$gte": 2010, "$lt": 2020}}        comparisons: $eq $ne $gt $gte $lt $lte
//! {"tag": {"$in": ["a", "b"]}}                 membership: $in $nin
//! {"$and": [f1, f2]}  {"$or": [f1, f2]}  {"$not": f}
//! ```
//!
//! Several keys in one object must all hold. Fields are top-level keys of the metadata object,
//! or dotted paths into nested objects (`"source.name"`). A comparison against a missing field
//! is false (and `$ne`/`$nin` true). Numbers compare numerically, strings lexicographically;
//! values of different types are never ordered.

use std::cmp::Ordering;

use serde_json::{Map, Value};

use crate::error::{IndexError, Result};

/// A parsed, validated metadata filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// Every sub-filter holds.
    And(Vec<Filter>),
    /// At least one sub-filter holds.
    Or(Vec<Filter>),
    /// The sub-filter does not hold.
    Not(Box<Filter>),
    /// A condition on one field.
    Field {
        /// Dotted path into the metadata.
        path: String,
        /// The condition.
        condition: Condition,
    },
}

/// A condition on one metadata value.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// Equal to.
    Eq(Value),
    /// Not equal to (true when the field is missing).
    Ne(Value),
    /// Greater than.
    Gt(Value),
    /// Greater than or equal to.
    Gte(Value),
    /// Less than.
    Lt(Value),
    /// Less than or equal to.
    Lte(Value),
    /// Equal to one of.
    In(Vec<Value>),
    /// Equal to none of (true when the field is missing).
    Nin(Vec<Value>),
}

impl Filter {
    /// Parses a filter from its JSON text.
    ///
    /// # Errors
    /// [`IndexError::InvalidFilter`] with the reason.
    pub fn parse(text: &str) -> Result<Self> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| IndexError::InvalidFilter(format!("not JSON: {e}")))?;
        Self::from_json(&value)
    }

    /// Builds a filter from a JSON value.
    ///
    /// # Errors
    /// [`IndexError::InvalidFilter`] with the reason.
    pub fn from_json(value: &Value) -> Result<Self> {
        let Value::Object(map) = value else {
            return Err(invalid("a filter must be a JSON object"));
        };
        let mut parts = map
            .iter()
            .map(|(key, v)| parse_entry(key, v))
            .collect::<Result<Vec<_>>>()?;
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Self::And(parts)
        })
    }

    /// Whether `metadata` satisfies the filter.
    pub fn matches(&self, metadata: &Value) -> bool {
        match self {
            Self::And(parts) => parts.iter().all(|f| f.matches(metadata)),
            Self::Or(parts) => parts.iter().any(|f| f.matches(metadata)),
            Self::Not(inner) => !inner.matches(metadata),
            Self::Field { path, condition } => condition.holds(lookup(metadata, path)),
        }
    }
}

fn invalid(reason: impl Into<String>) -> IndexError {
    IndexError::InvalidFilter(reason.into())
}

fn parse_entry(key: &str, value: &Value) -> Result<Filter> {
    let list = |v: &Value| -> Result<Vec<Filter>> {
        match v {
            Value::Array(items) if !items.is_empty() => {
                items.iter().map(Filter::from_json).collect()
            }
            _ => Err(invalid(format!("{key} takes a non-empty array of filters"))),
        }
    };
    match key {
        "$and" => Ok(Filter::And(list(value)?)),
        "$or" => Ok(Filter::Or(list(value)?)),
        "$not" => Ok(Filter::Not(Box::new(Filter::from_json(value)?))),
        op if op.starts_with('$') => Err(invalid(format!("unknown operator {op}"))),
        "" => Err(invalid("empty field name")),
        path => field_filter(path, value),
    }
}

fn field_filter(path: &str, value: &Value) -> Result<Filter> {
    let field = |condition| Filter::Field {
        path: path.to_owned(),
        condition,
    };
    let Value::Object(ops) = value else {
        return Ok(field(Condition::Eq(value.clone())));
    };
    if !ops.keys().any(|k| k.starts_with('$')) {
        return Ok(field(Condition::Eq(value.clone())));
    }
    let mut conditions = ops
        .iter()
        .map(|(op, v)| parse_condition(path, op, v))
        .collect::<Result<Vec<_>>>()?;
    Ok(if conditions.len() == 1 {
        field(conditions.remove(0))
    } else {
        Filter::And(conditions.into_iter().map(field).collect())
    })
}

fn parse_condition(path: &str, op: &str, value: &Value) -> Result<Condition> {
    let scalar = || -> Result<Value> {
        match value {
            Value::Number(_) | Value::String(_) => Ok(value.clone()),
            _ => Err(invalid(format!("{path}: {op} takes a number or a string"))),
        }
    };
    let array = || -> Result<Vec<Value>> {
        match value {
            Value::Array(items) => Ok(items.clone()),
            _ => Err(invalid(format!("{path}: {op} takes an array"))),
        }
    };
    Ok(match op {
        "$eq" => Condition::Eq(value.clone()),
        "$ne" => Condition::Ne(value.clone()),
        "$gt" => Condition::Gt(scalar()?),
        "$gte" => Condition::Gte(scalar()?),
        "$lt" => Condition::Lt(scalar()?),
        "$lte" => Condition::Lte(scalar()?),
        "$in" => Condition::In(array()?),
        "$nin" => Condition::Nin(array()?),
        other => return Err(invalid(format!("{path}: unknown operator {other}"))),
    })
}

fn lookup<'a>(metadata: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(metadata, |v, part| {
        v.as_object().and_then(|m: &Map<String, Value>| m.get(part))
    })
}

impl Condition {
    fn holds(&self, actual: Option<&Value>) -> bool {
        let order = |bound: &Value| actual.and_then(|a| compare(a, bound));
        match self {
            Self::Eq(v) => actual.is_some_and(|a| equal(a, v)),
            Self::Ne(v) => !actual.is_some_and(|a| equal(a, v)),
            Self::Gt(v) => order(v) == Some(Ordering::Greater),
            Self::Gte(v) => matches!(order(v), Some(Ordering::Greater | Ordering::Equal)),
            Self::Lt(v) => order(v) == Some(Ordering::Less),
            Self::Lte(v) => matches!(order(v), Some(Ordering::Less | Ordering::Equal)),
            Self::In(vs) => actual.is_some_and(|a| vs.iter().any(|v| equal(a, v))),
            Self::Nin(vs) => !actual.is_some_and(|a| vs.iter().any(|v| equal(a, v))),
        }
    }
}

/// Equality that treats `1` and `1.0` as the same number.
fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(filter: &str, metadata: &Value) -> bool {
        Filter::parse(filter).unwrap().matches(metadata)
    }

    #[test]
    fn equality_and_implicit_and() {
        assert!(check(r#"{"lang": "en"}"#, &json!({"lang": "en"})));
        assert!(!check(r#"{"lang": "en"}"#, &json!({"lang": "de"})));
        assert!(!check(
            r#"{"lang": "en", "year": 2020}"#,
            &json!({"lang": "en", "year": 2019})
        ));
        assert!(check(r#"{"year": 2020}"#, &json!({"year": 2020.0})));
        assert!(check(
            r#"{"tags": ["a", "b"]}"#,
            &json!({"tags": ["a", "b"]})
        ));
    }

    #[test]
    fn comparisons_and_missing_fields() {
        let doc = json!({"year": 2015, "source": {"name": "pubmed"}});
        assert!(check(r#"{"year": {"$gte": 2010, "$lt": 2020}}"#, &doc));
        assert!(!check(r#"{"year": {"$gt": 2015}}"#, &doc));
        assert!(check(r#"{"source.name": "pubmed"}"#, &doc));
        assert!(!check(r#"{"missing": {"$lt": 5}}"#, &doc));
        assert!(check(r#"{"missing": {"$ne": 5}}"#, &doc));
        assert!(!check(r#"{"year": {"$lt": "zzz"}}"#, &doc));
    }

    #[test]
    fn membership_and_logic() {
        let doc = json!({"tag": "b", "n": 3});
        assert!(check(r#"{"tag": {"$in": ["a", "b"]}}"#, &doc));
        assert!(!check(r#"{"tag": {"$nin": ["a", "b"]}}"#, &doc));
        assert!(check(r#"{"$or": [{"tag": "z"}, {"n": 3}]}"#, &doc));
        assert!(!check(r#"{"$and": [{"tag": "b"}, {"n": 4}]}"#, &doc));
        assert!(check(r#"{"$not": {"tag": "z"}}"#, &doc));
        assert!(!check(r#"{"tag": "b"}"#, &Value::Null));
    }

    #[test]
    fn malformed_filters_are_rejected_with_reasons() {
        for (text, reason) in [
            ("not json", "not JSON"),
            ("[1, 2]", "JSON object"),
            (r#"{"$xor": []}"#, "unknown operator $xor"),
            (r#"{"a": {"$gt": [1]}}"#, "number or a string"),
            (r#"{"a": {"$in": 3}}"#, "array"),
            (r#"{"$or": []}"#, "non-empty array"),
            (r#"{"a": {"$regex": "x"}}"#, "unknown operator $regex"),
        ] {
            let err = Filter::parse(text).unwrap_err().to_string();
            assert!(err.contains(reason), "{text}: {err}");
        }
    }
}
