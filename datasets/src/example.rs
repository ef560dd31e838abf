//! Plain record types produced by the readers.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// One document of a retrieval corpus.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    /// Document id (`_id` in BEIR; numeric ids are kept as their decimal text).
    pub id: String,
    /// Optional title; `None` when the field is absent or `null`.
    pub title: Option<String>,
    /// Body text.
    pub text: String,
}

impl Document {
    /// The text BEIR models embed: `title + " " + text`, or just `text` when
    /// the title is absent or blank.
    pub fn beir_text(&self) -> String {
        match self.title.as_deref() {
            Some(title) if !title.trim().is_empty() => format!("{title} {}", self.text),
            _ => self.text.clone(),
        }
    }
}

/// One retrieval query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Query {
    /// Query id (`_id` in BEIR).
    pub id: String,
    /// Query text.
    pub text: String,
}

/// Relevance judgments: query id → (document id → graded relevance score).
pub type Qrels = HashMap<String, HashMap<String, i32>>;

/// A sentence pair with a real-valued similarity score (e.g. STS-B, 0–5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoredPair {
    /// First sentence.
    pub text_a: String,
    /// Second sentence.
    pub text_b: String,
    /// Gold similarity score.
    pub score: f32,
}

/// A sentence pair with a binary label (e.g. paraphrase / not paraphrase).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelledPair {
    /// `true` for a positive pair (label `1`).
    pub label: bool,
    /// First text.
    pub text_a: String,
    /// Second text.
    pub text_b: String,
}

/// One training example for contrastive embedding training: a query (or
/// anchor), one positive text and zero or more hard negatives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrainingExample {
    /// The query or anchor text.
    pub query: String,
    /// A text that should embed close to `query`.
    pub positive: String,
    /// Hard negatives: texts that should embed far from `query`.
    pub negatives: Vec<String>,
}

impl TrainingExample {
    /// A (query, positive) pair without negatives.
    pub fn pair(query: impl Into<String>, positive: impl Into<String>) -> Self {
        Self {
            query: query.into(),
            positive: positive.into(),
            negatives: Vec::new(),
        }
    }

    /// All texts of the example: the query, the positive, then the negatives.
    pub fn texts(&self) -> impl Iterator<Item = &str> {
        [self.query.as_str(), self.positive.as_str()]
            .into_iter()
            .chain(self.negatives.iter().map(String::as_str))
    }
}

/// Everything needed to evaluate retrieval on one split of a BEIR data set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrievalSet {
    /// The full corpus, in file order.
    pub corpus: Vec<Document>,
    /// The queries that have judgments in this split, in file order.
    pub queries: Vec<Query>,
    /// The split's relevance judgments.
    pub qrels: Qrels,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(title: Option<&str>) -> Document {
        Document {
            id: "1".to_owned(),
            title: title.map(str::to_owned),
            text: "Body.".to_owned(),
        }
    }

    #[test]
    fn beir_text_joins_title_and_text() {
        assert_eq!(doc(Some("Title")).beir_text(), "Title Body.");
    }

    #[test]
    fn beir_text_without_title_is_just_text() {
        assert_eq!(doc(None).beir_text(), "Body.");
        assert_eq!(doc(Some("")).beir_text(), "Body.");
        assert_eq!(doc(Some("  ")).beir_text(), "Body.");
    }

    #[test]
    fn training_example_texts_lists_query_positive_then_negatives() {
        let mut example = TrainingExample::pair("q", "p");
        assert_eq!(example.texts().collect::<Vec<_>>(), ["q", "p"]);
        example.negatives = vec!["n1".to_owned(), "n2".to_owned()];
        assert_eq!(example.texts().collect::<Vec<_>>(), ["q", "p", "n1", "n2"]);
    }
}
