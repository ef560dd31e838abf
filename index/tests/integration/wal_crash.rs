//! Kills a writer process with SIGKILL in the middle of a stream of log appends, then checks
//! that reopening the log finds every acknowledged record and invents none.
//!
//! The test re-executes its own binary as the writer: with [`CHILD_ENV`] set to a folder, the
//! same test function runs [`writer`] instead, which appends batches forever, printing
//! `ACK <last seq>` after each fsynced batch and `RESET <base seq>` after each log reset. The
//! parent kills it at a seeded random point, drains the lines it printed before dying, reopens
//! the log and checks it. Later rounds reuse the same log, so recovery from a torn tail is
//! followed by more appends.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use pairwise_index::persist::Wal;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Set in the child to the folder holding the log.
const CHILD_ENV: &str = "PAIRWISE_WAL_CHILD";

/// This test's name, as the child's test filter.
const TEST_NAME: &str = "wal_crash::acknowledged_records_survive_sigkill";

/// The child resets the log once it grows past this, to crash around resets too.
const RESET_AT_BYTES: u64 = 48 << 10;

/// The most records in one batch.
const MAX_BATCH: u64 = 8;

/// What the parent learned from the children so far.
#[derive(Debug, Default)]
struct Acknowledged {
    /// The highest acknowledged sequence number (0: none).
    last_seq: u64,
    /// The base of the last acknowledged reset: records below it may be gone.
    reset_base: u64,
}

#[test]
fn acknowledged_records_survive_sigkill() {
    if let Ok(dir) = std::env::var(CHILD_ENV) {
        writer(Path::new(&dir));
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut rng = StdRng::seed_from_u64(0x3a11_c0de);
    // Kill before anything can be acknowledged, right after the first batch, then at random.
    let mut kill_after: Vec<u64> = vec![0, 1];
    kill_after.extend((0..5).map(|_| rng.gen_range(2..120)));
    let mut acked = Acknowledged::default();
    for (round, &acks) in kill_after.iter().enumerate() {
        let delay = Duration::from_micros(rng.gen_range(0..400));
        run_and_kill(dir.path(), acks, delay, &mut acked);
        let (replayed, dropped) = check_log(dir.path(), &acked);
        eprintln!(
            "round {round}: killed after {acks} acks + {delay:?}; acknowledged up to {}, \
             replayed up to {replayed}, torn tail {dropped} bytes, last reset at {}",
            acked.last_seq, acked.reset_base
        );
    }
    assert!(acked.last_seq > 100, "the children acknowledged too little");
}

/// Starts a writer child, kills it after `acks` acknowledgements and `delay`, and records every
/// line it printed before dying.
fn run_and_kill(dir: &Path, acks: u64, delay: Duration, acked: &mut Acknowledged) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([TEST_NAME, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, dir)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = 0;
    while seen < acks {
        let line = lines.next().expect("the writer stopped early").unwrap();
        seen += u64::from(record_line(&line, acked));
    }
    std::thread::sleep(delay);
    child.kill().unwrap(); // SIGKILL on Unix
    for line in lines {
        record_line(&line.unwrap(), acked);
    }
    let status = child.wait().unwrap();
    assert!(!status.success(), "the writer was meant to be killed");
}

/// Notes an `ACK` or `RESET` line; returns whether it was an `ACK`.
fn record_line(line: &str, acked: &mut Acknowledged) -> bool {
    let Some((kind, value)) = line.split_once(' ') else {
        return false;
    };
    let Ok(value) = value.trim().parse::<u64>() else {
        return false;
    };
    match kind {
        "ACK" => {
            assert!(value > acked.last_seq, "acknowledgements go up");
            acked.last_seq = value;
            true
        }
        "RESET" => {
            acked.reset_base = value;
            false
        }
        _ => false,
    }
}

/// Reopens the log and checks it against the acknowledgements; returns its last seq and the
/// torn-tail bytes dropped.
fn check_log(dir: &Path, acked: &Acknowledged) -> (u64, u64) {
    let path = dir.join("wal.log");
    if !path.exists() {
        assert_eq!(acked.last_seq, 0, "acknowledged records but no log");
        return (0, 0);
    }
    let (wal, replay) = Wal::open(&path).unwrap();
    assert!(replay.base_seq >= acked.reset_base.max(1));
    assert!(
        replay.base_seq <= acked.last_seq + 1,
        "a reset dropped acknowledged records it had not covered"
    );
    for (i, record) in replay.records.iter().enumerate() {
        assert_eq!(record.seq, replay.base_seq + i as u64);
        assert_eq!(record.payload, payload(record.seq), "seq {}", record.seq);
    }
    let last = wal.last_seq();
    assert!(
        last >= acked.last_seq,
        "lost acknowledged records: {last} < {}",
        acked.last_seq
    );
    assert!(
        last <= acked.last_seq + MAX_BATCH,
        "more than one unacknowledged batch replayed: {last} vs {}",
        acked.last_seq
    );
    (last, replay.dropped_tail_bytes)
}

/// The child: appends batches until killed (or a generous bound).
fn writer(dir: &Path) {
    let path = dir.join("wal.log");
    let mut wal = if path.exists() {
        Wal::open(&path).unwrap().0
    } else {
        Wal::create(&path, 1).unwrap()
    };
    let mut rng = StdRng::seed_from_u64(wal.next_seq());
    let mut out = std::io::stdout().lock();
    for _ in 0..1_000_000 {
        let first = wal.next_seq();
        let batch: Vec<Vec<u8>> = (first..first + rng.gen_range(1..=MAX_BATCH))
            .map(payload)
            .collect();
        let seqs = wal.append_batch(&batch).unwrap();
        writeln!(out, "ACK {}", seqs.end - 1).unwrap();
        out.flush().unwrap();
        if wal.len_bytes() > RESET_AT_BYTES {
            wal.reset().unwrap();
            writeln!(out, "RESET {}", wal.base_seq()).unwrap();
            out.flush().unwrap();
        }
    }
}

/// The record for `seq`: its number, then up to ~3 KiB of a seq-dependent pattern, so batches
/// straddle pages and a mix-up between records would show.
fn payload(seq: u64) -> Vec<u8> {
    let mut bytes = seq.to_le_bytes().to_vec();
    let filler = (seq.wrapping_mul(7919) % 3000) as usize;
    bytes.extend((0..filler).map(|i| (seq as usize + i) as u8));
    bytes
}
