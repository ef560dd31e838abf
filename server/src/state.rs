//! [`AppState`]: the configuration, the open collections, the encoders and the metrics that
//! every handler shares.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use pairwise_index::{Collection, CollectionConfig};

use crate::config::ServerConfig;
use crate::encoder::{EncoderHandle, Encoders};
use crate::error::ApiError;
use crate::metrics::Metrics;

/// Longest collection or model name.
const MAX_NAME_LEN: usize = 64;

/// Whether `name` may name a collection or a model: 1-64 ASCII letters, digits, `-` or `_`
/// (so it is always a plain folder name).
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// One open collection. Index work takes the lock inside `spawn_blocking`, never on the
/// executor; `None` once the collection has been deleted.
#[derive(Debug)]
pub struct CollectionSlot {
    name: String,
    lock: RwLock<Option<Collection>>,
    dirty: AtomicBool,
}

impl CollectionSlot {
    fn new(name: String, collection: Collection) -> Self {
        Self {
            name,
            lock: RwLock::new(Some(collection)),
            dirty: AtomicBool::new(false),
        }
    }

    /// The collection's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs `f` with shared access. Blocking: call it from `spawn_blocking`.
    ///
    /// # Errors
    /// 404 when the collection was deleted meanwhile; whatever `f` returns.
    pub fn read<T>(
        &self,
        f: impl FnOnce(&Collection) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let guard = self
            .lock
            .read()
            .map_err(|_| ApiError::Internal("a collection lock is poisoned".to_owned()))?;
        let collection = guard
            .as_ref()
            .ok_or_else(|| ApiError::no_collection(&self.name))?;
        f(collection)
    }

    /// Runs `f` with exclusive access. Blocking: call it from `spawn_blocking`.
    ///
    /// # Errors
    /// 404 when the collection was deleted meanwhile; whatever `f` returns.
    pub fn write<T>(
        &self,
        f: impl FnOnce(&mut Collection) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let mut guard = self
            .lock
            .write()
            .map_err(|_| ApiError::Internal("a collection lock is poisoned".to_owned()))?;
        let collection = guard
            .as_mut()
            .ok_or_else(|| ApiError::no_collection(&self.name))?;
        self.dirty.store(true, Ordering::Release);
        f(collection)
    }

    /// Closes the collection (dropping it releases its folder lock) and returns its folder.
    fn close(&self) -> Result<Option<PathBuf>, ApiError> {
        let mut guard = self
            .lock
            .write()
            .map_err(|_| ApiError::Internal("a collection lock is poisoned".to_owned()))?;
        Ok(guard.take().map(|c| c.dir().to_path_buf()))
    }

    /// Writes a snapshot when the collection changed since it was opened, so the next start
    /// replays no log, then closes it.
    fn flush_and_close(&self) -> Result<(), ApiError> {
        let mut guard = self
            .lock
            .write()
            .map_err(|_| ApiError::Internal("a collection lock is poisoned".to_owned()))?;
        if let Some(mut collection) = guard.take() {
            if self.dirty.load(Ordering::Acquire) {
                collection.snapshot()?;
            }
        }
        Ok(())
    }
}

struct Inner {
    config: ServerConfig,
    default_model: PathBuf,
    metrics: Metrics,
    encoders: Encoders,
    collections: RwLock<BTreeMap<String, Arc<CollectionSlot>>>,
    ready: AtomicBool,
}

