//! [`Collection`]: documents, their vector and keyword indexes, the log and the snapshots.
//!
//! # On disk
//!
//! ```text
//! <dir>/wal.log                          write-ahead log, one record per acknowledged batch
//! <dir>/snapshots/CURRENT                names the live snapshot generation
//! <dir>/snapshots/snapshot-<N>/          documents, HNSW graph, tantivy index, manifest
//! ```
//!
//! (the generation's files are listed in `generation.rs`).
//!
//! A write is validated, appended to the log and fsynced, then applied in memory; only then is
//! it acknowledged. Opening loads the live snapshot (documents and both indexes as saved, no
//! re-insertion) and replays the log records after its `last_seq`. A snapshot is written into a
//! new generation folder, fsynced, and only then named by `CURRENT` (atomic); the log is
//! emptied afterwards: a crash in between leaves records that the new snapshot's `last_seq`
//! skips. Deleted and replaced documents stay in the snapshot as tombstones until a snapshot
//! compacts: when dead positions pass [`CollectionConfig::max_dead_fraction`] (and number over
//! 1,000), or whenever there are any and the vector index is exact (rebuilding it is a copy).
//! Compaction rebuilds both indexes from the live documents.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::collection::generation::{self, Loaded};
use crate::collection::op::Op;
use crate::collection::search::HYBRID_DEPTH;
use crate::collection::{
    validate_batch, CollectionConfig, Document, Fusion, SearchHit, SearchMode, SearchRequest,
    SearchTimings,
};
use crate::error::{IndexError, Result};
use crate::fusion::{rrf, weighted_fusion};
use crate::hit::{DocIndex, Hit};
use crate::persist::{Manifest, SnapshotStore, Wal};
use crate::text::{Bm25Index, TextDoc};
use crate::vector::{AnyVectorIndex, HnswEngine, VectorIndex, VectorIndexConfig};

const WAL_FILE: &str = "wal.log";
const SNAPSHOTS_DIR: &str = "snapshots";
const MANIFEST_FILE: &str = "manifest.json";
const LOCK_FILE: &str = "LOCK";

/// What opening a collection found, for logging.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenReport {
    /// Log records replayed on top of the snapshot.
    pub replayed_batches: usize,
    /// Bytes of a torn final log record that were dropped.
    pub dropped_tail_bytes: u64,
}

/// A durable collection of documents.
pub struct Collection {
    dir: PathBuf,
    config: CollectionConfig,
    manifest: Manifest,
    /// Documents by position; `None` marks a deleted (or replaced) one.
    docs: Vec<Option<Document>>,
    by_id: HashMap<String, DocIndex>,
    vectors: AnyVectorIndex,
    text: Bm25Index,
    wal: Wal,
    snapshots: SnapshotStore,
    batches_since_snapshot: u64,
    /// Held (OS file lock) while the collection is open: one writer per folder.
    _lock: std::fs::File,
}

impl std::fmt::Debug for Collection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Collection")
            .field("dir", &self.dir)
            .field("count", &self.count())
            .finish_non_exhaustive()
    }
}

impl Collection {
    /// Creates an empty collection in `dir`, which must not hold one already.
    ///
    /// # Errors
    /// [`IndexError::InvalidParameter`] for a bad config; [`IndexError::AlreadyExists`] when
    /// `dir` holds a collection; IO failures.
    pub fn create(dir: &Path, config: CollectionConfig) -> Result<Self> {
        config.validate()?;
        if dir.join(SNAPSHOTS_DIR).exists() || dir.join(WAL_FILE).exists() {
            return Err(IndexError::AlreadyExists(dir.to_path_buf()));
        }
        fs_err::create_dir_all(dir)?;
        let lock = lock(dir)?;
        let mut manifest = Manifest::new(config.dim, config.distance);
        manifest.model_id.clone_from(&config.model_id);
        manifest.index_params = serde_json::to_value(&config)
            .map_err(|e| IndexError::InvalidParameter(format!("cannot record the config: {e}")))?;
        let snapshots = SnapshotStore::open(dir.join(SNAPSHOTS_DIR))?;
        let vectors = build_vectors(&config, &[])?;
        let mut text = build_text(&config, &[])?;
        generation::write(&snapshots, &manifest, &[], &vectors, &mut text)?;
        let wal = Wal::create(dir.join(WAL_FILE), 1)?;
        Ok(Self {
            dir: dir.to_path_buf(),
            config,
            manifest,
            docs: Vec::new(),
            by_id: HashMap::new(),
            vectors,
            text,
            wal,
            snapshots,
            batches_since_snapshot: 0,
            _lock: lock,
        })
    }

