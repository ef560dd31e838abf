//! Snapshot folders switched atomically through generations and a `CURRENT` pointer file.
//!
//! Linux cannot `rename` a folder over a non-empty folder, so a snapshot is never replaced in
//! place. The root holds `snapshot-<generation>/` folders and a small [`CURRENT_FILE`] naming
//! the live one:
//!
//! ```text
//! root/
//!   CURRENT                         "snapshot-00000000000000000007\n"
//!   snapshot-00000000000000000007/  the live snapshot (manifest, graph, text index, ...)
//! ```
//!
//! # Why a crash leaves either the old or the new snapshot
//!
//! 1. [`SnapshotStore::stage`] creates a fresh `snapshot-<g+1>/` that nothing points to.
//! 2. The caller writes every file of the new snapshot into it.
//! 3. [`StagedSnapshot::commit`] fsyncs every file and folder under it and the root, then
//!    replaces `CURRENT` with [`write_atomic`]. That rename is the commit point: before it
//!    `CURRENT` names the old generation, after it the new one, and the new folder is complete
//!    on disk before `CURRENT` can name it.
//! 4. Only then are older generations deleted. A crash before that leaves them behind, and a
//!    crash before step 3 leaves a partial new one; [`SnapshotStore::open`] deletes every
//!    generation that `CURRENT` does not name, so neither is ever read.
//!
//! A staged snapshot dropped without [`commit`](StagedSnapshot::commit) removes its folder.

use std::path::{Path, PathBuf};

use crate::error::{IndexError, Result};
use crate::persist::atomic::{remove_temp_files_in, sync_dir, sync_tree, write_atomic};

/// The file in a snapshot root naming the live generation.
pub const CURRENT_FILE: &str = "CURRENT";

/// The start of every generation folder's name.
const GENERATION_PREFIX: &str = "snapshot-";

/// A folder of snapshot generations (usually the collection's folder).
#[derive(Debug, Clone)]
pub struct SnapshotStore {
    root: PathBuf,
}

/// A committed snapshot generation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    generation: u64,
    path: PathBuf,
}

impl Snapshot {
    /// Its generation number (1 for the first snapshot).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Its folder.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// A new generation being written; invisible to readers until committed.
#[derive(Debug)]
pub struct StagedSnapshot {
    root: PathBuf,
    snapshot: Snapshot,
    committed: bool,
}

impl SnapshotStore {
    /// Opens (creating if needed) a snapshot root, deleting what a crash left behind:
    /// temporary files and every generation that `CURRENT` does not name.
    ///
    /// # Errors
    /// IO failures, or [`IndexError::Corrupt`] when `CURRENT` is malformed or names a missing
    /// generation.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self> {
        let store = Self { root: root.into() };
        fs_err::create_dir_all(&store.root)?;
        remove_temp_files_in(&store.root)?;
        let current = store.current()?.map(|s| s.generation);
        let stale: Vec<u64> = store
            .generations()?
            .into_iter()
            .filter(|&g| Some(g) != current)
            .collect();
        store.remove_generations(&stale)?;
        Ok(store)
    }

    /// The root folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The live snapshot, or `None` before the first commit.
    ///
    /// # Errors
    /// IO failures, or [`IndexError::Corrupt`] when `CURRENT` is malformed or names a missing
    /// generation.
    pub fn current(&self) -> Result<Option<Snapshot>> {
        let pointer = self.root.join(CURRENT_FILE);
        let text = match fs_err::read_to_string(&pointer) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let corrupt = |reason: String| IndexError::Corrupt {
            path: pointer.clone(),
            offset: None,
            reason,
        };
        let name = text.trim_end_matches('\n');
        let generation = parse_generation(name)
            .ok_or_else(|| corrupt(format!("{name:?} is not a snapshot folder name")))?;
        let path = self.root.join(name);
        if !path.is_dir() {
            return Err(corrupt(format!("it names {name}, which is missing")));
        }
        Ok(Some(Snapshot { generation, path }))
    }

    /// Creates an empty folder for the next generation.
    ///
    /// # Errors
    /// IO failures, or a corrupt `CURRENT` (see [`current`](Self::current)).
    pub fn stage(&self) -> Result<StagedSnapshot> {
        let newest_current = self.current()?.map_or(0, |s| s.generation);
        let newest_folder = self.generations()?.into_iter().max().unwrap_or(0);
        let generation = newest_current.max(newest_folder) + 1;
        let path = self.root.join(generation_name(generation));
        fs_err::create_dir(&path)?;
        Ok(StagedSnapshot {
            root: self.root.clone(),
            snapshot: Snapshot { generation, path },
            committed: false,
        })
    }

    /// The generation numbers of the folders present, in no particular order.
    fn generations(&self) -> Result<Vec<u64>> {
        let mut found = Vec::new();
        for entry in fs_err::read_dir(&self.root)? {
            let entry = entry?;
            let generation = entry.file_name().to_str().and_then(parse_generation);
            if let Some(generation) = generation {
                if entry.file_type()?.is_dir() {
                    found.push(generation);
                }
            }
        }
        Ok(found)
    }

    /// Deletes the given generation folders.
    fn remove_generations(&self, generations: &[u64]) -> Result<()> {
        for &generation in generations {
            fs_err::remove_dir_all(self.root.join(generation_name(generation)))?;
        }
        if !generations.is_empty() {
            sync_dir(&self.root)?;
        }
        Ok(())
    }
}

