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

/// The live generation's folder.
fn live_generation(dir: &std::path::Path) -> std::path::PathBuf {
    let current = std::fs::read_to_string(dir.join("snapshots/CURRENT")).unwrap();
    dir.join("snapshots").join(current.trim())
}

fn hnsw_config() -> CollectionConfig {
    CollectionConfig {
        dim: 8,
        ..CollectionConfig::default()
    }
}

/// `n` seeded documents with 8-d vectors and a few words each.
fn seeded_docs(n: usize, salt: usize) -> Vec<Document> {
    const WORDS: [&str; 12] = [
        "vitamin", "bone", "cell", "tumour", "gene", "protein", "virus", "heart", "brain",
        "insulin", "kidney", "liver",
    ];
    (0..n)
        .map(|i| {
            let x = (i * 7919 + salt * 104_729) as f32;
            Document {
                id: format!("d{salt}-{i}"),
                text: format!(
                    "{} {} {} study {i}",
                    WORDS[i % 12],
                    WORDS[(i / 12) % 12],
                    WORDS[(i * 5 + salt) % 12]
                ),
                title: (i % 3 == 0).then(|| WORDS[(i + 4) % 12].to_owned()),
                metadata: json!({"i": i, "even": i % 2 == 0}),
                vector: (0..8).map(|d| (x * (d as f32 + 1.3)).sin()).collect(),
            }
        })
        .collect()
}

/// The top-10 ids of every mode for a few queries, with and without a filter.
fn answers(c: &Collection) -> Vec<Vec<(String, u32)>> {
    let filter = Filter::parse(r#"{"even": true}"#).unwrap();
    let mut all = Vec::new();
    for q in 0..6 {
        let vector: Vec<f32> = (0..8).map(|d| ((q * 8 + d) as f32 * 0.37).cos()).collect();
        let text = [
            "vitamin bone",
            "gene protein study",
            "heart",
            "insulin liver cell",
        ][q % 4];
        for mode in [SearchMode::Dense, SearchMode::Bm25, SearchMode::Hybrid] {
            for filter in [None, Some(&filter)] {
                let request = SearchRequest {
                    vector: Some(&vector),
                    text: Some(text),
                    mode,
                    k: 10,
                    filter,
                    ..SearchRequest::default()
                };
                let hits = c.search(&request).unwrap();
                assert!(!hits.is_empty());
                all.push(
                    hits.into_iter()
                        .map(|h| (h.id, h.score.to_bits()))
                        .collect(),
                );
            }
        }
    }
    all
}

#[test]
fn a_snapshot_holds_the_graph_and_the_text_index_and_reopens_identically() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Collection::create(dir.path(), hnsw_config()).unwrap();
    c.upsert(seeded_docs(600, 0)).unwrap();
    c.upsert(seeded_docs(300, 1)).unwrap();
    // Tombstones: a replaced and a deleted document stay dead positions in the snapshot.
    c.upsert(vec![Document {
        text: "replaced vitamin text".to_owned(),
        ..seeded_docs(1, 0).remove(0)
    }])
    .unwrap();
    c.delete(vec!["d0-5".to_owned(), "d1-7".to_owned()])
        .unwrap();
    c.snapshot().unwrap();
    let before = answers(&c);
    let count = c.count();
    drop(c);

    let generation = live_generation(dir.path());
    for file in [
        "manifest.json",
        "docs.jsonl",
        "vectors.f32",
        "hnsw/hnsw.json",
        "text/meta.json",
    ] {
        assert!(generation.join(file).is_file(), "{file} is missing");
    }
    let docs = std::fs::read_to_string(generation.join("docs.jsonl")).unwrap();
    assert_eq!(docs.lines().count(), 901, "positions, dead ones included");
    assert_eq!(docs.lines().filter(|l| *l == "null").count(), 3);

    let (c, report) = Collection::open(dir.path()).unwrap();
    assert_eq!(report.replayed_batches, 0);
    assert_eq!(c.count(), count);
    assert_eq!(answers(&c), before);
    assert!(c.get("d0-5").is_none());
    assert_eq!(c.get("d0-0").unwrap().text, "replaced vitamin text");

    // Writes after a reopen extend the loaded graph and text index; the log replays them.
    let mut c = c;
    c.upsert(seeded_docs(50, 2)).unwrap();
    c.delete(vec!["d0-9".to_owned()]).unwrap();
    let before = answers(&c);
    drop(c);
    let (c, report) = Collection::open(dir.path()).unwrap();
    assert_eq!(report.replayed_batches, 2);
    assert_eq!(answers(&c), before);
    let mut c = c;
    c.snapshot().unwrap();
    drop(c);
    let (c, _) = Collection::open(dir.path()).unwrap();
    assert_eq!(answers(&c), before);
}

