//! The write-ahead log's bytes: a file header, then one checksummed frame per appended batch.
//!
//! ```text
//! file header (28 bytes)
//!   magic        [u8; 8]  b"PWISEWAL"
//!   version      u32 LE   WAL_FORMAT_VERSION
//!   flags        u32 LE   0
//!   base_seq     u64 LE   sequence number of the first record this file holds or will hold
//!   crc          u32 LE   CRC-32 of the 24 bytes above
//! frame, one per batch (24-byte header + payload)
//!   payload_len  u32 LE
//!   count        u32 LE   records in the batch, at least 1
//!   first_seq    u64 LE   the first record's sequence number; the rest follow by 1
//!   payload_crc  u32 LE   CRC-32 of the payload
//!   header_crc   u32 LE   CRC-32 of the 20 bytes above
//!   payload      count × (record_len u32 LE, record bytes)
//! ```
//!
//! A batch is one frame with one checksum, so a batch is replayed whole or not at all. This is
//! also what makes torn tails decidable: the log only grows by one frame per fsync, so a torn
//! write can only damage the **last** frame. A damaged frame followed by any valid frame header
//! therefore had been acknowledged, and is reported as [`IndexError::Corrupt`]; a damaged frame
//! with nothing valid after it is a torn tail and is dropped. (With one checksum per record, a
//! group commit torn by the page cache writing pages out of order could leave a damaged record
//! followed by a valid unacknowledged one, which looks exactly like corruption.) The separate
//! header checksum lets the scan for later frames trust `payload_len` and `first_seq`.

use std::path::Path;

use crate::error::{IndexError, Result};

/// The first bytes of every log file.
const MAGIC: [u8; 8] = *b"PWISEWAL";

/// The log format version this build reads and writes.
pub(crate) const WAL_FORMAT_VERSION: u32 = 1;

/// Bytes in the file header.
pub(crate) const FILE_HEADER_LEN: usize = 28;

/// Bytes in a frame header.
const FRAME_HEADER_LEN: usize = 24;

/// The largest record.
pub(crate) const MAX_RECORD_BYTES: usize = 64 << 20;

/// The largest batch payload (records and their length prefixes).
pub(crate) const MAX_BATCH_BYTES: usize = 256 << 20;

/// One replayed record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalRecord {
    /// Its sequence number: consecutive, starting at the log's base sequence number.
    pub seq: u64,
    /// The bytes that were appended.
    pub payload: Vec<u8>,
}

/// The valid part of a log file.
#[derive(Debug)]
pub(crate) struct ParsedLog {
    /// The file header's base sequence number.
    pub(crate) base_seq: u64,
    /// Every record of every valid frame, in order.
    pub(crate) records: Vec<WalRecord>,
    /// Bytes up to the end of the last valid frame; the rest is a torn tail.
    pub(crate) valid_len: usize,
}

/// The file header for a log whose first record will be `base_seq`.
pub(crate) fn encode_file_header(base_seq: u64) -> [u8; FILE_HEADER_LEN] {
    let mut header = [0u8; FILE_HEADER_LEN];
    header[..8].copy_from_slice(&MAGIC);
    header[8..12].copy_from_slice(&WAL_FORMAT_VERSION.to_le_bytes());
    header[16..24].copy_from_slice(&base_seq.to_le_bytes());
    let crc = crc32fast::hash(&header[..24]);
    header[24..].copy_from_slice(&crc.to_le_bytes());
    header
}