    /// Opens the collection in `dir`: loads its snapshot and replays its log.
    ///
    /// # Errors
    /// [`IndexError::NotFound`] when `dir` holds no collection; [`IndexError::Corrupt`] naming
    /// the file for damaged data (a torn final log record is dropped, not an error).
    pub fn open(dir: &Path) -> Result<(Self, OpenReport)> {
        let snapshots_dir = dir.join(SNAPSHOTS_DIR);
        if !snapshots_dir.is_dir() {
            return Err(IndexError::NotFound(dir.to_path_buf()));
        }
        let lock = lock(dir)?;
        let snapshots = SnapshotStore::open(&snapshots_dir)?;
        let snapshot = snapshots
            .current()?
            .ok_or_else(|| IndexError::NotFound(dir.to_path_buf()))?;
        let mut manifest = Manifest::load(&snapshot.path().join(MANIFEST_FILE))?;
        let mut config: CollectionConfig = serde_json::from_value(manifest.index_params.clone())
            .map_err(|e| IndexError::Corrupt {
                path: snapshot.path().join(MANIFEST_FILE),
                offset: None,
                reason: format!("index_params is not a collection config: {e}"),
            })?;
        if manifest.format_version < 3 {
            // Before version 3 every HNSW graph was `hnsw_rs`'s, and its config said nothing.
            if let VectorIndexConfig::Hnsw(hnsw) = &mut config.vector_index {
                hnsw.engine = HnswEngine::HnswRs;
            }
            manifest.index_params = serde_json::to_value(&config).map_err(|e| {
                IndexError::InvalidParameter(format!("cannot record the config: {e}"))
            })?;
        }
        let Loaded {
            docs,
            vectors,
            text,
        } = generation::read(snapshot.path(), &manifest, &config)?;
        // What the snapshot does not hold is rebuilt from its documents, all live then.
        let all_live = || {
            docs.iter()
                .map(Option::as_ref)
                .collect::<Option<Vec<&Document>>>()
                .ok_or_else(|| IndexError::Corrupt {
                    path: snapshot.path().join(generation::DOCS_FILE),
                    offset: None,
                    reason: "deleted positions where the indexes must be rebuilt".to_owned(),
                })
        };
        let vectors = match vectors {
            Some(vectors) => vectors,
            None => build_vectors(&config, &all_live()?)?,
        };
        let text = match text {
            Some(text) => text,
            None => build_text(&config, &all_live()?)?,
        };
        let (wal, replay) = Wal::open(dir.join(WAL_FILE))?;
        let dropped_tail_bytes = replay.dropped_tail_bytes;
        let wal_path = wal.path().to_path_buf();
        let pending = replay.into_unapplied(manifest.last_seq)?;
        let by_id = docs
            .iter()
            .enumerate()
            .filter_map(|(i, d)| Some((d.as_ref()?.id.clone(), i)))
            .collect();
        let mut collection = Self {
            dir: dir.to_path_buf(),
            config,
            manifest,
            docs,
            by_id,
            vectors,
            text,
            wal,
            snapshots,
            batches_since_snapshot: 0,
            _lock: lock,
        };
        for record in &pending {
            collection.apply(Op::decode(&record.payload, &wal_path, record.seq)?)?;
            collection.manifest.last_seq = record.seq;
        }
        collection.batches_since_snapshot = pending.len() as u64;
        Ok((
            collection,
            OpenReport {
                replayed_batches: pending.len(),
                dropped_tail_bytes,
            },
        ))
    }

    /// The collection's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The collection's settings.
    pub fn config(&self) -> &CollectionConfig {
        &self.config
    }

    /// The manifest of the live snapshot (its `last_seq` follows the applied log).
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The number of live documents.
    pub fn count(&self) -> usize {
        self.by_id.len()
    }

    /// The live document with this id.
    pub fn get(&self, id: &str) -> Option<&Document> {
        self.by_id
            .get(id)
            .and_then(|&pos| self.docs.get(pos))
            .and_then(Option::as_ref)
    }