/// The state every handler shares; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("data_dir", &self.inner.config.data_dir)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// State with no collection open and no model loaded yet (see [`load`](Self::load));
    /// `default_model` is the resolved default model folder.
    ///
    /// # Errors
    /// [`ApiError::Internal`] when the metrics cannot be registered.
    pub fn new(config: ServerConfig, default_model: PathBuf) -> Result<Self, ApiError> {
        let metrics = Metrics::new()?;
        let encoders = Encoders::new(config.encoder.clone(), metrics.clone());
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                default_model,
                metrics,
                encoders,
                collections: RwLock::new(BTreeMap::new()),
                ready: AtomicBool::new(false),
            }),
        })
    }

    /// [`new`](Self::new), then [`load`](Self::load).
    ///
    /// # Errors
    /// As both.
    pub async fn open(config: ServerConfig, default_model: PathBuf) -> Result<Self, ApiError> {
        let state = Self::new(config, default_model)?;
        state.load().await?;
        Ok(state)
    }

    /// Opens every collection under the data folder and loads the default model; the server
    /// is ready afterwards. A collection that cannot be opened is logged and skipped.
    ///
    /// # Errors
    /// The data folder cannot be created or read, or the default model does not load.
    pub async fn load(&self) -> Result<(), ApiError> {
        let data_dir = self.inner.config.data_dir.clone();
        let opened = tokio::task::spawn_blocking(move || open_all(&data_dir)).await??;
        {
            let mut map = self.collections_write()?;
            for (name, collection) in opened {
                map.insert(
                    name.clone(),
                    Arc::new(CollectionSlot::new(name, collection)),
                );
            }
        }
        self.inner.encoders.get(&self.inner.default_model).await?;
        // Load the collections' own models now, so their first query does not pay for it; a
        // model that cannot be loaded is logged, and that collection answers 503 on encoding.
        let models: std::collections::BTreeSet<String> = self
            .collections_read()?
            .values()
            .filter_map(|slot| {
                slot.read(|c| Ok(c.config().model_id.clone()))
                    .ok()
                    .flatten()
            })
            .collect();
        for model in models {
            if let Err(error) = self.inner.encoders.get(Path::new(&model)).await {
                tracing::error!(model, %error, "cannot load a collection's model");
            }
        }
        self.inner.ready.store(true, Ordering::Release);
        tracing::info!(collections = self.collections_read()?.len(), "ready");
        Ok(())
    }

    /// Whether [`load`](Self::load) has finished.
    pub fn is_ready(&self) -> bool {
        self.inner.ready.load(Ordering::Acquire)
    }

    /// The configuration.
    pub fn config(&self) -> &ServerConfig {
        &self.inner.config
    }

    /// The metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// The default model folder.
    pub fn default_model(&self) -> &Path {
        &self.inner.default_model
    }

    /// The encoder for `model`, `None` meaning the default.
    ///
    /// # Errors
    /// 503 while loading, or when the model cannot be loaded.
    pub async fn encoder(&self, model: Option<&Path>) -> Result<EncoderHandle, ApiError> {
        if !self.is_ready() {
            return Err(ApiError::NotReady);
        }
        self.inner
            .encoders
            .get(model.unwrap_or(&self.inner.default_model))
            .await
    }

    /// The encoder for a collection: the model its manifest records, else the default.
    ///
    /// # Errors
    /// As [`encoder`](Self::encoder).
    pub async fn encoder_for(&self, config: &CollectionConfig) -> Result<EncoderHandle, ApiError> {
        let model = config.model_id.as_deref().map(Path::new);
        self.encoder(model).await
    }

    /// The open collection called `name`.
    ///
    /// # Errors
    /// 404 when there is none; 503 while loading.
    pub fn collection(&self, name: &str) -> Result<Arc<CollectionSlot>, ApiError> {
        if !self.is_ready() {
            return Err(ApiError::NotReady);
        }
        self.collections_read()?
            .get(name)
            .cloned()
            .ok_or_else(|| ApiError::no_collection(name))
    }

    /// Every open collection, by name.
    ///
    /// # Errors
    /// 503 while loading.
    pub fn collections(&self) -> Result<Vec<Arc<CollectionSlot>>, ApiError> {
        if !self.is_ready() {
            return Err(ApiError::NotReady);
        }
        Ok(self.collections_read()?.values().cloned().collect())
    }

    /// Creates a collection folder under the data folder. Blocking.
    ///
    /// # Errors
    /// 422 for a bad name or config; 409 when the name is taken.
    pub fn create_collection(
        &self,
        name: &str,
        config: CollectionConfig,
    ) -> Result<Arc<CollectionSlot>, ApiError> {
        if !valid_name(name) {
            return Err(ApiError::Unprocessable(format!(
                "collection name {name:?} must be 1-64 letters, digits, '-' or '_'"
            )));
        }
        let mut map = self.collections_write()?;
        let dir = self.inner.config.data_dir.join(name);
        if map.contains_key(name) || dir.exists() {
            return Err(ApiError::Conflict(format!(
                "a collection named {name:?} exists"
            )));
        }
        let collection = Collection::create(&dir, config)?;
        let slot = Arc::new(CollectionSlot::new(name.to_owned(), collection));
        map.insert(name.to_owned(), Arc::clone(&slot));
        Ok(slot)
    }

    /// Deletes a collection and its folder. Blocking.
    ///
    /// # Errors
    /// 404 when there is none; IO failures.
    pub fn delete_collection(&self, name: &str) -> Result<(), ApiError> {
        let slot = self
            .collections_write()?
            .remove(name)
            .ok_or_else(|| ApiError::no_collection(name))?;
        if let Some(dir) = slot.close()? {
            fs_err::remove_dir_all(&dir)
                .map_err(|e| ApiError::Internal(format!("cannot remove a collection: {e}")))?;
        }
        Ok(())
    }

    /// Snapshots the collections that changed, closes every collection and stops the encoders:
    /// the end of a graceful shutdown.
    pub async fn close(&self) {
        let slots: Vec<Arc<CollectionSlot>> = match self.collections_write() {
            Ok(mut map) => std::mem::take(&mut *map).into_values().collect(),
            Err(_) => Vec::new(),
        };
        let flushed = tokio::task::spawn_blocking(move || {
            for slot in slots {
                if let Err(error) = slot.flush_and_close() {
                    tracing::error!(collection = slot.name(), %error, "cannot snapshot on exit");
                }
            }
        })
        .await;
        if let Err(error) = flushed {
            tracing::error!(%error, "closing the collections failed");
        }
        self.inner.encoders.stop().await;
        tracing::info!("collections closed");
    }

    fn collections_read(
        &self,
    ) -> Result<std::sync::RwLockReadGuard<'_, BTreeMap<String, Arc<CollectionSlot>>>, ApiError>
    {
        self.inner
            .collections
            .read()
            .map_err(|_| ApiError::Internal("the collection map lock is poisoned".to_owned()))
    }

    fn collections_write(
        &self,
    ) -> Result<std::sync::RwLockWriteGuard<'_, BTreeMap<String, Arc<CollectionSlot>>>, ApiError>
    {
        self.inner
            .collections
            .write()
            .map_err(|_| ApiError::Internal("the collection map lock is poisoned".to_owned()))
    }
}

