//! What one snapshot generation of a collection holds, and how it is written and read back.
//!
//! ```text
//! snapshot-<N>/
//!   manifest.json   format version, config, dim, distance, last_seq, and every other file
//!                   of the generation with its length and CRC-32 (written last)
//!   docs.jsonl      one line per position: the document without its vector, or `null` for a
//!                   deleted position (a tombstone, kept until the next compaction)
//!   vectors.f32     the live documents' vectors as given, little-endian f32, position order
//!   hnsw/           the HNSW graph and its vectors (`HnswIndex::save`), HNSW collections only
//!   text/           the tantivy index (`Bm25Index::save_copy`), an ordinary tantivy folder
//! ```
//!
//! Every file is checked against the manifest's length and checksum before it is parsed, so a
//! damaged or truncated snapshot gives [`IndexError::Corrupt`] naming the file, never a panic
//! inside `hnsw_rs` or tantivy. An exact (flat) index is not stored: it is rebuilt from
//! `vectors.f32`, a copy. A version-1 snapshot (documents only, vectors inside `docs.jsonl`)
//! is still read; its indexes are rebuilt.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::{Component, Path};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::collection::{CollectionConfig, Document};
use crate::error::{IndexError, Result};
use crate::persist::{
    digest_file, verify_file, write_synced, FileDigest, Manifest, SnapshotStore, FORMAT_VERSION,
    MANIFEST_FILE,
};
use crate::text::Bm25Index;
use crate::vector::{AnyVectorIndex, HnswIndex, VectorIndex, VectorIndexConfig};

/// The documents, one line per position.
pub(crate) const DOCS_FILE: &str = "docs.jsonl";
/// The live documents' vectors.
const VECTORS_FILE: &str = "vectors.f32";
/// The HNSW index folder.
const HNSW_DIR: &str = "hnsw";
/// The tantivy index folder.
const TEXT_DIR: &str = "text";

/// A line of `docs.jsonl`: a document without its vector.
#[derive(Serialize)]
struct DocLine<'a> {
    id: &'a str,
    text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'a str>,
    metadata: &'a Value,
}

/// A line of `docs.jsonl` as read back.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredDoc {
    id: String,
    text: String,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    metadata: Value,
}

/// What a generation holds, ready to use.
pub(crate) struct Loaded {
    /// Documents by position; `None` for a deleted position.
    pub(crate) docs: Vec<Option<Document>>,
    /// The vector index, unless it must be rebuilt from `docs` (an exact index, or a
    /// version-1 snapshot).
    pub(crate) vectors: Option<AnyVectorIndex>,
    /// The keyword index, unless it must be rebuilt from `docs` (a version-1 snapshot).
    pub(crate) text: Option<Bm25Index>,
}

/// Writes a new generation holding `docs` (by position) and both indexes, then makes it live.
/// `manifest` is recorded with the current format version and the new files' digests.
///
/// # Errors
/// IO failures, and the indexes' save errors; the live generation stays as it was.
pub(crate) fn write(
    store: &SnapshotStore,
    manifest: &Manifest,
    docs: &[Option<Document>],
    vectors: &AnyVectorIndex,
    text: &mut Bm25Index,
) -> Result<()> {
    let staged = store.stage()?;
    let root = staged.path();
    write_synced(&root.join(DOCS_FILE), |out| {
        for doc in docs {
            match doc {
                None => out.write_all(b"null")?,
                Some(doc) => serde_json::to_writer(
                    &mut *out,
                    &DocLine {
                        id: &doc.id,
                        text: &doc.text,
                        title: doc.title.as_deref(),
                        metadata: &doc.metadata,
                    },
                )?,
            }
            out.write_all(b"\n")?;
        }
        Ok(())
    })?;
    write_synced(&root.join(VECTORS_FILE), |out| {
        docs.iter()
            .flatten()
            .flat_map(|doc| &doc.vector)
            .try_for_each(|x| out.write_all(&x.to_le_bytes()))
    })?;
    if let AnyVectorIndex::Hnsw(index) = vectors {
        index.save(&root.join(HNSW_DIR))?;
    }
    text.save_copy(&root.join(TEXT_DIR))?;
    let mut manifest = manifest.clone();
    manifest.format_version = FORMAT_VERSION;
    manifest.files = BTreeMap::new();
    digest_tree(root, "", &mut manifest.files)?;
    manifest.save(&root.join(MANIFEST_FILE))?;
    staged.commit()?;
    Ok(())
}

/// Records the digest of every file under `dir` (but the manifest) by its path from the
/// generation's folder.
fn digest_tree(dir: &Path, prefix: &str, files: &mut BTreeMap<String, FileDigest>) -> Result<()> {
    for entry in fs_err::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            return Err(IndexError::InvalidParameter(format!(
                "{} has a name that is not UTF-8",
                entry.path().display()
            )));
        };
        let relative = format!("{prefix}{name}");
        let kind = entry.file_type()?;
        if kind.is_dir() {
            digest_tree(&entry.path(), &format!("{relative}/"), files)?;
        } else if kind.is_file() && relative != MANIFEST_FILE {
            files.insert(relative, digest_file(&entry.path())?);
        }
    }
    Ok(())
}

