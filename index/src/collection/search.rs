//! Search requests over a collection: dense, keyword (BM25) or hybrid.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::collection::Filter;
use crate::fusion::DEFAULT_RRF_K;

/// Which index answers a search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SearchMode {
    /// Vector similarity.
    #[default]
    Dense,
    /// BM25 over title and text.
    Bm25,
    /// Both, fused.
    Hybrid,
}

impl std::str::FromStr for SearchMode {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "dense" => Ok(Self::Dense),
            "bm25" => Ok(Self::Bm25),
            "hybrid" => Ok(Self::Hybrid),
            other => Err(format!(
                "unknown mode {other:?}; expected dense, bm25 or hybrid"
            )),
        }
    }
}

/// How hybrid search fuses the dense and keyword rankings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Fusion {
    /// Reciprocal rank fusion with constant `k`.
    Rrf {
        /// The RRF constant (60 in the paper).
        k: f32,
    },
    /// Min-max normalised scores, weighted: `dense_weight` on the dense list, the rest on BM25.
    Weighted {
        /// Weight of the dense list in [0, 1].
        dense_weight: f32,
    },
}

impl Default for Fusion {
    fn default() -> Self {
        Self::Rrf { k: DEFAULT_RRF_K }
    }
}

/// One search.
#[derive(Debug, Clone, Default)]
pub struct SearchRequest<'a> {
    /// The query embedding (needed by dense and hybrid search).
    pub vector: Option<&'a [f32]>,
    /// The query text (needed by BM25 and hybrid search).
    pub text: Option<&'a str>,
    /// Which index answers.
    pub mode: SearchMode,
    /// How many hits to return.
    pub k: usize,
    /// Only documents whose metadata match.
    pub filter: Option<&'a Filter>,
    /// How hybrid search fuses the two rankings.
    pub fusion: Fusion,
}

/// One result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchHit {
    /// The document's id.
    pub id: String,
    /// Its score under the request's mode (cosine, BM25 or fused); higher is better.
    pub score: f32,
}

/// Time spent in each stage of one search; `None` for a stage the mode skips.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SearchTimings {
    /// The vector index (dense and hybrid).
    pub vector: Option<Duration>,
    /// The keyword index (BM25 and hybrid).
    pub bm25: Option<Duration>,
    /// Fusing the two rankings (hybrid).
    pub fusion: Option<Duration>,
}

/// Candidates taken from each list before hybrid fusion.
pub(crate) const HYBRID_DEPTH: usize = 100;