/// One frame holding `records`, numbered from `first_seq`.
///
/// # Errors
/// [`IndexError::TooLarge`] for a record over [`MAX_RECORD_BYTES`] or a batch over
/// [`MAX_BATCH_BYTES`].
pub(crate) fn encode_frame<P: AsRef<[u8]>>(first_seq: u64, records: &[P]) -> Result<Vec<u8>> {
    let mut payload_len = 0usize;
    for record in records {
        let len = record.as_ref().len();
        if len > MAX_RECORD_BYTES {
            return Err(too_large("record", len, MAX_RECORD_BYTES));
        }
        payload_len += 4 + len;
    }
    if payload_len > MAX_BATCH_BYTES {
        return Err(too_large("batch", payload_len, MAX_BATCH_BYTES));
    }
    let mut frame = vec![0u8; FRAME_HEADER_LEN];
    frame.reserve(payload_len);
    for record in records {
        let record = record.as_ref();
        frame.extend_from_slice(&to_u32(record.len()).to_le_bytes());
        frame.extend_from_slice(record);
    }
    frame[..4].copy_from_slice(&to_u32(payload_len).to_le_bytes());
    frame[4..8].copy_from_slice(&to_u32(records.len()).to_le_bytes());
    frame[8..16].copy_from_slice(&first_seq.to_le_bytes());
    let payload_crc = crc32fast::hash(&frame[FRAME_HEADER_LEN..]);
    frame[16..20].copy_from_slice(&payload_crc.to_le_bytes());
    let header_crc = crc32fast::hash(&frame[..20]);
    frame[20..24].copy_from_slice(&header_crc.to_le_bytes());
    Ok(frame)
}

/// Parses a whole log file, separating the valid frames from a torn tail.
///
/// # Errors
/// [`IndexError::Corrupt`] for a bad file header, a damaged frame followed by a valid one, or a
/// checksummed frame whose content is inconsistent; [`IndexError::UnsupportedVersion`] for a
/// newer log.
pub(crate) fn parse_log(bytes: &[u8], path: &Path) -> Result<ParsedLog> {
    let base_seq = decode_file_header(bytes, path)?;
    let mut parsed = ParsedLog {
        base_seq,
        records: Vec::new(),
        valid_len: FILE_HEADER_LEN,
    };
    let mut next_seq = base_seq;
    while parsed.valid_len < bytes.len() {
        let offset = parsed.valid_len;
        match check_frame(&bytes[offset..]) {
            Ok(frame) => {
                if frame.first_seq != next_seq {
                    let reason = format!(
                        "frame starts at sequence {}, expected {next_seq}",
                        frame.first_seq
                    );
                    return Err(corrupt(path, offset, reason));
                }
                decode_records(frame, &mut parsed.records)
                    .map_err(|reason| corrupt(path, offset, reason))?;
                next_seq += u64::from(frame.count);
                parsed.valid_len = offset + frame.len;
            }
            Err(reason) => {
                if let Some(later) = find_frame_header(bytes, offset + 1, next_seq) {
                    let reason = format!("{reason}, but a valid frame follows at byte {later}");
                    return Err(corrupt(path, offset, reason));
                }
                break;
            }
        }
    }
    Ok(parsed)
}

/// A frame whose header and payload checksums hold.
#[derive(Debug, Clone, Copy)]
struct CheckedFrame<'a> {
    count: u32,
    first_seq: u64,
    payload: &'a [u8],
    /// Header and payload bytes.
    len: usize,
}

/// Checks the base sequence number out of a file header.
fn decode_file_header(bytes: &[u8], path: &Path) -> Result<u64> {
    let corrupt_header = |reason: &str| corrupt(path, 0, format!("bad log file header: {reason}"));
    if bytes.is_empty() {
        return Err(corrupt_header("the file is empty"));
    }
    let Some(header) = bytes.get(..FILE_HEADER_LEN) else {
        return Err(corrupt_header("the file is shorter than the header"));
    };
    if header[..8] != MAGIC {
        return Err(corrupt_header(
            "not a pairwise write-ahead log (wrong magic bytes)",
        ));
    }
    let version = read_u32(header, 8);
    if version != WAL_FORMAT_VERSION {
        return Err(IndexError::UnsupportedVersion {
            path: path.to_path_buf(),
            found: version,
            supported: WAL_FORMAT_VERSION,
        });
    }
    if crc32fast::hash(&header[..24]) != read_u32(header, 24) {
        return Err(corrupt_header("checksum mismatch"));
    }
    let base_seq = read_u64(header, 16);
    if base_seq == 0 {
        return Err(corrupt_header("base sequence number is 0"));
    }
    Ok(base_seq)
}