/// Reads the generation in `dir`, whose manifest is `manifest`.
///
/// # Errors
/// [`IndexError::Corrupt`] naming the file when one is missing from the manifest, damaged,
/// truncated, or disagrees with another; IO failures.
pub(crate) fn read(dir: &Path, manifest: &Manifest, config: &CollectionConfig) -> Result<Loaded> {
    if manifest.format_version < 2 {
        let docs = read_docs_v1(&dir.join(DOCS_FILE), config.dim)?;
        return Ok(Loaded {
            docs: docs.into_iter().map(Some).collect(),
            vectors: None,
            text: None,
        });
    }
    let manifest_path = dir.join(MANIFEST_FILE);
    let corrupt = |path: &Path, reason: String| IndexError::Corrupt {
        path: path.to_path_buf(),
        offset: None,
        reason,
    };
    for required in [DOCS_FILE, VECTORS_FILE, "text/meta.json"] {
        if !manifest.files.contains_key(required) {
            let reason = format!("it does not list {required}");
            return Err(corrupt(&manifest_path, reason));
        }
    }
    for (name, digest) in &manifest.files {
        let relative = Path::new(name);
        if !relative
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
        {
            let reason = format!("{name:?} is not a path inside the snapshot");
            return Err(corrupt(&manifest_path, reason));
        }
        verify_file(&dir.join(relative), digest)?;
    }
    let docs = read_docs(dir, config.dim)?;
    let live = docs.iter().flatten().count();

    let text_dir = dir.join(TEXT_DIR);
    let text = Bm25Index::open_in_ram(&text_dir)?;
    if text.config() != &config.bm25 {
        let reason = "its settings differ from the collection's".to_owned();
        return Err(corrupt(&text_dir, reason));
    }
    if text.len() != live {
        let reason = format!("it holds {} documents, docs.jsonl {live}", text.len());
        return Err(corrupt(&text_dir, reason));
    }

    let vectors = match &config.vector_index {
        VectorIndexConfig::Flat => {
            if live != docs.len() {
                let reason = "deleted positions in a collection with an exact index".to_owned();
                return Err(corrupt(&dir.join(DOCS_FILE), reason));
            }
            None
        }
        VectorIndexConfig::Hnsw(hnsw) => {
            let hnsw_dir = dir.join(HNSW_DIR);
            let index = HnswIndex::open(&hnsw_dir)?;
            let agrees = index.config() == hnsw
                && index.dim() == config.dim
                && index.distance() == config.distance
                && index.len() == docs.len();
            if !agrees {
                let reason = format!(
                    "it holds {} vectors of dimension {} ({:?}, {:?}); the collection has {} \
                     positions of dimension {} ({:?}, {hnsw:?})",
                    index.len(),
                    index.dim(),
                    index.distance(),
                    index.config(),
                    docs.len(),
                    config.dim,
                    config.distance,
                );
                return Err(corrupt(&hnsw_dir, reason));
            }
            Some(AnyVectorIndex::Hnsw(index))
        }
    };
    Ok(Loaded {
        docs,
        vectors,
        text: Some(text),
    })
}

/// Reads `docs.jsonl` and `vectors.f32` of a version-2 generation.
fn read_docs(dir: &Path, dim: usize) -> Result<Vec<Option<Document>>> {
    let vectors_path = dir.join(VECTORS_FILE);
    let bytes = fs_err::read(&vectors_path)?;
    let mut rows = bytes.chunks_exact(4 * dim);
    if !rows.remainder().is_empty() {
        return Err(IndexError::Corrupt {
            path: vectors_path,
            offset: None,
            reason: format!("{} bytes are not rows of {dim} floats", bytes.len()),
        });
    }
    let path = dir.join(DOCS_FILE);
    let reader = std::io::BufReader::new(fs_err::File::open(&path)?);
    let mut docs = Vec::new();
    for (i, line) in reader.lines().enumerate() {
        let corrupt = |reason: String| IndexError::Corrupt {
            path: path.clone(),
            offset: None,
            reason: format!("line {}: {reason}", i + 1),
        };
        let line = line?;
        let Some(stored) =
            serde_json::from_str::<Option<StoredDoc>>(&line).map_err(|e| corrupt(e.to_string()))?
        else {
            docs.push(None);
            continue;
        };
        let row = rows
            .next()
            .ok_or_else(|| corrupt(format!("{VECTORS_FILE} has fewer vectors than documents")))?;
        let doc = Document {
            id: stored.id,
            text: stored.text,
            title: stored.title,
            metadata: stored.metadata,
            vector: row
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
        };
        doc.validate(dim).map_err(|e| corrupt(e.to_string()))?;
        docs.push(Some(doc));
    }
    if rows.next().is_some() {
        return Err(IndexError::Corrupt {
            path: vectors_path,
            offset: None,
            reason: "more vectors than documents".to_owned(),
        });
    }
    Ok(docs)
}

/// Reads the `docs.jsonl` of a version-1 generation: live documents, vectors included.
fn read_docs_v1(path: &Path, dim: usize) -> Result<Vec<Document>> {
    let reader = std::io::BufReader::new(fs_err::File::open(path)?);
    let mut docs = Vec::new();
    for (i, line) in reader.lines().enumerate() {
        let corrupt = |reason: String| IndexError::Corrupt {
            path: path.to_path_buf(),
            offset: None,
            reason: format!("line {}: {reason}", i + 1),
        };
        let line = line?;
        let doc: Document = serde_json::from_str(&line).map_err(|e| corrupt(e.to_string()))?;
        doc.validate(dim).map_err(|e| corrupt(e.to_string()))?;
        docs.push(doc);
    }
    Ok(docs)
}
