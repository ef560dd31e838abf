//! An append-only write-ahead log of opaque byte records with group commit.
//!
//! Every record gets a sequence number, consecutive and never reused, even across
//! [`Wal::reset`] (the new file's header carries the next number). A snapshot stores the last
//! sequence number it covers ([`Manifest::last_seq`](crate::persist::Manifest::last_seq)), and
//! [`WalReplay::into_unapplied`] skips records at or below it. That makes the crash window
//! between committing a snapshot and resetting the log harmless: the old log's records are
//! replayed again and skipped.
//!
//! The byte format and the torn-tail rule are described in the `frame` module: a damaged final
//! batch is dropped and reported in [`WalReplay::dropped_tail_bytes`]; a damaged batch followed
//! by a valid one is [`IndexError::Corrupt`]. A final batch damaged after it was written (bit
//! rot) cannot be told from a torn write and is dropped too, so callers should log a non-zero
//! `dropped_tail_bytes`.
//!
//! Opening reads the whole file into memory; keep logs bounded by snapshotting and resetting
//! (see [`Wal::len_bytes`]).

use std::io::{Read, Seek, SeekFrom, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::error::{IndexError, Result};
use crate::persist::atomic::{remove_temp_files_for, write_atomic};
use crate::persist::frame::{encode_file_header, encode_frame, parse_log, WalRecord};

/// An open write-ahead log. One writer per file: nothing stops a second process from opening
/// the same log, so the owner (the collection) must make sure it is alone.
#[derive(Debug)]
pub struct Wal {
    path: PathBuf,
    file: fs_err::File,
    /// Bytes of valid log, where the next frame goes.
    len_bytes: u64,
    base_seq: u64,
    next_seq: u64,
    /// Set when a write or fsync failed: the file's state is unknown until it is reopened.
    poisoned: bool,
}

/// What opening a log found.
#[derive(Debug)]
pub struct WalReplay {
    path: PathBuf,
    /// The sequence number of the first record the file holds (or will hold).
    pub base_seq: u64,
    /// Every valid record, in order, numbered consecutively from `base_seq`.
    pub records: Vec<WalRecord>,
    /// Bytes of a torn final batch that were dropped (the file was truncated); worth a warning.
    pub dropped_tail_bytes: u64,
}

impl WalReplay {
    /// The sequence number the next appended record gets.
    pub fn next_seq(&self) -> u64 {
        self.base_seq + self.records.len() as u64
    }

    /// The records a snapshot covering sequence numbers up to `last_applied_seq` (0: none)
    /// still needs.
    ///
    /// # Errors
    /// [`IndexError::Corrupt`] when log and snapshot do not fit together: the log starts after
    /// `last_applied_seq + 1` (records are missing), or ends before `last_applied_seq` (the log
    /// is older than the snapshot, and new records would be numbered as already applied).
    pub fn into_unapplied(self, last_applied_seq: u64) -> Result<Vec<WalRecord>> {
        let wanted = last_applied_seq.saturating_add(1);
        let mismatch = if self.base_seq > wanted {
            Some(format!(
                "the log starts at sequence {} but the snapshot covers only up to \
                 {last_applied_seq}: records are missing",
                self.base_seq
            ))
        } else if self.next_seq() < wanted {
            Some(format!(
                "the log ends at sequence {} but the snapshot covers up to {last_applied_seq}",
                self.next_seq() - 1
            ))
        } else {
            None
        };
        if let Some(reason) = mismatch {
            return Err(IndexError::Corrupt {
                path: self.path,
                offset: None,
                reason,
            });
        }
        let mut records = self.records;
        records.retain(|r| r.seq > last_applied_seq);
        Ok(records)
    }
}

impl Wal {
    /// Creates an empty log whose first record will be `base_seq` (at least 1; a new
    /// collection uses 1, or its snapshot's `last_seq + 1`).
    ///
    /// The file appears atomically with its header, so a log file is never headerless.
    ///
    /// # Errors
    /// [`IndexError::InvalidParameter`] for `base_seq` 0; an IO error of kind `AlreadyExists`
    /// when `path` exists; other IO failures.
    pub fn create(path: impl AsRef<Path>, base_seq: u64) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        if base_seq == 0 {
            return Err(IndexError::InvalidParameter(
                "the first sequence number must be at least 1".to_owned(),
            ));
        }
        if path.try_exists()? {
            return Err(IndexError::Io(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                format!("write-ahead log {} already exists", path.display()),
            )));
        }
        remove_temp_files_for(&path)?;
        write_atomic(&path, &encode_file_header(base_seq))?;
        Self::open_empty(path, base_seq)
    }

    /// Opens a log and replays it. A torn final batch (a crash during its write) is dropped,
    /// the file truncated to the last whole batch, and the dropped bytes reported.
    /// Temporary files from a crashed [`reset`](Self::reset) are removed.
    ///
    /// # Errors
    /// IO failures (a missing file included); [`IndexError::Corrupt`] for a bad header or a
    /// damaged batch followed by a valid one; [`IndexError::UnsupportedVersion`].
    pub fn open(path: impl AsRef<Path>) -> Result<(Self, WalReplay)> {
        let path = path.as_ref().to_path_buf();
        remove_temp_files_for(&path)?;
        let mut file = fs_err::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        let parsed = parse_log(&bytes, &path)?;
        let valid_len = parsed.valid_len as u64;
        let dropped_tail_bytes = bytes.len() as u64 - valid_len;
        if dropped_tail_bytes > 0 {
            file.set_len(valid_len)?;
            file.sync_all()?;
        }
        let replay = WalReplay {
            path: path.clone(),
            base_seq: parsed.base_seq,
            records: parsed.records,
            dropped_tail_bytes,
        };
        let wal = Self {
            path,
            file,
            len_bytes: valid_len,
            base_seq: replay.base_seq,
            next_seq: replay.next_seq(),
            poisoned: false,
        };
        Ok((wal, replay))
    }

    /// Appends one record and fsyncs; returns its sequence number.
    ///
    /// # Errors
    /// As [`append_batch`](Self::append_batch).
    pub fn append(&mut self, payload: &[u8]) -> Result<u64> {
        Ok(self.append_batch(&[payload])?.start)
    }

    /// Appends records as one batch and fsyncs once (group commit); returns their sequence
    /// numbers. When this returns `Ok` the batch is durable; after a crash it is replayed
    /// whole or, if this never returned, possibly not at all, never in part.
    ///
    /// An empty batch writes nothing.
    ///
    /// # Errors
    /// [`IndexError::TooLarge`] for a record over 64 MiB or a batch over 256 MiB (nothing is
    /// written); [`IndexError::WalPoisoned`] after an earlier failure; IO failures, which poison
    /// the log.
    pub fn append_batch<P: AsRef<[u8]>>(&mut self, payloads: &[P]) -> Result<Range<u64>> {
        self.check_poisoned()?;
        let first = self.next_seq;
        if payloads.is_empty() {
            return Ok(first..first);
        }
        let frame = encode_frame(first, payloads)?;
        if let Err(e) = self.write_and_sync(&frame) {
            self.poisoned = true;
            return Err(e);
        }
        self.len_bytes += frame.len() as u64;
        self.next_seq += payloads.len() as u64;
        Ok(first..self.next_seq)
    }

    /// Empties the log after a snapshot, keeping the sequence numbering: the next record still
    /// gets [`next_seq`](Self::next_seq). The empty log replaces the old one atomically, so a
    /// crash leaves either the old records (which the snapshot's `last_seq` then skips) or none.
    ///
    /// # Errors
    /// [`IndexError::WalPoisoned`] after an earlier failure; IO failures, which poison the log.
    pub fn reset(&mut self) -> Result<()> {
        self.check_poisoned()?;
        let header = encode_file_header(self.next_seq);
        let reopened = write_atomic(&self.path, &header)
            .and_then(|()| Self::open_empty(self.path.clone(), self.next_seq));
        match reopened {
            Ok(fresh) => {
                *self = fresh;
                Ok(())
            }
            Err(e) => {
                self.poisoned = true;
                Err(e)
            }
        }
    }

    /// The log file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The sequence number of the first record in the file (or of the next one, when empty).
    pub fn base_seq(&self) -> u64 {
        self.base_seq
    }

    /// The sequence number the next appended record gets.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// The last sequence number handed out (0 when none ever was): what a snapshot taken now
    /// stores as its `last_seq`.
    pub fn last_seq(&self) -> u64 {
        self.next_seq - 1
    }

    /// The file's size in bytes, a cue for when to snapshot and reset.
    pub fn len_bytes(&self) -> u64 {
        self.len_bytes
    }

    /// Opens a log just written with header `base_seq` and no records.
    fn open_empty(path: PathBuf, base_seq: u64) -> Result<Self> {
        let file = fs_err::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)?;
        let len_bytes = file.metadata()?.len();
        Ok(Self {
            path,
            file,
            len_bytes,
            base_seq,
            next_seq: base_seq,
            poisoned: false,
        })
    }

    fn write_and_sync(&mut self, frame: &[u8]) -> Result<()> {
        self.file.seek(SeekFrom::Start(self.len_bytes))?;
        self.file.write_all(frame)?;
        self.file.sync_data()?;
        Ok(())
    }

    fn check_poisoned(&self) -> Result<()> {
        if self.poisoned {
            return Err(IndexError::WalPoisoned {
                path: self.path.clone(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::persist::frame::MAX_RECORD_BYTES;

    /// A log at `dir/wal.log` holding batches of the given sizes; returns the path and the
    /// file size after each batch.
    fn log_with_batches(dir: &Path, sizes: &[usize]) -> (PathBuf, Vec<u64>) {
        let path = dir.join("wal.log");
        let mut wal = Wal::create(&path, 1).unwrap();
        let mut ends = Vec::new();
        let mut seq = 1;
        for &size in sizes {
            let batch: Vec<Vec<u8>> = (seq..seq + size as u64).map(payload).collect();
            assert_eq!(wal.append_batch(&batch).unwrap(), seq..seq + size as u64);
            seq += size as u64;
            ends.push(wal.len_bytes());
        }
        (path, ends)
    }

    fn payload(seq: u64) -> Vec<u8> {
        format!("document {seq}: {}", "x".repeat(seq as usize % 7)).into_bytes()
    }

    fn seqs(records: &[WalRecord]) -> Vec<u64> {
        records.iter().map(|r| r.seq).collect()
    }

    fn assert_payloads_intact(records: &[WalRecord]) {
        for record in records {
            assert_eq!(record.payload, payload(record.seq), "seq {}", record.seq);
        }
    }

    #[test]
    fn replay_round_trip_and_append_after_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let (path, _) = log_with_batches(dir.path(), &[3, 1, 2]);
        let (mut wal, replay) = Wal::open(&path).unwrap();
        assert_eq!(replay.dropped_tail_bytes, 0);
        assert_eq!(seqs(&replay.records), [1, 2, 3, 4, 5, 6]);
        assert_payloads_intact(&replay.records);
        assert_eq!((wal.base_seq(), wal.next_seq(), wal.last_seq()), (1, 7, 6));

        assert_eq!(wal.append(&payload(7)).unwrap(), 7);
        assert_eq!(wal.append_batch::<&[u8]>(&[]).unwrap(), 8..8);
        drop(wal);
        let (_, replay) = Wal::open(&path).unwrap();
        assert_eq!(seqs(&replay.records), [1, 2, 3, 4, 5, 6, 7]);
        assert_payloads_intact(&replay.records);
    }

    #[test]
    fn torn_final_batch_is_dropped_at_every_length() {
        let dir = tempfile::tempdir().unwrap();
        let (path, ends) = log_with_batches(dir.path(), &[2, 1, 3]);
        let full = fs_err::read(&path).unwrap();
        let (kept, whole) = (ends[1], ends[2]);
        for len in kept..whole {
            fs_err::write(&path, &full[..len as usize]).unwrap();
            let (mut wal, replay) = Wal::open(&path).unwrap();
            assert_eq!(seqs(&replay.records), [1, 2, 3], "cut at {len}");
            assert_payloads_intact(&replay.records);
            assert_eq!(replay.dropped_tail_bytes, len - kept);
            assert_eq!(fs_err::metadata(&path).unwrap().len(), kept);
            // The log goes on from the last whole batch.
            assert_eq!(wal.append(&payload(4)).unwrap(), 4);
            drop(wal);
            assert_eq!(seqs(&Wal::open(&path).unwrap().1.records), [1, 2, 3, 4]);
        }
    }

    #[test]
    fn zero_filled_tail_is_dropped() {
        // Some file systems grow the file before its data reaches the disk.
        let dir = tempfile::tempdir().unwrap();
        let (path, ends) = log_with_batches(dir.path(), &[2, 2]);
        let mut bytes = fs_err::read(&path).unwrap();
        bytes.extend(std::iter::repeat_n(0u8, 4096));
        fs_err::write(&path, &bytes).unwrap();
        let (_, replay) = Wal::open(&path).unwrap();
        assert_eq!(seqs(&replay.records), [1, 2, 3, 4]);
        assert_eq!(replay.dropped_tail_bytes, 4096);
        assert_eq!(fs_err::metadata(&path).unwrap().len(), ends[1]);
    }

    #[test]
    fn damaged_middle_batch_is_corruption_at_its_offset() {
        let dir = tempfile::tempdir().unwrap();
        let (path, ends) = log_with_batches(dir.path(), &[1, 2, 1]);
        let clean = fs_err::read(&path).unwrap();
        for at in ends[0]..ends[1] {
            let mut bytes = clean.clone();
            bytes[at as usize] ^= 0x20;
            fs_err::write(&path, &bytes).unwrap();
            let result = Wal::open(&path);
            assert!(
                matches!(result, Err(IndexError::Corrupt { offset, .. }) if offset == Some(ends[0])),
                "flip at {at}: {result:?}"
            );
            assert_eq!(
                fs_err::read(&path).unwrap(),
                bytes,
                "a corrupt log is not modified"
            );
        }
    }

    #[test]
    fn damaged_final_batch_is_dropped_never_misread() {
        let dir = tempfile::tempdir().unwrap();
        let (path, ends) = log_with_batches(dir.path(), &[1, 3]);
        let clean = fs_err::read(&path).unwrap();
        for at in ends[0]..ends[1] {
            let mut bytes = clean.clone();
            bytes[at as usize] ^= 0x01;
            fs_err::write(&path, &bytes).unwrap();
            let (_, replay) = Wal::open(&path).unwrap();
            assert_eq!(seqs(&replay.records), [1], "flip at {at}");
            assert_payloads_intact(&replay.records);
        }
    }

    #[test]
    fn bad_file_headers_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let (path, _) = log_with_batches(dir.path(), &[1]);
        let clean = fs_err::read(&path).unwrap();
        let cases: [(&[u8], &str); 3] = [
            (&[], "empty"),
            (&clean[..10], "shorter than the header"),
            (b"PK\x03\x04 definitely not a log file", "magic"),
        ];
        for (bytes, expected) in cases {
            fs_err::write(&path, bytes).unwrap();
            let err = Wal::open(&path).unwrap_err();
            let message = err.to_string();
            assert!(matches!(err, IndexError::Corrupt { .. }), "{message}");
            assert!(
                message.contains(expected) && message.contains("wal.log"),
                "{message}"
            );
        }
        let mut newer = clean.clone();
        newer[8] = 2;
        fs_err::write(&path, &newer).unwrap();
        assert!(matches!(
            Wal::open(&path),
            Err(IndexError::UnsupportedVersion { found: 2, .. })
        ));
        let mut flipped = clean;
        flipped[17] ^= 1;
        fs_err::write(&path, &flipped).unwrap();
        let err = Wal::open(&path).unwrap_err();
        assert!(err.to_string().contains("checksum"), "{err}");
    }

    #[test]
    fn oversized_record_is_rejected_and_nothing_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let (path, ends) = log_with_batches(dir.path(), &[1]);
        let (mut wal, _) = Wal::open(&path).unwrap();
        let big = vec![7u8; MAX_RECORD_BYTES + 1];
        let err = wal.append_batch(&[&b"small"[..], &big]).unwrap_err();
        assert!(
            matches!(err, IndexError::TooLarge { what: "record", .. }),
            "{err}"
        );
        assert_eq!(fs_err::metadata(&path).unwrap().len(), ends[0]);
        assert_eq!(wal.append(b"after").unwrap(), 2);
    }

    #[test]
    fn reset_keeps_numbering_and_replay_skips_applied_records() {
        let dir = tempfile::tempdir().unwrap();
        let (path, _) = log_with_batches(dir.path(), &[2, 3]);
        let (mut wal, replay) = Wal::open(&path).unwrap();
        // A snapshot covering seq 1..=5 was committed, then the process died before reset:
        // replaying the old log is harmless.
        assert!(replay.into_unapplied(5).unwrap().is_empty());
        let (_, replay) = Wal::open(&path).unwrap();
        assert_eq!(seqs(&replay.into_unapplied(3).unwrap()), [4, 5]);

        wal.reset().unwrap();
        assert_eq!((wal.base_seq(), wal.next_seq(), wal.last_seq()), (6, 6, 5));
        assert_eq!(wal.append(b"six").unwrap(), 6);
        drop(wal);
        let (wal, replay) = Wal::open(&path).unwrap();
        assert_eq!(replay.base_seq, 6);
        assert_eq!(seqs(&replay.records), [6]);
        assert_eq!(wal.next_seq(), 7);
        assert_eq!(seqs(&replay.into_unapplied(5).unwrap()), [6]);
    }

    #[test]
    fn log_that_does_not_fit_the_snapshot_is_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let (path, _) = log_with_batches(dir.path(), &[2]);
        let (mut wal, _) = Wal::open(&path).unwrap();
        wal.reset().unwrap();
        // The log now starts at 3: a snapshot covering only 1 lacks record 2.
        let err = Wal::open(&path).unwrap().1.into_unapplied(1).unwrap_err();
        assert!(err.to_string().contains("missing"), "{err}");
        // A snapshot ahead of the log: new records would be numbered as already applied.
        let err = Wal::open(&path).unwrap().1.into_unapplied(9).unwrap_err();
        assert!(err.to_string().contains("ends at sequence 2"), "{err}");
    }

    #[test]
    fn create_refuses_an_existing_log_and_a_zero_base() {
        let dir = tempfile::tempdir().unwrap();
        let (path, _) = log_with_batches(dir.path(), &[1]);
        let err = Wal::create(&path, 1).unwrap_err();
        assert!(matches!(&err, IndexError::Io(e) if e.kind() == std::io::ErrorKind::AlreadyExists));
        assert_eq!(Wal::open(&path).unwrap().1.records.len(), 1);
        let other = dir.path().join("other.log");
        assert!(matches!(
            Wal::create(&other, 0),
            Err(IndexError::InvalidParameter(_))
        ));
        let wal = Wal::create(&other, 41).unwrap();
        assert_eq!((wal.next_seq(), wal.last_seq()), (41, 40));
    }

    #[test]
    fn temp_file_from_a_crashed_reset_is_removed_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let (path, _) = log_with_batches(dir.path(), &[2]);
        let temp = dir.path().join(".wal.log.pairwise-tmp-77-0");
        fs_err::write(&temp, encode_file_header(3)).unwrap();
        let (_, replay) = Wal::open(&path).unwrap();
        assert_eq!(seqs(&replay.records), [1, 2]);
        assert!(!temp.exists());
    }
}
