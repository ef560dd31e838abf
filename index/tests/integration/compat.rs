//! Files written in format version 1 (by `tests/compat/v1/generate.py`, an independent
//! implementation of the documented layout) stay readable by every later version.

use std::path::{Path, PathBuf};

use pairwise_index::persist::{Manifest, Wal, WalRecord, FORMAT_VERSION};
use pairwise_index::Distance;

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
    assert_eq!(
        FORMAT_VERSION, 1,
        "a new version needs a new fixture folder"
    );
    let manifest = Manifest::load(&fixture("manifest.json")).unwrap();
    assert_eq!(manifest.model_id.as_deref(), Some("all-MiniLM-L6-v2"));
    assert_eq!((manifest.dim, manifest.distance), (384, Distance::Cosine));
    assert_eq!(manifest.index_params["m"], 16);
    assert_eq!(
        (manifest.last_seq, manifest.created_unix_ms),
        (8, 1_700_000_000_000)
    );
}
