//! [`HnswIndex::save`] and [`HnswIndex::open`]; the decision and its cost are in the
//! `HnswIndex` docs, under "Persistence".
//!
//! # Layout
//! A folder holding, for save generation `g`:
//! * `vectors-g.f32`: the prepared vectors, little-endian `f32`, row-major in position
//!   order (the ground truth that exact search, scoring and a future rebuild use);
//! * the graph, absent for an empty index: `graph-g.links` for the native engine (layout in
//!   `native/codec.rs`), or `graph-g.hnsw.graph` and `graph-g.hnsw.data` for `hnsw_rs`, its
//!   own dump (native-endian, so the manifest records the platform);
//! * `hnsw.json`: the manifest (format name and version, generation, platform, dimension,
//!   distance, length, configuration with the engine, and each data file's length and CRC-32).
//!
//! Format versions: 1 had only the `hnsw_rs` engine and no `engine` field (still read, as
//! `hnsw_rs`); 2 adds the engine and the native graph file.
//!
//! Data files are written under the new generation's names and synced first; the manifest
//! is then replaced atomically (temporary file, sync, rename), which commits the save; older
//! generations are removed last. A crash leaves the previous save readable. Concurrent saves
//! to one folder are not supported.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{IndexError, Result};
use crate::persist::{digest_file, verify_file, write_atomic, write_synced, FileDigest};
use crate::vector::distance::Distance;
use crate::vector::flat::FlatIndex;
use crate::vector::hardware::{advise_huge_pages, collapse_into_huge_pages};
use crate::vector::hnsw::config::{HnswConfig, HnswEngine};
use crate::vector::hnsw::engine::Graph;
use crate::vector::hnsw::graph::{HnswRsGraph, DATA_SUFFIX, GRAPH_SUFFIX};
use crate::vector::hnsw::index::HnswIndex;
use crate::vector::hnsw::native::NativeGraph;

/// The manifest's file name inside an index folder.
pub(crate) const MANIFEST_FILE: &str = "hnsw.json";
/// The manifest's `format` value.
const FORMAT: &str = "pairwise-hnsw";
/// Bumped whenever the layout or a file's encoding changes.
pub(crate) const FORMAT_VERSION: u32 = 2;
/// The oldest format version this build reads.
const OLDEST_FORMAT_VERSION: u32 = 1;
/// The suffix of the native graph's file.
const LINKS_SUFFIX: &str = ".links";
/// Manifests are small; anything larger is not one.
const MAX_MANIFEST_BYTES: u64 = 1 << 20;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    format: String,
    format_version: u32,
    generation: u64,
    platform: String,
    dim: usize,
    distance: Distance,
    len: usize,
    config: HnswConfig,
    vectors: FileDigest,
    graph: Option<GraphFiles>,
}

/// The graph's files; which fields are present says the engine (version 1 manifests hold the
/// `hnsw_rs` pair).
#[derive(Debug, Serialize, Deserialize)]
#[serde(untagged, deny_unknown_fields)]
enum GraphFiles {
    Native { links: FileDigest },
    HnswRs { graph: FileDigest, data: FileDigest },
}

/// The platform whose native encoding the `hnsw_rs` dump uses.
fn platform() -> String {
    let endian = if cfg!(target_endian = "little") {
        "little"
    } else {
        "big"
    };
    format!("{endian}-endian-{}-bit", usize::BITS)
}

fn vectors_file(generation: u64) -> String {
    format!("vectors-{generation}.f32")
}

fn graph_basename(generation: u64) -> String {
    format!("graph-{generation}")
}