#[test]
fn many_dead_positions_compact_the_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Collection::create(dir.path(), hnsw_config()).unwrap();
    c.upsert(seeded_docs(1400, 0)).unwrap();
    let doomed: Vec<String> = (0..1100).map(|i| format!("d0-{i}")).collect();
    c.delete(doomed).unwrap();
    // 1,100 dead of 1,400 positions: the delete itself triggered a compacting snapshot.
    let docs = std::fs::read_to_string(live_generation(dir.path()).join("docs.jsonl")).unwrap();
    assert_eq!(docs.lines().count(), 300);
    assert!(!docs.contains("null"));
    let before = answers(&c);
    drop(c);
    let (c, report) = Collection::open(dir.path()).unwrap();
    assert_eq!((c.count(), report.replayed_batches), (300, 0));
    assert_eq!(answers(&c), before);
}

#[test]
fn damaged_or_missing_snapshot_files_are_typed_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Collection::create(dir.path(), hnsw_config()).unwrap();
    c.upsert(seeded_docs(300, 0)).unwrap();
    c.snapshot().unwrap();
    drop(c);
    let generation = live_generation(dir.path());
    let graph = std::fs::read_dir(generation.join("hnsw"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(".links"))
        .unwrap();
    let text_file = std::fs::read_dir(generation.join("text"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "idx"))
        .unwrap();
    let files = [
        graph,
        text_file,
        generation.join("docs.jsonl"),
        generation.join("vectors.f32"),
        generation.join("hnsw/hnsw.json"),
    ];
    for file in &files {
        let good = std::fs::read(file).unwrap();
        // A flipped byte in the middle, a truncation, and a missing file.
        let mut flipped = good.clone();
        flipped[good.len() / 2] ^= 0x40;
        for damaged in [Some(flipped), Some(good[..good.len() / 2].to_vec()), None] {
            match &damaged {
                Some(bytes) => std::fs::write(file, bytes).unwrap(),
                None => std::fs::remove_file(file).unwrap(),
            }
            let err = Collection::open(dir.path()).unwrap_err();
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            assert!(
                matches!(err, IndexError::Corrupt { .. } | IndexError::Io(_)),
                "{err:?}"
            );
            assert!(err.to_string().contains(&name), "{name}: {err}");
            std::fs::write(file, &good).unwrap();
        }
    }
    assert_eq!(Collection::open(dir.path()).unwrap().0.count(), 300);
    let corrupt_graph = files[0].clone();
    let mut bytes = std::fs::read(&corrupt_graph).unwrap();
    bytes[10] ^= 1;
    std::fs::write(&corrupt_graph, bytes).unwrap();
    assert!(matches!(
        Collection::open(dir.path()),
        Err(IndexError::Corrupt { path, .. }) if path == corrupt_graph
    ));
}

#[test]
fn a_version_1_snapshot_still_opens_and_is_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let config = hnsw_config();
    let docs = seeded_docs(150, 0);
    let generation = dir.path().join("snapshots/snapshot-00000000000000000001");
    std::fs::create_dir_all(&generation).unwrap();
    let mut manifest = crate::persist::Manifest::new(config.dim, config.distance);
    manifest.format_version = 1;
    manifest.index_params = serde_json::to_value(&config).unwrap();
    manifest.save(&generation.join("manifest.json")).unwrap();
    let lines: Vec<String> = docs
        .iter()
        .map(|d| serde_json::to_string(d).unwrap())
        .collect();
    std::fs::write(generation.join("docs.jsonl"), lines.join("\n") + "\n").unwrap();
    std::fs::write(
        dir.path().join("snapshots/CURRENT"),
        "snapshot-00000000000000000001\n",
    )
    .unwrap();
    crate::persist::Wal::create(dir.path().join("wal.log"), 1).unwrap();
    let (mut c, _) = Collection::open(dir.path()).unwrap();
    assert_eq!(c.count(), 150);
    assert_eq!(c.get("d0-3").unwrap(), &docs[3]);
    let before = answers(&c);
    c.snapshot().unwrap();
    drop(c);
    let (c, _) = Collection::open(dir.path()).unwrap();
    assert_eq!(c.manifest().format_version, crate::persist::FORMAT_VERSION);
    assert_eq!(answers(&c), before);
}

