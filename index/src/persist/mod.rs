//! Durable storage under a collection: write-ahead log, atomic files, snapshot generations and
//! the manifest.
//!
//! A collection folder is laid out as:
//!
//! ```text
//! <collection>/
//!   wal.log                     write-ahead log (Wal), reset after each snapshot
//!   CURRENT                     names the live snapshot generation (SnapshotStore)
//!   snapshot-<generation>/
//!     manifest.json             Manifest, with last_seq: the log records it already holds
//!     ...                       vector graph, text index, document metadata
//! ```
//!
//! Writes: append the batch to the [`Wal`] (fsynced before it returns), then apply it in
//! memory, then acknowledge. Snapshot: [`SnapshotStore::stage`], write the files and a
//! [`Manifest`] whose `last_seq` is [`Wal::last_seq`], [`StagedSnapshot::commit`], then
//! [`Wal::reset`]. Open: load the current snapshot, [`Wal::open`], and apply
//! [`WalReplay::into_unapplied`]`(manifest.last_seq)`. The manifest lives inside the snapshot
//! folder so that `last_seq` and the data it describes switch in one atomic step.
//!
//! Each module's docs give its crash-safety argument.

mod atomic;
mod digest;
mod frame;
mod manifest;
mod snapshot;
mod wal;

pub use atomic::{
    remove_temp_files_for, remove_temp_files_in, sync_dir, write_atomic, TEMP_MARKER,
};
pub use digest::FileDigest;
pub(crate) use digest::{digest_file, verify_file, write_synced};
pub use frame::WalRecord;
pub use manifest::{Manifest, FORMAT_VERSION, MANIFEST_FILE, OLDEST_FORMAT_VERSION};
pub use snapshot::{Snapshot, SnapshotStore, StagedSnapshot, CURRENT_FILE};
pub use wal::{Wal, WalReplay};