impl HnswIndex {
    /// Writes the index into the folder `dir` (created if needed), atomically replacing any
    /// index saved there before (see [Persistence](HnswIndex#persistence)).
    ///
    /// # Errors
    /// [`IndexError::Io`] naming the file that could not be written, [`IndexError::Hnsw`]
    /// when `hnsw_rs` fails to dump the graph. A failed save leaves the previous one intact.
    pub fn save(&self, dir: &Path) -> Result<()> {
        fs_err::create_dir_all(dir)?;
        let generation = read_manifest(dir).map_or(1, |old| old.generation + 1);
        let vectors = write_synced(&dir.join(vectors_file(generation)), |out| {
            self.vectors
                .rows()
                .iter()
                .try_for_each(|x| out.write_all(&x.to_le_bytes()))
        })?;
        let basename = graph_basename(generation);
        let graph = match &self.graph {
            _ if self.vectors.is_empty() => None,
            Graph::Native(graph) => {
                let path = dir.join(format!("{basename}{LINKS_SUFFIX}"));
                let links = write_synced(&path, |out| graph.encode(out))?;
                Some(GraphFiles::Native { links })
            }
            Graph::HnswRs(graph) => {
                graph.dump(dir, &basename)?;
                Some(GraphFiles::HnswRs {
                    graph: sync_and_digest(&dir.join(format!("{basename}{GRAPH_SUFFIX}")))?,
                    data: sync_and_digest(&dir.join(format!("{basename}{DATA_SUFFIX}")))?,
                })
            }
        };
        let manifest = Manifest {
            format: FORMAT.to_owned(),
            format_version: FORMAT_VERSION,
            generation,
            platform: platform(),
            dim: self.vectors.dim(),
            distance: self.vectors.distance(),
            len: self.vectors.len(),
            config: self.config,
            vectors,
            graph,
        };
        write_atomic(
            &dir.join(MANIFEST_FILE),
            &serde_json::to_vec_pretty(&manifest)?,
        )?;
        remove_other_generations(dir, generation);
        Ok(())
    }

    /// Opens an index that [`save`](Self::save) wrote into `dir`.
    ///
    /// # Errors
    /// [`IndexError::Corrupt`] naming the file when the manifest is not one, is of another
    /// format version or platform, or when a file is truncated or damaged;
    /// [`IndexError::Io`] when a file is missing or unreadable. Damaged files never panic.
    pub fn open(dir: &Path) -> Result<Self> {
        let manifest_path = dir.join(MANIFEST_FILE);
        let manifest = read_manifest(dir)?;
        check_manifest(&manifest, &manifest_path)?;
        let vectors = read_vectors(&dir.join(vectors_file(manifest.generation)), &manifest)?;
        let basename = graph_basename(manifest.generation);
        let config = &manifest.config;
        let graph = match (&manifest.graph, config.engine) {
            (None, _) if manifest.len == 0 => Graph::new(config, manifest.distance),
            (None, _) => return Err(corrupt(&manifest_path, "no graph for a non-empty index")),
            (Some(GraphFiles::Native { links }), HnswEngine::Native) => {
                let path = dir.join(format!("{basename}{LINKS_SUFFIX}"));
                verify_file(&path, links)?;
                let bytes = fs_err::read(&path)?;
                let params = (config.m, config.ef_construction);
                let graph = NativeGraph::decode(&bytes, params, manifest.distance, manifest.len)
                    .map_err(|reason| corrupt(&path, &reason))?;
                Graph::Native(Box::new(graph))
            }
            (Some(GraphFiles::HnswRs { graph, data }), HnswEngine::HnswRs) => {
                verify_file(&dir.join(format!("{basename}{GRAPH_SUFFIX}")), graph)?;
                verify_file(&dir.join(format!("{basename}{DATA_SUFFIX}")), data)?;
                Graph::HnswRs(HnswRsGraph::load(dir, &basename, manifest.distance)?)
            }
            (Some(_), engine) => {
                let reason = format!("the graph files are not those of the {engine:?} engine");
                return Err(corrupt(&manifest_path, &reason));
            }
        };
        if graph.len() != manifest.len {
            let reason = format!("graph holds {} vectors, not {}", graph.len(), manifest.len);
            return Err(corrupt(&manifest_path, &reason));
        }
        Ok(Self {
            config: manifest.config,
            vectors,
            graph,
        })
    }
}