    /// Inserts documents, replacing those whose ids exist. Durable when it returns.
    ///
    /// # Errors
    /// Validation errors (nothing is written); IO failures.
    pub fn upsert(&mut self, docs: Vec<Document>) -> Result<()> {
        validate_batch(&docs, self.config.dim)?;
        if docs.is_empty() {
            return Ok(());
        }
        self.log_and_apply(Op::Upsert(docs))
    }

    /// Deletes documents by id; returns how many existed. Durable when it returns.
    ///
    /// # Errors
    /// IO failures.
    pub fn delete(&mut self, ids: Vec<String>) -> Result<usize> {
        let existing: Vec<String> = ids
            .into_iter()
            .filter(|id| self.by_id.contains_key(id))
            .collect();
        let count = existing.len();
        if count > 0 {
            self.log_and_apply(Op::Delete(existing))?;
        }
        Ok(count)
    }

    fn log_and_apply(&mut self, op: Op) -> Result<()> {
        let range = self.wal.append_batch(&[op.encode()?])?;
        self.apply(op)?;
        self.manifest.last_seq = range.end.saturating_sub(1);
        self.batches_since_snapshot += 1;
        if self.batches_since_snapshot >= self.config.snapshot_every_batches || self.too_many_dead()
        {
            self.snapshot()?;
        }
        Ok(())
    }

    fn too_many_dead(&self) -> bool {
        let dead = self.docs.len() - self.by_id.len();
        dead > 1000 && dead as f32 > self.config.max_dead_fraction * self.docs.len() as f32
    }

    /// Applies a logged operation to the in-memory state.
    fn apply(&mut self, op: Op) -> Result<()> {
        match op {
            Op::Upsert(docs) => {
                for doc in &docs {
                    if let Some(&old) = self.by_id.get(&doc.id) {
                        self.kill(old)?;
                    }
                }
                let start = self.docs.len();
                let batch: Vec<(DocIndex, &[f32])> = docs
                    .iter()
                    .enumerate()
                    .map(|(i, d)| (start + i, d.vector.as_slice()))
                    .collect();
                self.vectors.insert_batch(&batch)?;
                self.text.add(&text_docs(start, &docs))?;
                for (i, doc) in docs.into_iter().enumerate() {
                    self.by_id.insert(doc.id.clone(), start + i);
                    self.docs.push(Some(doc));
                }
            }
            Op::Delete(ids) => {
                for id in ids {
                    if let Some(pos) = self.by_id.remove(&id) {
                        self.kill(pos)?;
                    }
                }
            }
        }
        self.text.commit()
    }

    fn kill(&mut self, pos: DocIndex) -> Result<()> {
        if let Some(slot) = self.docs.get_mut(pos) {
            if let Some(doc) = slot.take() {
                self.by_id.remove(&doc.id);
            }
        }
        self.text.delete(pos)
    }

    /// Writes a snapshot (documents, HNSW graph, tantivy index) and empties the log. Compacts
    /// first (see the module docs) when dead positions call for it.
    ///
    /// # Errors
    /// IO failures; the collection stays usable and the log intact.
    pub fn snapshot(&mut self) -> Result<()> {
        let dead = self.docs.len() - self.by_id.len();
        let exact = matches!(self.vectors, AnyVectorIndex::Flat(_));
        if dead > 0 && (exact || self.too_many_dead()) {
            self.compact()?;
        }
        generation::write(
            &self.snapshots,
            &self.manifest,
            &self.docs,
            &self.vectors,
            &mut self.text,
        )?;
        self.wal.reset()?;
        self.batches_since_snapshot = 0;
        Ok(())
    }

    /// Rebuilds both indexes from the live documents, dropping dead positions.
    fn compact(&mut self) -> Result<()> {
        let live: Vec<Document> = self.docs.iter().flatten().cloned().collect();
        let refs: Vec<&Document> = live.iter().collect();
        let vectors = build_vectors(&self.config, &refs)?;
        let text = build_text(&self.config, &refs)?;
        self.by_id = live
            .iter()
            .enumerate()
            .map(|(i, d)| (d.id.clone(), i))
            .collect();
        self.docs = live.into_iter().map(Some).collect();
        self.vectors = vectors;
        self.text = text;
        Ok(())
    }

    /// Searches the live documents.
    ///
    /// # Errors
    /// [`IndexError::InvalidQuery`] when the request lacks what its mode needs or `k` is 0;
    /// a wrong query dimension or a non-finite component.
    pub fn search(&self, request: &SearchRequest<'_>) -> Result<Vec<SearchHit>> {
        self.search_timed(request).map(|(hits, _)| hits)
    }

