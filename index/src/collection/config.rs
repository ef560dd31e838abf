//! A collection's settings, fixed at creation and kept in its manifest.

use serde::{Deserialize, Serialize};

use crate::error::{IndexError, Result};
use crate::text::Bm25Config;
use crate::vector::{Distance, VectorIndexConfig};

/// Everything that defines a collection's indexes and maintenance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CollectionConfig {
    /// The vectors' width.
    pub dim: usize,
    /// How vectors are compared.
    pub distance: Distance,
    /// The embedding model the vectors come from (a model folder or a name), when known.
    pub model_id: Option<String>,
    /// The vector index (HNSW by default, or exact).
    pub vector_index: VectorIndexConfig,
    /// The keyword index.
    pub bm25: Bm25Config,
    /// Write a snapshot (and empty the log) after this many logged batches.
    pub snapshot_every_batches: u64,
    /// Compact (rebuild both indexes without deleted documents) at the next snapshot once this
    /// fraction of positions, and over 1,000 of them, is dead; until then deleted documents
    /// stay in the snapshot as tombstones. An exact index compacts at every snapshot.
    pub max_dead_fraction: f32,
}

impl Default for CollectionConfig {
    fn default() -> Self {
        Self {
            dim: 384,
            distance: Distance::Cosine,
            model_id: None,
            vector_index: VectorIndexConfig::default(),
            bm25: Bm25Config::default(),
            snapshot_every_batches: 1000,
            max_dead_fraction: 0.2,
        }
    }
}

impl CollectionConfig {
    /// Checks every setting, the sub-indexes' included, before anything is created.
    ///
    /// # Errors
    /// [`IndexError::InvalidParameter`] naming the offending setting.
    pub fn validate(&self) -> Result<()> {
        let invalid = |m: String| Err(IndexError::InvalidParameter(m));
        if self.dim == 0 || self.dim > 65_536 {
            return invalid(format!("dim must lie in 1..=65536, got {}", self.dim));
        }
        if self.snapshot_every_batches == 0 {
            return invalid("snapshot_every_batches must be at least 1".to_owned());
        }
        if !(self.max_dead_fraction > 0.0 && self.max_dead_fraction <= 1.0) {
            return invalid(format!(
                "max_dead_fraction must lie in (0, 1], got {}",
                self.max_dead_fraction
            ));
        }
        self.bm25.validate()?;
        self.vector_index.build(self.dim, self.distance).map(|_| ())
    }
}
