//! HNSW parameters, checked before they reach `hnsw_rs`.
//!
//! `hnsw_rs` 0.3.5 does not return errors for bad parameters. Read from its source:
//! * `Hnsw::new` calls `process::exit(1)` when M > 256, and stores M as a `u8` (in
//!   `get_max_nb_connection` and in the dump header), so M = 256 silently becomes 0;
//! * M = 1 makes the level scale `1 / ln(1)` infinite, and M = 0 gives nodes no links;
//! * `ef` sizes binary heaps with `BinaryHeap::with_capacity(ef)`, so a huge value aborts
//!   on allocation, and an `ef_construction` below M caps every node's links at it;
//! * `max_elements` pre-allocates the layer tables, so a huge value aborts as well;
//! * the number of layers is fixed here at the library's maximum (16), since 0 layers makes
//!   `Uniform::new(0, 0)` panic during insertion.

use serde::{Deserialize, Serialize};

use crate::error::{IndexError, Result};

/// The smallest accepted [`HnswConfig::m`].
pub const MIN_M: usize = 2;
/// The largest accepted [`HnswConfig::m`] (`hnsw_rs` keeps M in a `u8`).
pub const MAX_M: usize = 255;
/// The largest accepted `ef_construction` and `ef_search`.
pub const MAX_EF: usize = 10_000;
/// The largest accepted [`HnswConfig::max_elements`] hint.
pub const MAX_ELEMENTS_HINT: usize = 100_000_000;

/// Which implementation builds and searches the HNSW graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HnswEngine {
    /// pairwise's own graph (`native/`): neighbour ids in flat `u32` arrays beside the one
    /// copy of the vectors, hnswlib's neighbour heuristic. Several times faster and smaller
    /// than `hnsw_rs` (docs/RESULTS.md, "HNSW against hnswlib").
    #[default]
    Native,
    /// The `hnsw_rs` crate's graph, the engine of indexes saved before format version 2.
    HnswRs,
}

/// Parameters of an HNSW graph (Malkov & Yashunin, 2016).
///
/// Every field has a default; unknown fields are rejected so that a typo does not silently
/// fall back to a default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HnswConfig {
    /// Links per node and layer (M); the bottom layer keeps twice as many. More links raise
    /// recall and memory. From [`MIN_M`] to [`MAX_M`]; default 16.
    pub m: usize,
    /// Candidates examined when linking a new node; higher builds a better graph, slower.
    /// From `m` to [`MAX_EF`]; default 200.
    pub ef_construction: usize,
    /// Candidates examined per query unless a query overrides it; higher raises recall and
    /// latency. A query looks at `max(ef_search, k)` candidates. From 1 to [`MAX_EF`];
    /// default 64.
    pub ef_search: usize,
    /// Expected number of vectors: only pre-sizes the graph's tables, the index grows past
    /// it. Up to [`MAX_ELEMENTS_HINT`]; default 10,000.
    pub max_elements: usize,
    /// The implementation; default [`HnswEngine::Native`].
    pub engine: HnswEngine,
}

impl Default for HnswConfig {
    fn default() -> Self {
        Self {
            m: 16,
            ef_construction: 200,
            ef_search: 64,
            max_elements: 10_000,
            engine: HnswEngine::Native,
        }
    }
}

impl HnswConfig {
    /// Checks every parameter against the ranges that `hnsw_rs` handles.
    ///
    /// # Errors
    /// [`IndexError::InvalidParameter`] naming the first bad field, its value and its range.
    pub fn validate(&self) -> Result<()> {
        check_range("m", self.m, MIN_M, MAX_M)?;
        check_range("ef_construction", self.ef_construction, self.m, MAX_EF)?;
        check_ef_search(self.ef_search)?;
        check_range("max_elements", self.max_elements, 0, MAX_ELEMENTS_HINT)
    }
}

/// Checks a search-time `ef`, from the configuration or a query.
pub(crate) fn check_ef_search(ef_search: usize) -> Result<()> {
    check_range("ef_search", ef_search, 1, MAX_EF)
}

fn check_range(name: &str, value: usize, min: usize, max: usize) -> Result<()> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(IndexError::InvalidParameter(format!(
            "hnsw {name} is {value}, it must be between {min} and {max}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rejected(config: HnswConfig, field: &str) {
        let err = config.validate().unwrap_err();
        assert!(
            matches!(&err, IndexError::InvalidParameter(message) if message.contains(field)),
            "{config:?} gave {err:?}"
        );
    }

    #[test]
    fn defaults_are_valid_and_documented_values() {
        let config = HnswConfig::default();
        config.validate().unwrap();
        assert_eq!(
            (config.m, config.ef_construction, config.ef_search),
            (16, 200, 64)
        );
    }

    #[test]
    fn parameters_that_would_exit_panic_or_abort_in_hnsw_rs_are_rejected() {
        let base = HnswConfig::default();
        for m in [0, 1, 256, 257, usize::MAX] {
            rejected(HnswConfig { m, ..base }, "m is");
        }
        for ef_construction in [0, 15, MAX_EF + 1, usize::MAX] {
            rejected(
                HnswConfig {
                    ef_construction,
                    ..base
                },
                "ef_construction",
            );
        }
        for ef_search in [0, MAX_EF + 1, usize::MAX] {
            rejected(HnswConfig { ef_search, ..base }, "ef_search");
        }
        rejected(
            HnswConfig {
                max_elements: usize::MAX,
                ..base
            },
            "max_elements",
        );
        let edge = HnswConfig {
            m: MAX_M,
            ef_construction: MAX_M,
            ef_search: 1,
            max_elements: 0,
            engine: HnswEngine::HnswRs,
        };
        edge.validate().unwrap();
    }

    #[test]
    fn serde_fills_defaults_and_rejects_unknown_fields() {
        let config: HnswConfig = serde_json::from_str(r#"{"m": 32}"#).unwrap();
        assert_eq!(
            config,
            HnswConfig {
                m: 32,
                ..HnswConfig::default()
            }
        );
        let rs: HnswConfig = serde_json::from_str(r#"{"engine": "hnsw_rs"}"#).unwrap();
        assert_eq!(rs.engine, HnswEngine::HnswRs);
        let typo = serde_json::from_str::<HnswConfig>(r#"{"ef_constrution": 100}"#);
        assert!(typo.unwrap_err().to_string().contains("unknown field"));
    }
}
