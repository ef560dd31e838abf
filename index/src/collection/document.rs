//! The documents a collection stores, and their validation.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{IndexError, Result};

/// Longest accepted external id, in bytes.
pub const MAX_ID_BYTES: usize = 512;

/// A document as stored: external id, text, optional title, metadata and its vector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Document {
    /// The caller's id; upserting the same id replaces the document.
    pub id: String,
    /// The body text (searched by BM25, embedded by the caller's model).
    pub text: String,
    /// An optional title, searched by BM25 beside the text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// A JSON object (or null) that filters can test.
    #[serde(default)]
    pub metadata: Value,
    /// The embedding.
    pub vector: Vec<f32>,
}

impl Document {
    /// Checks one document against the collection's dimension.
    ///
    /// # Errors
    /// [`IndexError::InvalidDocument`] for an empty or over-long id, empty text or non-object
    /// metadata; [`IndexError::DimMismatch`] and [`IndexError::NonFinite`] for bad vectors.
    pub fn validate(&self, dim: usize) -> Result<()> {
        let bad = |reason: &str| IndexError::InvalidDocument {
            id: self.id.clone(),
            reason: reason.to_owned(),
        };
        if self.id.is_empty() {
            return Err(bad("id is empty"));
        }
        if self.id.len() > MAX_ID_BYTES {
            return Err(bad("id is longer than 512 bytes"));
        }
        if self.text.trim().is_empty() {
            return Err(bad("text is empty"));
        }
        if !(self.metadata.is_object() || self.metadata.is_null()) {
            return Err(bad("metadata must be a JSON object"));
        }
        if self.vector.len() != dim {
            return Err(IndexError::DimMismatch {
                expected: dim,
                got: self.vector.len(),
            });
        }
        if let Some((position, &value)) =
            self.vector.iter().enumerate().find(|(_, v)| !v.is_finite())
        {
            return Err(IndexError::NonFinite { position, value });
        }
        Ok(())
    }
}

/// Validates a batch: every document, and no id twice.
///
/// # Errors
/// The first invalid document's error, or [`IndexError::InvalidDocument`] for a duplicate id.
pub fn validate_batch(docs: &[Document], dim: usize) -> Result<()> {
    let mut seen = std::collections::HashSet::with_capacity(docs.len());
    for doc in docs {
        doc.validate(dim)?;
        if !seen.insert(doc.id.as_str()) {
            return Err(IndexError::InvalidDocument {
                id: doc.id.clone(),
                reason: "id appears twice in the batch".to_owned(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(id: &str, text: &str, vector: Vec<f32>) -> Document {
        Document {
            id: id.to_owned(),
            text: text.to_owned(),
            title: None,
            metadata: Value::Null,
            vector,
        }
    }

    #[test]
    fn accepts_a_good_batch() {
        let mut d = doc("a", "text", vec![1.0, 0.0]);
        d.metadata = json!({"lang": "en"});
        assert!(validate_batch(&[d, doc("b", "more", vec![0.0, 1.0])], 2).is_ok());
    }

    #[test]
    fn rejects_each_kind_of_bad_document() {
        let cases = [
            (doc("", "t", vec![1.0]), "id is empty"),
            (doc("a", "  ", vec![1.0]), "text is empty"),
            (doc("a", "t", vec![1.0, 2.0]), "dimension 2"),
            (doc("a", "t", vec![f32::NAN]), "not finite"),
            (doc(&"x".repeat(600), "t", vec![1.0]), "longer than"),
        ];
        for (d, reason) in cases {
            let err = d.validate(1).unwrap_err().to_string();
            assert!(err.contains(reason), "{err}");
        }
        let mut d = doc("a", "t", vec![1.0]);
        d.metadata = json!([1]);
        assert!(d
            .validate(1)
            .unwrap_err()
            .to_string()
            .contains("JSON object"));
    }

    #[test]
    fn rejects_duplicate_ids_in_a_batch() {
        let err =
            validate_batch(&[doc("a", "t", vec![1.0]), doc("a", "u", vec![1.0])], 1).unwrap_err();
        assert!(err.to_string().contains("twice"), "{err}");
    }
}
