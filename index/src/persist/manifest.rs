//! The collection manifest: format version, model, vector shape, index parameters and the last
//! log sequence number that the snapshot holding it covers.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::error::{IndexError, Result};
use crate::persist::atomic::write_atomic;
use crate::persist::digest::FileDigest;
use crate::vector::Distance;

/// The on-disk format version this build writes. Bump it whenever any persisted format
/// (manifest, log, snapshot files) changes.
///
/// * 1: the snapshot holds the live documents (`docs.jsonl`, vectors included); opening
///   rebuilds both indexes from them. Still read.
/// * 2: the snapshot also holds the vector graph and the keyword index, and the manifest lists
///   every file of the snapshot with its checksum.
/// * 3: the HNSW parameters name their engine (`"engine"`); versions 1 and 2 mean `hnsw_rs`.
pub const FORMAT_VERSION: u32 = 3;

/// The oldest format version this build still reads.
pub const OLDEST_FORMAT_VERSION: u32 = 1;

/// The manifest's file name inside a snapshot folder.
pub const MANIFEST_FILE: &str = "manifest.json";

/// What a snapshot holds, saved as pretty JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The format version, [`FORMAT_VERSION`] when written by this build.
    pub format_version: u32,
    /// The embedding model that produced the vectors, when known.
    pub model_id: Option<String>,
    /// The vectors' width.
    pub dim: usize,
    /// How vectors are compared.
    pub distance: Distance,
    /// The resolved index configuration, kept opaque here.
    pub index_params: serde_json::Value,
    /// The last write-ahead-log sequence number applied to the snapshot (0: none). Replay skips
    /// records at or below it.
    pub last_seq: u64,
    /// When the collection was created, in milliseconds since the Unix epoch.
    pub created_unix_ms: u64,
    /// Every other file of the snapshot (path relative to its folder, `/`-separated) with its
    /// length and checksum, checked before anything reads it. Empty in version 1.
    #[serde(default)]
    pub files: BTreeMap<String, FileDigest>,
}

/// Reads only the version, so a newer manifest gets a version error, not a field error.
#[derive(Deserialize)]
struct VersionProbe {
    format_version: u32,
}

impl Manifest {
    /// A manifest for a new, empty collection created now.
    pub fn new(dim: usize, distance: Distance) -> Self {
        let created_unix_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        Self {
            format_version: FORMAT_VERSION,
            model_id: None,
            dim,
            distance,
            index_params: serde_json::Value::Null,
            last_seq: 0,
            created_unix_ms,
            files: BTreeMap::new(),
        }
    }

    /// Writes the manifest to `path` atomically (see [`write_atomic`]).
    ///
    /// # Errors
    /// IO failures.
    pub fn save(&self, path: &Path) -> Result<()> {
        let mut json =
            serde_json::to_vec_pretty(self).map_err(|source| IndexError::InvalidJson {
                path: path.to_path_buf(),
                source,
            })?;
        json.push(b'\n');
        write_atomic(path, &json)
    }

    /// Reads and checks a manifest.
    ///
    /// # Errors
    /// IO failures; [`IndexError::UnsupportedVersion`] for a version outside
    /// [`OLDEST_FORMAT_VERSION`]`..=`[`FORMAT_VERSION`]; [`IndexError::InvalidJson`] for malformed JSON or wrong fields;
    /// [`IndexError::Corrupt`] for a dimension of 0.
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = fs_err::read(path)?;
        let invalid = |source| IndexError::InvalidJson {
            path: path.to_path_buf(),
            source,
        };
        let probe: VersionProbe = serde_json::from_slice(&bytes).map_err(invalid)?;
        if !(OLDEST_FORMAT_VERSION..=FORMAT_VERSION).contains(&probe.format_version) {
            return Err(IndexError::UnsupportedVersion {
                path: path.to_path_buf(),
                found: probe.format_version,
                supported: FORMAT_VERSION,
            });
        }
        let manifest: Self = serde_json::from_slice(&bytes).map_err(invalid)?;
        if manifest.dim == 0 {
            return Err(IndexError::Corrupt {
                path: path.to_path_buf(),
                offset: None,
                reason: "dim is 0".to_owned(),
            });
        }
        Ok(manifest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Manifest {
        let mut manifest = Manifest::new(384, Distance::Cosine);
        manifest.model_id = Some("all-MiniLM-L6-v2".to_owned());
        manifest.index_params = serde_json::json!({"type": "hnsw", "m": 16});
        manifest.last_seq = 1234;
        let digest = FileDigest {
            bytes: 10,
            crc32: 0xdead_beef,
        };
        manifest.files.insert("text/meta.json".to_owned(), digest);
        manifest
    }

    #[test]
    fn a_version_1_manifest_without_files_still_loads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(MANIFEST_FILE);
        let mut old = serde_json::to_value(sample()).unwrap();
        old["format_version"] = 1.into();
        old.as_object_mut().unwrap().remove("files");
        fs_err::write(&path, serde_json::to_vec(&old).unwrap()).unwrap();
        let manifest = Manifest::load(&path).unwrap();
        assert_eq!(manifest.format_version, 1);
        assert!(manifest.files.is_empty());
    }

    #[test]
    fn manifest_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(MANIFEST_FILE);
        let manifest = sample();
        manifest.save(&path).unwrap();
        assert_eq!(Manifest::load(&path).unwrap(), manifest);
        let text = fs_err::read_to_string(&path).unwrap();
        assert!(text.contains("\"distance\": \"cosine\""), "{text}");
    }

    #[test]
    fn newer_version_is_a_version_error_even_with_new_fields() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(MANIFEST_FILE);
        fs_err::write(&path, r#"{"format_version": 4, "shards": 4}"#).unwrap();
        let err = Manifest::load(&path).unwrap_err();
        assert!(
            matches!(
                err,
                IndexError::UnsupportedVersion {
                    found: 4,
                    supported: 3,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("manifest.json"), "{err}");
    }

    #[test]
    fn malformed_json_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(MANIFEST_FILE);
        let full = serde_json::to_string(&sample()).unwrap();
        for bad in [
            "",
            "{\"format_version\": 1, \"dim\": ",
            &full[..full.len() - 1],
        ] {
            fs_err::write(&path, bad).unwrap();
            let err = Manifest::load(&path).unwrap_err();
            assert!(matches!(err, IndexError::InvalidJson { .. }), "{err}");
            assert!(err.to_string().contains("manifest.json"), "{err}");
        }
        let typo = full.replace("\"dim\"", "\"dims\"");
        fs_err::write(&path, typo).unwrap();
        let err = Manifest::load(&path).unwrap_err();
        assert!(err.to_string().contains("dims"), "{err}");
    }

    #[test]
    fn zero_dim_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(MANIFEST_FILE);
        Manifest::new(0, Distance::Dot).save(&path).unwrap();
        assert!(matches!(
            Manifest::load(&path),
            Err(IndexError::Corrupt { .. })
        ));
    }

    #[test]
    fn missing_file_is_an_io_error_naming_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(MANIFEST_FILE);
        let err = Manifest::load(&path).unwrap_err();
        assert!(matches!(err, IndexError::Io(_)));
        assert!(err.to_string().contains("manifest.json"), "{err}");
    }
}
