//! On-disk helpers shared by the indexes: atomic replacement and checksummed files.

mod file;

pub(crate) use file::{digest_file, verify_file, write_atomic, write_synced, FileDigest};