/// Opens every collection folder under `data_dir` (creating the folder when missing).
fn open_all(data_dir: &Path) -> Result<Vec<(String, Collection)>, ApiError> {
    let io = |e: std::io::Error| ApiError::Internal(format!("data folder: {e}"));
    fs_err::create_dir_all(data_dir).map_err(io)?;
    let mut opened = Vec::new();
    for entry in fs_err::read_dir(data_dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()).map(str::to_owned) else {
            continue;
        };
        if !valid_name(&name) || !path.join("snapshots").is_dir() {
            continue;
        }
        match Collection::open(&path) {
            Ok((collection, report)) => {
                tracing::info!(
                    collection = name,
                    documents = collection.count(),
                    replayed = report.replayed_batches,
                    "collection opened"
                );
                opened.push((name, collection));
            }
            Err(error) => tracing::error!(collection = name, %error, "cannot open; skipped"),
        }
    }
    Ok(opened)
}

#[cfg(test)]
mod tests {
    use super::valid_name;

    #[test]
    fn names_are_plain_folder_names() {
        for good in ["a", "scifact", "my-coll_2", &"x".repeat(64)] {
            assert!(valid_name(good), "{good}");
        }
        for bad in ["", "..", "a/b", ".hidden", "a b", "é", &"x".repeat(65)] {
            assert!(!valid_name(bad), "{bad}");
        }
    }
}
