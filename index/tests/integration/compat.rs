//! Files written in format version 1 (by `tests/compat/v1/generate.py`, an independent
//! implementation of the documented layout) and a whole collection written in version 2 (by
//! the ignored test `collection::tests::write_collection_compat_fixture`) stay readable by every later
//! version.

use std::path::{Path, PathBuf};

use pairwise_index::persist::{Manifest, Wal, WalRecord, OLDEST_FORMAT_VERSION};
use pairwise_index::{Collection, Distance, SearchMode, SearchRequest};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/compat/v1")
        .join(name)
}

#[test]
fn v1_log_replays() {
    // Opening may truncate a torn tail, so work on a copy.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wal.log");
    fs_err::copy(fixture("wal.log"), &path).unwrap();
    let (wal, replay) = Wal::open(&path).unwrap();
    assert_eq!(replay.dropped_tail_bytes, 0);
    assert_eq!((replay.base_seq, wal.next_seq()), (7, 11));
    let record = |seq, payload: &[u8]| WalRecord {
        seq,
        payload: payload.to_vec(),
    };
    assert_eq!(
        replay.into_unapplied(8).unwrap(),
        [record(9, b"beta"), record(10, b"gamma")]
    );
}

#[test]
fn v1_manifest_loads() {
    assert_eq!(OLDEST_FORMAT_VERSION, 1, "version 1 must stay readable");
    let manifest = Manifest::load(&fixture("manifest.json")).unwrap();
    assert_eq!(manifest.format_version, 1);
    assert_eq!(manifest.model_id.as_deref(), Some("all-MiniLM-L6-v2"));
    assert_eq!((manifest.dim, manifest.distance), (384, Distance::Cosine));
    assert_eq!(manifest.index_params["m"], 16);
    assert_eq!(
        (manifest.last_seq, manifest.created_unix_ms),
        (8, 1_700_000_000_000)
    );
}

/// Copies a folder tree (opening a collection takes its lock and may clean up, so tests work
/// on a copy).
fn copy_tree(from: &Path, to: &Path) {
    fs_err::create_dir_all(to).unwrap();
    for entry in fs_err::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs_err::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn v2_collection_opens_with_its_graph_text_index_and_log() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/compat/v2/collection");
    copy_tree(&fixture, dir.path());
    let (collection, report) = Collection::open(dir.path()).unwrap();
    assert_eq!(collection.manifest().format_version, 2);
    // The fixture: 40 documents "doc-<i>" (text "word<i % 7> filler"), vector e_(i % 4) + i/1000;
    // doc-3 deleted before the snapshot, then doc-40 upserted through the log.
    assert_eq!((collection.count(), report.replayed_batches), (40, 1));
    assert!(collection.get("doc-3").is_none());
    assert_eq!(
        collection.get("doc-40").unwrap().text,
        "logged after the snapshot"
    );
    let dense = SearchRequest {
        vector: Some(&[0.0, 1.0, 0.0, 0.0]),
        k: 3,
        ..SearchRequest::default()
    };
    let hits = collection.search(&dense).unwrap();
    assert!(
        hits.iter().all(|h| h.id.ends_with(['1', '5', '9'])),
        "{hits:?}"
    );
    let bm25 = SearchRequest {
        text: Some("word5"),
        mode: SearchMode::Bm25,
        k: 10,
        ..SearchRequest::default()
    };
    let mut ids: Vec<String> = collection
        .search(&bm25)
        .unwrap()
        .into_iter()
        .map(|h| h.id)
        .collect();
    ids.sort();
    assert_eq!(ids, ["doc-12", "doc-19", "doc-26", "doc-33", "doc-5"]);
}