fn corrupt(path: &Path, reason: &str) -> IndexError {
    IndexError::Corrupt {
        path: path.to_path_buf(),
        offset: None,
        reason: reason.to_owned(),
    }
}

fn read_manifest(dir: &Path) -> Result<Manifest> {
    let path = dir.join(MANIFEST_FILE);
    let bytes = fs_err::metadata(&path)?.len();
    if bytes > MAX_MANIFEST_BYTES {
        return Err(corrupt(&path, &format!("{bytes} bytes is too large")));
    }
    let text = fs_err::read(&path)?;
    let mut manifest: Manifest = serde_json::from_slice(&text)
        .map_err(|e| corrupt(&path, &format!("not a manifest: {e}")))?;
    if manifest.format_version == 1 {
        // Version 1 knew one engine and did not name it.
        manifest.config.engine = HnswEngine::HnswRs;
    }
    Ok(manifest)
}

fn check_manifest(manifest: &Manifest, path: &Path) -> Result<()> {
    let fail = |reason: String| Err(corrupt(path, &reason));
    if manifest.format != FORMAT {
        return fail(format!("format {:?} is not {FORMAT:?}", manifest.format));
    }
    if !(OLDEST_FORMAT_VERSION..=FORMAT_VERSION).contains(&manifest.format_version) {
        return fail(format!(
            "format version {} is not one this build reads ({OLDEST_FORMAT_VERSION} to \
             {FORMAT_VERSION})",
            manifest.format_version
        ));
    }
    if manifest.platform != platform() {
        return fail(format!(
            "written on a {} platform, this one is {}",
            manifest.platform,
            platform()
        ));
    }
    if let Err(e) = manifest.config.validate() {
        return fail(e.to_string());
    }
    let expected = manifest
        .len
        .checked_mul(manifest.dim)
        .and_then(|floats| floats.checked_mul(4))
        .map(|bytes| bytes as u64);
    if manifest.dim == 0 || expected != Some(manifest.vectors.bytes) {
        return fail(format!(
            "{} vectors of dimension {} do not fill {} bytes",
            manifest.len, manifest.dim, manifest.vectors.bytes
        ));
    }
    Ok(())
}

fn read_vectors(path: &Path, manifest: &Manifest) -> Result<FlatIndex> {
    verify_file(path, &manifest.vectors)?;
    let bytes = fs_err::read(path)?;
    let mut data = Vec::with_capacity(bytes.len() / 4);
    advise_huge_pages(&data);
    data.extend(
        bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
    );
    collapse_into_huge_pages(&data);
    FlatIndex::from_prepared(manifest.dim, manifest.distance, data)
        .map_err(|e| corrupt(path, &e.to_string()))
}

fn sync_and_digest(path: &Path) -> Result<FileDigest> {
    fs_err::File::open(path)?.sync_all()?;
    digest_file(path)
}

/// Removes the data files of other generations. Best effort: a leftover file costs only
/// space, and is removed by the next save.
fn remove_other_generations(dir: &Path, keep: u64) {
    let Ok(entries) = fs_err::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(generation) = name.to_str().and_then(generation_of) else {
            continue;
        };
        if generation != keep {
            let stale: PathBuf = entry.path();
            // Ignored on purpose, see above.
            let _ = fs_err::remove_file(stale);
        }
    }
}

/// The generation in a data file name that [`HnswIndex::save`] writes, if it is one.
fn generation_of(name: &str) -> Option<u64> {
    let number = name
        .strip_prefix("vectors-")
        .and_then(|rest| rest.strip_suffix(".f32"))
        .or_else(|| {
            let rest = name.strip_prefix("graph-")?;
            rest.strip_suffix(GRAPH_SUFFIX)
                .or_else(|| rest.strip_suffix(DATA_SUFFIX))
                .or_else(|| rest.strip_suffix(LINKS_SUFFIX))
        })?;
    number.parse().ok()
}
