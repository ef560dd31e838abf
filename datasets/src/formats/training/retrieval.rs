//! (query, relevant document) training pairs from a BEIR split.

use std::collections::HashMap;

use crate::{RetrievalSet, TrainingExample};

/// One [`TrainingExample`] per (query, judged document with grade > 0) pair
/// of `set`, without negatives.
///
/// The query text is the query; the positive is the document's
/// [`crate::Document::beir_text`] (`title + " " + text`). Examples come in
/// query order (`set.queries`, i.e. file order), and a query's documents in
/// corpus order, so the output is deterministic. Queries without a relevant
/// document give no example; a judged document id missing from the corpus is
/// skipped ([`crate::BeirDataset::load_split`] already rejects those).
pub fn beir_training_examples(set: &RetrievalSet) -> Vec<TrainingExample> {
    beir_training_pairs(set)
        .into_iter()
        .map(|(query, doc)| {
            TrainingExample::pair(&set.queries[query].text, set.corpus[doc].beir_text())
        })
        .collect()
}

/// The (query index, document index) pairs behind [`beir_training_examples`], in the same
/// order: indices into `set.queries` and `set.corpus`, so that callers (e.g. hard-negative
/// mining) know which documents are each example's query's positives.
pub fn beir_training_pairs(set: &RetrievalSet) -> Vec<(usize, usize)> {
    let corpus_index: HashMap<&str, usize> = set
        .corpus
        .iter()
        .enumerate()
        .map(|(index, doc)| (doc.id.as_str(), index))
        .collect();
    let mut pairs = Vec::new();
    for (query_index, query) in set.queries.iter().enumerate() {
        let Some(judged) = set.qrels.get(&query.id) else {
            continue;
        };
        let mut relevant: Vec<usize> = judged
            .iter()
            .filter(|(_, &grade)| grade > 0)
            .filter_map(|(doc_id, _)| corpus_index.get(doc_id.as_str()).copied())
            .collect();
        relevant.sort_unstable();
        relevant.dedup();
        pairs.extend(relevant.into_iter().map(|doc| (query_index, doc)));
    }
    pairs
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::{Document, Query};

    fn doc(id: &str, title: Option<&str>, text: &str) -> Document {
        Document {
            id: id.to_owned(),
            title: title.map(str::to_owned),
            text: text.to_owned(),
        }
    }

    fn query(id: &str, text: &str) -> Query {
        Query {
            id: id.to_owned(),
            text: text.to_owned(),
        }
    }

    #[test]
    fn one_pair_per_relevant_document_in_query_then_corpus_order() {
        let set = RetrievalSet {
            corpus: vec![
                doc("d1", Some("T1"), "one"),
                doc("d2", None, "two"),
                doc("d3", Some(""), "three"),
            ],
            queries: vec![
                query("q1", "first"),
                query("q2", "second"),
                query("q3", "none"),
            ],
            qrels: HashMap::from([
                (
                    "q1".to_owned(),
                    HashMap::from([
                        ("d3".to_owned(), 2),
                        ("d1".to_owned(), 1),
                        ("d2".to_owned(), 0),
                    ]),
                ),
                ("q2".to_owned(), HashMap::from([("d2".to_owned(), 1)])),
                ("q3".to_owned(), HashMap::from([("d1".to_owned(), -1)])),
            ]),
        };
        let examples = beir_training_examples(&set);
        assert_eq!(
            examples,
            [
                TrainingExample::pair("first", "T1 one"),
                TrainingExample::pair("first", "three"),
                TrainingExample::pair("second", "two"),
            ]
        );
        assert_eq!(beir_training_pairs(&set), [(0, 0), (0, 2), (1, 1)]);
    }
}
