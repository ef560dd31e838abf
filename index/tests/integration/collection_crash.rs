//! Kills a process with SIGKILL in the middle of a stream of collection upserts and deletes,
//! reopens the collection and checks that every acknowledged write is there (and nothing that
//! was never written).
//!
//! The test re-executes its own binary as the writer (see `wal_crash.rs` for the pattern): with
//! [`CHILD_ENV`] set, it upserts batches of documents `b<batch>-<i>` (and deletes the first
//! document of every fifth batch) forever, printing `ACK <batch>` after each call returns.
//! Snapshots happen every few batches, so kills also land around snapshot switches.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use pairwise_index::{Collection, CollectionConfig, Document, VectorIndexConfig};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const CHILD_ENV: &str = "PAIRWISE_COLLECTION_CHILD";
const DIM: usize = 8;
const PER_BATCH: usize = 5;

fn config(vector_index: VectorIndexConfig) -> CollectionConfig {
    CollectionConfig {
        dim: DIM,
        vector_index,
        snapshot_every_batches: 7,
        ..CollectionConfig::default()
    }
}

fn vector(batch: u64, i: usize) -> Vec<f32> {
    (0..DIM)
        .map(|d| ((batch as usize * 31 + i * 7 + d) % 13) as f32 + 1.0)
        .collect()
}

fn id(batch: u64, i: usize) -> String {
    format!("b{batch}-{i}")
}

/// Whether batch `batch` deletes its first document right after upserting it.
fn deletes_first(batch: u64) -> bool {
    batch.is_multiple_of(5)
}

#[test]
fn acknowledged_documents_survive_sigkill() {
    if let Ok(dir) = std::env::var(CHILD_ENV) {
        writer(Path::new(&dir));
        return;
    }
    kill_and_check(
        "collection_crash::acknowledged_documents_survive_sigkill",
        VectorIndexConfig::Flat,
    );
}

/// The same with an HNSW index, whose graph each snapshot saves, so kills also land while a
/// graph and a tantivy folder are being written.
#[test]
fn acknowledged_documents_survive_sigkill_with_hnsw() {
    if let Ok(dir) = std::env::var(CHILD_ENV) {
        writer(Path::new(&dir));
        return;
    }
    kill_and_check(
        "collection_crash::acknowledged_documents_survive_sigkill_with_hnsw",
        VectorIndexConfig::default(),
    );
}

fn kill_and_check(test_name: &str, vector_index: VectorIndexConfig) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c");
    drop(Collection::create(&path, config(vector_index)).unwrap());
    let mut rng = StdRng::seed_from_u64(0xc011_ec71);
    let mut acked = 0u64;
    for round in 0..6 {
        let acks = if round == 0 { 1 } else { rng.gen_range(1..40) };
        let delay = Duration::from_micros(rng.gen_range(0..2000));
        acked = acked.max(run_and_kill(test_name, &path, acks, delay));
        let (collection, report) = Collection::open(&path).unwrap();
        for batch in 1..=acked {
            for i in 0..PER_BATCH {
                let found = collection.get(&id(batch, i));
                if i == 0 && deletes_first(batch) {
                    continue; // its delete may or may not have been acknowledged
                }
                let doc = found.unwrap_or_else(|| {
                    panic!("acknowledged {} is missing (round {round})", id(batch, i))
                });
                assert_eq!(doc.vector, vector(batch, i));
            }
        }
        eprintln!(
            "round {round}: {acked} batches acknowledged, {} documents, replayed {}",
            collection.count(),
            report.replayed_batches
        );
    }
    assert!(acked >= 20, "the writers acknowledged too little");
}

/// Starts a writer, kills it after `acks` acknowledgements plus `delay`; returns the last
/// acknowledged batch.
fn run_and_kill(test_name: &str, path: &Path, acks: u64, delay: Duration) -> u64 {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([test_name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, path)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut last = 0;
    let mut seen = 0;
    while seen < acks {
        let line = lines.next().expect("the writer stopped early").unwrap();
        if let Some(batch) = line.strip_prefix("ACK ") {
            last = batch.parse().unwrap();
            seen += 1;
        }
    }
    std::thread::sleep(delay);
    child.kill().unwrap();
    child.wait().unwrap();
    for line in lines.map_while(Result::ok) {
        if let Some(batch) = line.strip_prefix("ACK ") {
            last = batch.parse().unwrap();
        }
    }
    last
}

/// The child: continues after the highest batch already stored.
#[allow(
    clippy::print_stdout,
    reason = "acknowledgements go to the parent through stdout"
)]
fn writer(path: &Path) {
    let (mut collection, _) = Collection::open(path).unwrap();
    let mut batch = (1..)
        .find(|&b| collection.get(&id(b, 1)).is_none())
        .unwrap_or(1);
    loop {
        let docs = (0..PER_BATCH)
            .map(|i| Document {
                id: id(batch, i),
                text: format!("document {i} of batch {batch}"),
                title: None,
                metadata: serde_json::json!({"batch": batch}),
                vector: vector(batch, i),
            })
            .collect();
        collection.upsert(docs).unwrap();
        if deletes_first(batch) {
            collection.delete(vec![id(batch, 0)]).unwrap();
        }
        println!("ACK {batch}");
        batch += 1;
    }
}