/// A version-2 snapshot: an `hnsw_rs` graph, and HNSW parameters without an engine.
#[test]
fn a_version_2_snapshot_keeps_its_hnsw_rs_graph() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = hnsw_config();
    if let VectorIndexConfig::Hnsw(hnsw) = &mut config.vector_index {
        hnsw.engine = crate::vector::HnswEngine::HnswRs;
    }
    let mut c = Collection::create(dir.path(), config).unwrap();
    c.upsert(seeded_docs(200, 0)).unwrap();
    c.snapshot().unwrap();
    let before = answers(&c);
    drop(c);
    // Rewrite the manifest as version 2 wrote it.
    let manifest_path = live_generation(dir.path()).join("manifest.json");
    let mut manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest_path).unwrap()).unwrap();
    manifest["format_version"] = 2.into();
    let params = &mut manifest["index_params"]["vector_index"];
    assert_eq!(params["engine"], "hnsw_rs");
    params.as_object_mut().unwrap().remove("engine");
    std::fs::write(&manifest_path, manifest.to_string()).unwrap();

    let (mut c, _) = Collection::open(dir.path()).unwrap();
    let VectorIndexConfig::Hnsw(hnsw) = &c.config().vector_index else {
        unreachable!("an hnsw collection")
    };
    assert_eq!(hnsw.engine, crate::vector::HnswEngine::HnswRs);
    assert_eq!(answers(&c), before);
    // The next snapshot records the engine, in the current format.
    c.upsert(seeded_docs(10, 1)).unwrap();
    c.snapshot().unwrap();
    drop(c);
    let (c, _) = Collection::open(dir.path()).unwrap();
    assert_eq!(c.manifest().format_version, crate::persist::FORMAT_VERSION);
    assert_eq!(
        c.manifest().index_params["vector_index"]["engine"],
        "hnsw_rs"
    );
    assert_eq!(c.count(), 210);
}

#[test]
fn a_corrupt_snapshot_is_reported_with_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Collection::create(dir.path(), config()).unwrap();
    c.upsert(corpus()).unwrap();
    c.snapshot().unwrap();
    drop(c);
    let docs = live_generation(dir.path()).join("docs.jsonl");
    std::fs::write(&docs, "{\"id\": \"cat\", truncated").unwrap();
    let err = Collection::open(dir.path()).unwrap_err();
    assert!(
        matches!(&err, IndexError::Corrupt { path, .. } if *path == docs),
        "{err}"
    );
}

/// Rewrites `tests/compat/v2/collection`; run with `--ignored` only when the format version
/// changes, into a new folder (the integration test `compat` reads it).
#[test]
#[ignore = "rewrites a checked-in fixture"]
fn write_collection_compat_fixture() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/compat/v2/collection");
    let _ = std::fs::remove_dir_all(&dir);
    let config = CollectionConfig {
        dim: 4,
        ..CollectionConfig::default()
    };
    let doc = |i: usize, text: String| {
        let mut vector = vec![i as f32 / 1000.0; 4];
        vector[i % 4] += 1.0;
        Document {
            id: format!("doc-{i}"),
            text,
            title: None,
            metadata: json!({"i": i}),
            vector,
        }
    };
    let mut c = Collection::create(&dir, config).unwrap();
    c.upsert(
        (0..40)
            .map(|i| doc(i, format!("word{} filler", i % 7)))
            .collect(),
    )
    .unwrap();
    c.delete(vec!["doc-3".to_owned()]).unwrap();
    c.snapshot().unwrap();
    c.upsert(vec![doc(40, "logged after the snapshot".to_owned())])
        .unwrap();
    drop(c);
    std::fs::remove_file(dir.join("LOCK")).unwrap();
}
