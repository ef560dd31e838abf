//! Collection behaviour: upsert/delete semantics, search modes, durability across reopen.

use serde_json::json;

use crate::collection::{
    Collection, CollectionConfig, Document, Filter, SearchMode, SearchRequest,
};
use crate::error::IndexError;
use crate::vector::VectorIndexConfig;

fn config() -> CollectionConfig {
    CollectionConfig {
        dim: 3,
        ..CollectionConfig::default()
    }
}

fn doc(id: &str, text: &str, vector: [f32; 3]) -> Document {
    Document {
        id: id.to_owned(),
        text: text.to_owned(),
        title: None,
        metadata: json!({"id": id}),
        vector: vector.to_vec(),
    }
}

fn dense(collection: &Collection, vector: &[f32], k: usize) -> Vec<String> {
    let request = SearchRequest {
        vector: Some(vector),
        k,
        ..SearchRequest::default()
    };
    collection
        .search(&request)
        .unwrap()
        .into_iter()
        .map(|h| h.id)
        .collect()
}

fn corpus() -> Vec<Document> {
    vec![
        doc("cat", "cats purr and chase mice", [1.0, 0.0, 0.0]),
        doc("dog", "dogs bark at the mail carrier", [0.0, 1.0, 0.0]),
        doc("fish", "fish swim in the sea", [0.0, 0.0, 1.0]),
    ]
}

#[test]
fn upsert_replaces_and_delete_removes_for_good() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Collection::create(dir.path(), config()).unwrap();
    c.upsert(corpus()).unwrap();
    assert_eq!(c.count(), 3);
    c.upsert(vec![doc("cat", "cats sleep all day", [0.0, 1.0, 0.1])])
        .unwrap();
    assert_eq!(c.count(), 3);
    assert_eq!(c.get("cat").unwrap().text, "cats sleep all day");
    assert_eq!(dense(&c, &[1.0, 0.0, 0.0], 3).len(), 3);
    assert_eq!(dense(&c, &[0.0, 1.0, 0.0], 1), vec!["dog"]);
    assert_eq!(
        c.delete(vec!["dog".to_owned(), "nobody".to_owned()])
            .unwrap(),
        1
    );
    assert!(c.get("dog").is_none());
    assert!(!dense(&c, &[0.0, 1.0, 0.0], 10).contains(&"dog".to_owned()));
    let bm25 = SearchRequest {
        text: Some("bark"),
        mode: SearchMode::Bm25,
        k: 10,
        ..SearchRequest::default()
    };
    assert!(c.search(&bm25).unwrap().is_empty());
}

#[test]
fn every_mode_and_filter_answers() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Collection::create(dir.path(), config()).unwrap();
    c.upsert(corpus()).unwrap();
    let bm25 = SearchRequest {
        text: Some("chasing mice"),
        mode: SearchMode::Bm25,
        k: 2,
        ..SearchRequest::default()
    };
    assert_eq!(c.search(&bm25).unwrap()[0].id, "cat");
    let hybrid = SearchRequest {
        vector: Some(&[0.0, 0.0, 1.0]),
        text: Some("the sea"),
        mode: SearchMode::Hybrid,
        k: 3,
        ..SearchRequest::default()
    };
    assert_eq!(c.search(&hybrid).unwrap()[0].id, "fish");
    let filter = Filter::parse(r#"{"id": {"$in": ["dog", "fish"]}}"#).unwrap();
    let filtered = SearchRequest {
        vector: Some(&[1.0, 0.0, 0.0]),
        k: 3,
        filter: Some(&filter),
        ..SearchRequest::default()
    };
    let ids: Vec<String> = c
        .search(&filtered)
        .unwrap()
        .into_iter()
        .map(|h| h.id)
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(!ids.contains(&"cat".to_owned()));
}

#[test]
fn bad_requests_and_documents_are_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Collection::create(dir.path(), config()).unwrap();
    c.upsert(corpus()).unwrap();
    let k0 = SearchRequest {
        vector: Some(&[1.0, 0.0, 0.0]),
        k: 0,
        ..SearchRequest::default()
    };
    assert!(matches!(c.search(&k0), Err(IndexError::InvalidQuery(_))));
    let no_text = SearchRequest {
        mode: SearchMode::Bm25,
        k: 3,
        ..SearchRequest::default()
    };
    assert!(matches!(
        c.search(&no_text),
        Err(IndexError::InvalidQuery(_))
    ));
    let wrong_dim = SearchRequest {
        vector: Some(&[1.0, 0.0]),
        k: 3,
        ..SearchRequest::default()
    };
    assert!(matches!(
        c.search(&wrong_dim),
        Err(IndexError::DimMismatch { .. })
    ));
    assert!(c.upsert(vec![doc("x", "t", [f32::NAN, 0.0, 0.0])]).is_err());
    assert!(c
        .upsert(vec![
            doc("y", "t", [1.0, 0.0, 0.0]),
            doc("y", "u", [1.0, 0.0, 0.0])
        ])
        .is_err());
    assert_eq!(c.count(), 3, "a rejected batch writes nothing");
    assert!(matches!(
        Collection::create(dir.path(), config()),
        Err(IndexError::AlreadyExists(_))
    ));
    assert!(matches!(
        Collection::open(dir.path()),
        Err(IndexError::Locked(_))
    ));
    assert!(matches!(
        Collection::open(&dir.path().join("missing")),
        Err(IndexError::NotFound(_))
    ));
}

#[test]
fn reopen_gives_identical_results_before_and_after_a_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let flat = CollectionConfig {
        vector_index: VectorIndexConfig::Flat,
        ..config()
    };
    let mut c = Collection::create(dir.path(), flat).unwrap();
    c.upsert(corpus()).unwrap();
    c.delete(vec!["dog".to_owned()]).unwrap();
    let before = dense(&c, &[0.5, 0.5, 0.1], 3);
    drop(c);
    let (c, report) = Collection::open(dir.path()).unwrap();
    assert_eq!(report.replayed_batches, 2);
    assert_eq!(dense(&c, &[0.5, 0.5, 0.1], 3), before);
    let mut c = c;
    c.snapshot().unwrap();
    c.upsert(vec![doc("eel", "eels are fish too", [0.0, 0.1, 1.0])])
        .unwrap();
    drop(c);
    let (c, report) = Collection::open(dir.path()).unwrap();
    assert_eq!(report.replayed_batches, 1);
    assert_eq!(c.count(), 3);
    assert_eq!(dense(&c, &[0.0, 0.0, 1.0], 2), vec!["fish", "eel"]);
    assert_eq!(c.get("cat").unwrap().metadata, json!({"id": "cat"}));
}

#[test]
fn a_corrupt_snapshot_is_reported_with_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Collection::create(dir.path(), config()).unwrap();
    c.upsert(corpus()).unwrap();
    c.snapshot().unwrap();
    drop(c);
    let current = std::fs::read_to_string(dir.path().join("snapshots/CURRENT")).unwrap();
    let docs = dir
        .path()
        .join("snapshots")
        .join(current.trim())
        .join("docs.jsonl");
    std::fs::write(&docs, "{\"id\": \"cat\", truncated").unwrap();
    let err = Collection::open(dir.path()).unwrap_err().to_string();
    assert!(
        err.contains("docs.jsonl") && err.contains("line 1"),
        "{err}"
    );
}