/// Checks the frame at the start of `rest`; the error says why it is not a whole valid frame.
fn check_frame(rest: &[u8]) -> Result<CheckedFrame<'_>, String> {
    let Some(header) = rest.get(..FRAME_HEADER_LEN) else {
        return Err(format!("incomplete frame header ({} bytes)", rest.len()));
    };
    if !header_is_valid(header) {
        return Err("invalid frame header (checksum mismatch or impossible fields)".to_owned());
    }
    let payload_len = read_u32(header, 0) as usize;
    let len = FRAME_HEADER_LEN + payload_len;
    let Some(payload) = rest.get(FRAME_HEADER_LEN..len) else {
        return Err(format!("incomplete frame ({} of {len} bytes)", rest.len()));
    };
    if crc32fast::hash(payload) != read_u32(header, 16) {
        return Err("frame payload checksum mismatch".to_owned());
    }
    Ok(CheckedFrame {
        count: read_u32(header, 4),
        first_seq: read_u64(header, 8),
        payload,
        len,
    })
}

/// Whether 24 bytes hold a frame header with a matching checksum and plausible fields.
fn header_is_valid(header: &[u8]) -> bool {
    read_u32(header, 4) >= 1
        && read_u32(header, 0) as usize <= MAX_BATCH_BYTES
        && crc32fast::hash(&header[..20]) == read_u32(header, 20)
}

/// The offset of the first valid frame header at or after `from` numbered at least `min_seq`.
///
/// Only runs on the recovery path, over the bytes after a damaged frame: for a torn tail that is
/// at most one batch; for real corruption the next frame header is found right away.
fn find_frame_header(bytes: &[u8], from: usize, min_seq: u64) -> Option<usize> {
    let last = bytes.len().checked_sub(FRAME_HEADER_LEN)?;
    (from..=last).find(|&offset| {
        let header = &bytes[offset..offset + FRAME_HEADER_LEN];
        read_u64(header, 8) >= min_seq && header_is_valid(header)
    })
}

/// Splits a checked frame's payload into records.
fn decode_records(frame: CheckedFrame<'_>, out: &mut Vec<WalRecord>) -> Result<(), String> {
    let mut rest = frame.payload;
    for i in 0..u64::from(frame.count) {
        let Some(prefix) = rest.get(..4) else {
            return Err(format!("record {i} of the frame has no length"));
        };
        let len = read_u32(prefix, 0) as usize;
        let Some(payload) = rest.get(4..4 + len) else {
            return Err(format!("record {i} of the frame overruns it"));
        };
        out.push(WalRecord {
            seq: frame.first_seq + i,
            payload: payload.to_vec(),
        });
        rest = &rest[4 + len..];
    }
    if !rest.is_empty() {
        return Err(format!(
            "{} stray bytes after the frame's records",
            rest.len()
        ));
    }
    Ok(())
}

/// The little-endian `u32` at `offset` (the caller checked the length).
fn read_u32(bytes: &[u8], offset: usize) -> u32 {
    let mut word = [0u8; 4];
    word.copy_from_slice(&bytes[offset..offset + 4]);
    u32::from_le_bytes(word)
}

/// The little-endian `u64` at `offset` (the caller checked the length).
fn read_u64(bytes: &[u8], offset: usize) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&bytes[offset..offset + 8]);
    u64::from_le_bytes(word)
}

/// A length already checked against the limits, which are far below `u32::MAX`.
fn to_u32(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX)
}

fn too_large(what: &'static str, bytes: usize, max: usize) -> IndexError {
    IndexError::TooLarge {
        what,
        bytes: bytes as u64,
        max: max as u64,
    }
}

