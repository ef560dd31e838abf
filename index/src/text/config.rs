//! BM25 index settings and the manifest that keeps them beside the index.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{IndexError, Result};
use crate::text::analyzer::Analyzer;
use crate::text::query::QuerySyntax;

/// The file, inside an index directory, that records the index's [`Bm25Config`].
pub const BM25_MANIFEST_FILE: &str = "pairwise-bm25.json";

/// Version of the on-disk layout; bump it whenever the schema or manifest changes.
const FORMAT_VERSION: u32 = 1;

/// tantivy's minimum writer memory per indexing thread.
const MIN_WRITER_MEMORY_BYTES: usize = 15_000_000;
/// Just under tantivy's per-thread maximum (a `u32` arena, less its margin).
const MAX_WRITER_MEMORY_BYTES: usize = 4_000_000_000;

/// Settings of a [`Bm25Index`](crate::Bm25Index), fixed when it is created and recorded in
/// its manifest.
///
/// The default (English analyser, [`QuerySyntax::Words`], title boost 1.0) scores nDCG@10
/// 0.667 on the SciFact test split (BEIR reports 0.665 for Anserini's BM25).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Bm25Config {
    /// How titles, bodies and queries are split into terms.
    pub analyzer: Analyzer,
    /// How query strings are read.
    pub query_syntax: QuerySyntax,
    /// Factor on the BM25 score of query terms matched in the title; 1.0 weighs title and
    /// body alike, 0.0 ignores titles. Title and body are scored as separate fields, each
    /// with its own length normalisation; on SciFact 0.5 beats 1.0 (nDCG@10 0.695 against
    /// 0.667 on the test split, 0.692 against 0.672 on train).
    pub title_boost: f32,
    /// Memory the writer may fill before it flushes a segment, shared by its threads, in
    /// bytes. tantivy needs at least 15 MB per thread and uses fewer threads when short.
    pub writer_memory_bytes: usize,
}

impl Default for Bm25Config {
    fn default() -> Self {
        Self {
            analyzer: Analyzer::default(),
            query_syntax: QuerySyntax::default(),
            title_boost: 1.0,
            writer_memory_bytes: 64_000_000,
        }
    }
}

impl Bm25Config {
    /// Checks every setting.
    ///
    /// # Errors
    /// [`IndexError::InvalidParameter`] for a negative or non-finite `title_boost`, or a
    /// `writer_memory_bytes` outside 15 MB..4 GB.
    pub fn validate(&self) -> Result<()> {
        if !(self.title_boost.is_finite() && self.title_boost >= 0.0) {
            return Err(IndexError::InvalidParameter(format!(
                "title_boost must be finite and non-negative, got {}",
                self.title_boost
            )));
        }
        if !(MIN_WRITER_MEMORY_BYTES..MAX_WRITER_MEMORY_BYTES).contains(&self.writer_memory_bytes) {
            return Err(IndexError::InvalidParameter(format!(
                "writer_memory_bytes must be in {MIN_WRITER_MEMORY_BYTES}..{MAX_WRITER_MEMORY_BYTES}, got {}",
                self.writer_memory_bytes
            )));
        }
        Ok(())
    }
}

/// What [`BM25_MANIFEST_FILE`] holds.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    format_version: u32,
    config: Bm25Config,
}

/// Writes the manifest for `config` into `dir`, atomically (temporary file, then rename).
pub(crate) fn write_manifest(dir: &Path, config: &Bm25Config) -> Result<()> {
    let manifest = Manifest {
        format_version: FORMAT_VERSION,
        config: config.clone(),
    };
    let path = dir.join(BM25_MANIFEST_FILE);
    let json = serde_json::to_vec_pretty(&manifest).map_err(|source| IndexError::InvalidJson {
        path: path.clone(),
        source,
    })?;
    let tmp = dir.join(format!("{BM25_MANIFEST_FILE}.tmp"));
    fs_err::write(&tmp, json)?;
    fs_err::rename(&tmp, &path)?;
    Ok(())
}

/// Reads and checks the manifest in `dir`.
pub(crate) fn read_manifest(dir: &Path) -> Result<Bm25Config> {
    let path = dir.join(BM25_MANIFEST_FILE);
    let bytes = fs_err::read(&path)?;
    let manifest: Manifest =
        serde_json::from_slice(&bytes).map_err(|source| IndexError::InvalidJson {
            path: path.clone(),
            source,
        })?;
    if manifest.format_version != FORMAT_VERSION {
        return Err(IndexError::Incompatible {
            path: dir.to_owned(),
            reason: format!(
                "format version {} (this version reads {FORMAT_VERSION})",
                manifest.format_version
            ),
        });
    }
    manifest.config.validate()?;
    Ok(manifest.config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_fill_missing_fields_and_typos_fail() {
        let config: Bm25Config = serde_json::from_str(r#"{"analyzer": "simple"}"#).unwrap();
        assert_eq!(config.analyzer, Analyzer::Simple);
        assert_eq!(config.title_boost, 1.0);
        assert!(serde_json::from_str::<Bm25Config>(r#"{"title_bost": 2.0}"#).is_err());
        Bm25Config::default().validate().unwrap();
    }

    #[test]
    fn validate_rejects_out_of_range_settings() {
        for config in [
            Bm25Config {
                title_boost: -1.0,
                ..Bm25Config::default()
            },
            Bm25Config {
                title_boost: f32::NAN,
                ..Bm25Config::default()
            },
            Bm25Config {
                writer_memory_bytes: 1_000,
                ..Bm25Config::default()
            },
        ] {
            assert!(matches!(
                config.validate(),
                Err(IndexError::InvalidParameter(_))
            ));
        }
    }

    #[test]
    fn manifest_round_trips_and_checks_its_version() {
        let dir = tempfile::tempdir().unwrap();
        let config = Bm25Config {
            analyzer: Analyzer::Simple,
            title_boost: 2.5,
            ..Bm25Config::default()
        };
        write_manifest(dir.path(), &config).unwrap();
        assert_eq!(read_manifest(dir.path()).unwrap(), config);

        let future = r#"{"format_version": 99, "config": {}}"#;
        fs_err::write(dir.path().join(BM25_MANIFEST_FILE), future).unwrap();
        let err = read_manifest(dir.path()).unwrap_err();
        assert!(matches!(err, IndexError::Incompatible { .. }), "{err}");

        fs_err::write(dir.path().join(BM25_MANIFEST_FILE), "{").unwrap();
        let err = read_manifest(dir.path()).unwrap_err();
        assert!(matches!(err, IndexError::InvalidJson { .. }), "{err}");
    }
}
