//! Crash-safe file replacement: write a temporary sibling, fsync it, rename it over the target,
//! fsync the folder.
//!
//! # Why a crash leaves either the old or the new content
//!
//! * The new bytes go to a fresh temporary file in the **same folder** (`rename` is atomic only
//!   within one file system), opened with `create_new` so nothing else is clobbered.
//! * The temporary file is fsynced **before** the rename. Without it a file system may persist
//!   the rename before the data, and a crash would leave an empty or partial file under the
//!   real name (the ext4/XFS "zero-length file" problem).
//! * `rename(2)` replaces the target atomically: any observer, and the disk after a crash, sees
//!   either the old inode or the new one, never a mixture.
//! * The folder is fsynced **after** the rename, so the new directory entry is durable before
//!   [`write_atomic`] returns: once it has returned, a crash cannot bring back the old content.
//!
//! A crash before the rename leaves a temporary file behind. Its name starts with `.`, holds
//! [`TEMP_MARKER`] and names its target, so [`remove_temp_files_for`] (called by the openers of
//! the files written here) can delete it; readers never look at it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::Result;

/// The part of a temporary file's name that marks it as one of ours.
pub const TEMP_MARKER: &str = ".pairwise-tmp-";

/// Distinguishes temporary files made by one process.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Replaces `path` with `bytes` so that a crash leaves either the old or the new content.
///
/// # Errors
/// Any IO failure (the message names the path). The target is then untouched unless the
/// rename itself went through and only the final folder fsync failed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let temp = temp_path_for(path);
    let written = write_and_sync(&temp, bytes).and_then(|()| Ok(fs_err::rename(&temp, path)?));
    if written.is_err() {
        // Best effort: the temporary file is garbage either way, and the opener removes it later.
        let _ = fs_err::remove_file(&temp);
    }
    written?;
    sync_dir(parent_dir(path))
}

/// Makes a folder's entries (creations, renames, deletions) durable.
///
/// # Errors
/// Any IO failure. On platforms other than Unix this does nothing.
pub fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    fs_err::File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Deletes temporary files that a crashed [`write_atomic`] of `path` left beside it; returns
/// how many were removed.
///
/// Only call this while no other writer of `path` is running (the collection holds one writer).
///
/// # Errors
/// Any IO failure listing the folder or removing a file.
pub fn remove_temp_files_for(path: &Path) -> Result<usize> {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return Ok(0);
    };
    let prefix = format!(".{name}{TEMP_MARKER}");
    remove_matching(parent_dir(path), |entry| entry.starts_with(&prefix))
}

/// Deletes every temporary file in `dir` left by a crashed [`write_atomic`]; returns how many
/// were removed.
///
/// # Errors
/// Any IO failure listing the folder or removing a file.
pub fn remove_temp_files_in(dir: &Path) -> Result<usize> {
    remove_matching(dir, |entry| {
        entry.starts_with('.') && entry.contains(TEMP_MARKER)
    })
}

/// The folder holding `path` (`.` for a bare file name).
pub(crate) fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// Fsyncs every file and folder under `dir`, then `dir` itself (symbolic links are skipped).
///
/// # Errors
/// Any IO failure.
pub(crate) fn sync_tree(dir: &Path) -> Result<()> {
    for entry in fs_err::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            sync_tree(&entry.path())?;
        } else if kind.is_file() {
            fs_err::File::open(entry.path())?.sync_all()?;
        }
    }
    sync_dir(dir)
}

/// A fresh, hidden sibling of `path` that names it.
fn temp_path_for(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy());
    let unique = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    let pid = std::process::id();
    parent_dir(path).join(format!(".{name}{TEMP_MARKER}{pid}-{unique}"))
}

/// Creates `temp` (which must not exist), writes `bytes` and fsyncs it.
fn write_and_sync(temp: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = fs_err::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(temp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(())
}

/// Removes the plain files in `dir` whose UTF-8 names satisfy `matches`.
fn remove_matching(dir: &Path, matches: impl Fn(&str) -> bool) -> Result<usize> {
    let mut removed = 0;
    for entry in fs_err::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let is_temp = name.to_str().is_some_and(&matches);
        if is_temp && entry.file_type()?.is_file() {
            fs_err::remove_file(entry.path())?;
            removed += 1;
        }
    }
    if removed > 0 {
        sync_dir(dir)?;
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs_err::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn write_atomic_replaces_content_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.json");
        write_atomic(&path, b"old").unwrap();
        write_atomic(&path, b"new content").unwrap();
        assert_eq!(fs_err::read(&path).unwrap(), b"new content");
        assert_eq!(names_in(dir.path()), ["data.json"]);
    }

    #[test]
    fn leftover_temp_file_from_a_crash_is_ignored_and_cleaned() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.json");
        write_atomic(&path, b"committed").unwrap();
        // A crash between creating the temporary file and renaming it.
        let temp = temp_path_for(&path);
        fs_err::write(&temp, b"half-writ").unwrap();
        let unrelated = dir.path().join(".other.json.pairwise-tmp-1-1");
        fs_err::write(&unrelated, b"x").unwrap();

        assert_eq!(fs_err::read(&path).unwrap(), b"committed");
        assert_eq!(remove_temp_files_for(&path).unwrap(), 1);
        assert!(!temp.exists());
        assert!(unrelated.exists(), "only the target's temporary files go");
        assert_eq!(remove_temp_files_in(dir.path()).unwrap(), 1);
        assert_eq!(names_in(dir.path()), ["data.json"]);
    }

    #[test]
    fn failed_write_leaves_the_old_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.json");
        write_atomic(&path, b"old").unwrap();
        // Renaming a file over a non-empty folder fails after the temporary file was written.
        let blocked = dir.path().join("blocked");
        fs_err::create_dir(&blocked).unwrap();
        fs_err::write(blocked.join("x"), b"x").unwrap();
        assert!(write_atomic(&blocked, b"new").is_err());
        assert_eq!(fs_err::read(&path).unwrap(), b"old");
        assert_eq!(names_in(dir.path()), ["blocked", "data.json"]);
    }

    #[test]
    fn sync_tree_visits_nested_folders() {
        let dir = tempfile::tempdir().unwrap();
        fs_err::create_dir_all(dir.path().join("a/b")).unwrap();
        fs_err::write(dir.path().join("a/b/f"), b"x").unwrap();
        sync_tree(dir.path()).unwrap();
    }
}