    /// Like [`search`](Self::search), also returning the time spent in each stage.
    ///
    /// # Errors
    /// As [`search`](Self::search).
    pub fn search_timed(
        &self,
        request: &SearchRequest<'_>,
    ) -> Result<(Vec<SearchHit>, SearchTimings)> {
        if request.k == 0 {
            return Err(IndexError::InvalidQuery("k must be at least 1".to_owned()));
        }
        let mut timings = SearchTimings::default();
        let allowed = |pos: DocIndex| {
            self.docs
                .get(pos)
                .and_then(Option::as_ref)
                .is_some_and(|d| request.filter.is_none_or(|f| f.matches(&d.metadata)))
        };
        let dense = |k: usize, timings: &mut SearchTimings| -> Result<Vec<Hit>> {
            let vector = request.vector.ok_or_else(|| {
                IndexError::InvalidQuery("this mode needs a query vector".to_owned())
            })?;
            let start = Instant::now();
            let hits = self.vectors.search(vector, k, Some(&allowed));
            timings.vector = Some(start.elapsed());
            hits
        };
        let keyword = |k: usize, timings: &mut SearchTimings| -> Result<Vec<Hit>> {
            let text = request.text.ok_or_else(|| {
                IndexError::InvalidQuery("this mode needs a query text".to_owned())
            })?;
            let start = Instant::now();
            let hits = self.text.search(text, k, Some(&allowed));
            timings.bm25 = Some(start.elapsed());
            hits
        };
        let hits = match request.mode {
            SearchMode::Dense => dense(request.k, &mut timings)?,
            SearchMode::Bm25 => keyword(request.k, &mut timings)?,
            SearchMode::Hybrid => {
                let depth = request.k.max(HYBRID_DEPTH);
                let lists = [dense(depth, &mut timings)?, keyword(depth, &mut timings)?];
                let start = Instant::now();
                let fused = match request.fusion {
                    Fusion::Rrf { k } => rrf(&lists, k, request.k)?,
                    Fusion::Weighted { dense_weight } => {
                        weighted_fusion(&lists, &[dense_weight, 1.0 - dense_weight], request.k)?
                    }
                };
                timings.fusion = Some(start.elapsed());
                fused
            }
        };
        let hits = hits
            .into_iter()
            .filter_map(|hit| {
                let doc = self.docs.get(hit.doc)?.as_ref()?;
                Some(SearchHit {
                    id: doc.id.clone(),
                    score: hit.score,
                })
            })
            .collect();
        Ok((hits, timings))
    }
}

/// Takes the folder's exclusive lock, released by the OS when the process ends.
fn lock(dir: &Path) -> Result<std::fs::File> {
    let path = dir.join(LOCK_FILE);
    let file = fs_err::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)?;
    let file = file.into_parts().0;
    file.try_lock()
        .map_err(|_| IndexError::Locked(dir.to_path_buf()))?;
    Ok(file)
}

fn text_docs<'a>(
    start: DocIndex,
    docs: impl IntoIterator<Item = &'a Document>,
) -> Vec<TextDoc<'a>> {
    docs.into_iter()
        .enumerate()
        .map(|(i, d)| TextDoc {
            doc: start + i,
            id: &d.id,
            title: d.title.as_deref(),
            text: &d.text,
        })
        .collect()
}

/// Builds the vector index over `docs` (positions = slice order).
fn build_vectors(config: &CollectionConfig, docs: &[&Document]) -> Result<AnyVectorIndex> {
    let mut vectors = config.vector_index.build(config.dim, config.distance)?;
    let batch: Vec<(DocIndex, &[f32])> = docs
        .iter()
        .enumerate()
        .map(|(i, d)| (i, d.vector.as_slice()))
        .collect();
    if !batch.is_empty() {
        vectors.insert_batch(&batch)?;
    }
    Ok(vectors)
}

/// Builds the keyword index over `docs` (positions = slice order).
fn build_text(config: &CollectionConfig, docs: &[&Document]) -> Result<Bm25Index> {
    let mut text = Bm25Index::create_in_ram(config.bm25.clone())?;
    if !docs.is_empty() {
        text.add(&text_docs(0, docs.iter().copied()))?;
        text.commit()?;
    }
    Ok(text)
}