fn corrupt(path: &Path, offset: usize, reason: String) -> IndexError {
    IndexError::Corrupt {
        path: path.to_path_buf(),
        offset: Some(offset as u64),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// A log of `batches` and the byte offset where each batch ends.
    fn log_bytes(batches: &[Vec<Vec<u8>>]) -> (Vec<u8>, Vec<usize>) {
        let mut bytes = encode_file_header(1).to_vec();
        let (mut ends, mut seq) = (Vec::new(), 1);
        for batch in batches {
            bytes.extend(encode_frame(seq, batch).unwrap());
            seq += batch.len() as u64;
            ends.push(bytes.len());
        }
        (bytes, ends)
    }

    /// The records of the first `n` batches.
    fn records_of(batches: &[Vec<Vec<u8>>], n: usize) -> Vec<WalRecord> {
        let payloads = batches[..n].iter().flatten().cloned();
        (1..)
            .zip(payloads)
            .map(|(seq, payload)| WalRecord { seq, payload })
            .collect()
    }

    fn batches() -> impl Strategy<Value = Vec<Vec<Vec<u8>>>> {
        let record = prop::collection::vec(any::<u8>(), 0..40);
        prop::collection::vec(prop::collection::vec(record, 1..4), 1..6)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn truncation_keeps_exactly_the_whole_batches(batches in batches(), cut in any::<prop::sample::Index>()) {
            let (bytes, ends) = log_bytes(&batches);
            let len = FILE_HEADER_LEN + cut.index(bytes.len() - FILE_HEADER_LEN + 1);
            let parsed = parse_log(&bytes[..len], Path::new("wal.log")).unwrap();
            let whole = ends.iter().filter(|&&end| end <= len).count();
            prop_assert_eq!(parsed.records, records_of(&batches, whole));
            prop_assert_eq!(parsed.valid_len, if whole == 0 { FILE_HEADER_LEN } else { ends[whole - 1] });
        }

        #[test]
        fn a_flipped_bit_is_corruption_or_drops_only_the_last_batch(
            batches in batches(), at in any::<prop::sample::Index>(), bit in 0u8..8,
        ) {
            let (mut bytes, ends) = log_bytes(&batches);
            let at = FILE_HEADER_LEN + at.index(bytes.len() - FILE_HEADER_LEN);
            bytes[at] ^= 1 << bit;
            let last_start = if ends.len() > 1 { ends[ends.len() - 2] } else { FILE_HEADER_LEN };
            match parse_log(&bytes, Path::new("wal.log")) {
                Ok(parsed) => {
                    prop_assert!(at >= last_start, "flip at {} before the last batch", at);
                    prop_assert_eq!(parsed.records, records_of(&batches, batches.len() - 1));
                }
                Err(IndexError::Corrupt { offset, .. }) => {
                    prop_assert!(at < last_start);
                    prop_assert!(offset.is_some_and(|o| o as usize <= at));
                }
                Err(other) => prop_assert!(false, "unexpected error {}", other),
            }
        }
    }

    #[test]
    fn oversized_batch_is_rejected() {
        let record = vec![0u8; MAX_RECORD_BYTES];
        let records = [&record[..]; 4];
        let err = encode_frame(1, &records).unwrap_err();
        assert!(
            matches!(err, IndexError::TooLarge { what: "batch", .. }),
            "{err}"
        );
    }

    #[test]
    fn frame_with_wrong_sequence_is_corruption() {
        let mut bytes = encode_file_header(1).to_vec();
        bytes.extend(encode_frame(1, &[b"a"]).unwrap());
        bytes.extend(encode_frame(3, &[b"c"]).unwrap());
        let err = parse_log(&bytes, Path::new("wal.log")).unwrap_err();
        assert!(err.to_string().contains("expected 2"), "{err}");
    }
}