impl StagedSnapshot {
    /// Its generation number.
    pub fn generation(&self) -> u64 {
        self.snapshot.generation
    }

    /// The folder to write the snapshot's files into.
    pub fn path(&self) -> &Path {
        &self.snapshot.path
    }

    /// Makes this generation durable and live, then deletes older generations.
    ///
    /// # Errors
    /// IO failures before or while switching `CURRENT` (the old generation then stays live,
    /// unless only the final folder fsync failed). Failures deleting older generations are
    /// ignored: [`SnapshotStore::open`] deletes them next time.
    pub fn commit(mut self) -> Result<Snapshot> {
        sync_tree(&self.snapshot.path)?;
        sync_dir(&self.root)?;
        let pointer = format!("{}\n", generation_name(self.snapshot.generation));
        write_atomic(&self.root.join(CURRENT_FILE), pointer.as_bytes())?;
        self.committed = true;
        let store = SnapshotStore {
            root: self.root.clone(),
        };
        if let Ok(all) = store.generations() {
            let older: Vec<u64> = all
                .into_iter()
                .filter(|&g| g < self.snapshot.generation)
                .collect();
            // Best effort, see the doc comment.
            let _ = store.remove_generations(&older);
        }
        Ok(self.snapshot.clone())
    }
}

impl Drop for StagedSnapshot {
    fn drop(&mut self) {
        if !self.committed {
            // Best effort: an uncommitted generation is never read, and `open` removes it.
            let _ = fs_err::remove_dir_all(&self.snapshot.path);
        }
    }
}

/// `snapshot-` and the zero-padded generation, so names sort by generation.
fn generation_name(generation: u64) -> String {
    format!("{GENERATION_PREFIX}{generation:020}")
}

/// The generation in a folder name made by [`generation_name`].
fn parse_generation(name: &str) -> Option<u64> {
    let digits = name.strip_prefix(GENERATION_PREFIX)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_snapshot(store: &SnapshotStore, content: &[u8]) -> Snapshot {
        let staged = store.stage().unwrap();
        fs_err::create_dir(staged.path().join("text")).unwrap();
        fs_err::write(staged.path().join("text/segment"), content).unwrap();
        staged.commit().unwrap()
    }

    fn folders(root: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs_err::read_dir(root)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn commit_switches_generation_and_removes_the_old_one() {
        let dir = tempfile::tempdir().unwrap();
        let store = SnapshotStore::open(dir.path()).unwrap();
        assert_eq!(store.current().unwrap(), None);
        let first = write_snapshot(&store, b"one");
        assert_eq!(first.generation(), 1);
        let second = write_snapshot(&store, b"two");
        assert_eq!(second.generation(), 2);
        assert_eq!(store.current().unwrap(), Some(second.clone()));
        assert_eq!(
            fs_err::read(second.path().join("text/segment")).unwrap(),
            b"two"
        );
        assert_eq!(
            folders(dir.path()),
            [CURRENT_FILE, "snapshot-00000000000000000002"]
        );
    }

    #[test]
    fn crash_before_commit_keeps_the_old_generation_and_open_cleans_up() {
        let dir = tempfile::tempdir().unwrap();
        let store = SnapshotStore::open(dir.path()).unwrap();
        let live = write_snapshot(&store, b"live");
        // A crash while writing generation 2: its folder stays, CURRENT still names 1.
        let staged = store.stage().unwrap();
        fs_err::write(staged.path().join("partial"), b"x").unwrap();
        std::mem::forget(staged);
        // And a crash inside write_atomic of CURRENT.
        fs_err::write(dir.path().join(".CURRENT.pairwise-tmp-9-9"), b"junk").unwrap();

        let reopened = SnapshotStore::open(dir.path()).unwrap();
        assert_eq!(reopened.current().unwrap(), Some(live));
        assert_eq!(
            folders(dir.path()),
            [CURRENT_FILE, "snapshot-00000000000000000001"]
        );
        assert_eq!(write_snapshot(&reopened, b"next").generation(), 2);
    }

    #[test]
    fn dropped_stage_removes_its_folder() {
        let dir = tempfile::tempdir().unwrap();
        let store = SnapshotStore::open(dir.path()).unwrap();
        let path = {
            let staged = store.stage().unwrap();
            staged.path().to_path_buf()
        };
        assert!(!path.exists());
        assert_eq!(store.current().unwrap(), None);
    }

    #[test]
    fn malformed_or_dangling_current_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let pointer = dir.path().join(CURRENT_FILE);
        fs_err::write(&pointer, "garbage\n").unwrap();
        let err = SnapshotStore::open(dir.path()).unwrap_err();
        assert!(matches!(&err, IndexError::Corrupt { path, .. } if *path == pointer));
        assert!(
            err.to_string().contains("not a snapshot folder name"),
            "{err}"
        );

        fs_err::write(&pointer, "snapshot-00000000000000000004\n").unwrap();
        let err = SnapshotStore::open(dir.path()).unwrap_err();
        assert!(err.to_string().contains("missing"), "{err}");
    }

    #[test]
    fn generation_names_round_trip() {
        assert_eq!(parse_generation(&generation_name(42)), Some(42));
        assert_eq!(parse_generation("snapshot-"), None);
        assert_eq!(parse_generation("snapshot-+1"), None);
        assert_eq!(parse_generation("other-1"), None);
    }
}
