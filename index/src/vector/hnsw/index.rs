//! [`HnswIndex`]: approximate search on an `hnsw_rs` graph, completed by exact search where
//! the graph would be slower or could come back short.

use std::fmt;

use crate::error::Result;
use crate::hit::{DocIndex, Hit};
use crate::vector::base::{DocFilter, VectorIndex};
use crate::vector::distance::Distance;
use crate::vector::flat::{top_k_hits, FlatIndex};
use crate::vector::hnsw::config::{check_ef_search, HnswConfig};
use crate::vector::hnsw::graph::Graph;

/// How many documents a filter is tried on to estimate the share it allows.
const FILTER_SAMPLE: usize = 256;

/// Approximate nearest-neighbour search on an HNSW graph (Malkov & Yashunin, 2016).
///
/// Scores are those of [`FlatIndex`] ([`Distance::similarity`]: cosine similarity, raw dot
/// product, negative Euclidean distance), computed from the stored vectors, so exact and
/// approximate hits compare directly. The index keeps its own copy of the (prepared) vectors
/// beside the graph's: it serves exact search and scoring, and costs `4 · dim` bytes per
/// vector on top of the graph.
///
/// # When the search is exact
/// With `n` vectors, `k` hits asked for, `ef = max(ef_search, k)` and a filter that allows
/// a share `a` of the documents (`a = 1` without a filter, estimated on 256 documents spread
/// over the index), a graph search computes about
/// `2M · ef / a` similarities (it must see `ef` allowed candidates, and bottom-layer nodes
/// have `2M` links) and an exact scan `a · n` of them. The search is exact when
/// `a² · n ≤ 2M · ef`: for every query on a small index (n ≤ 2,048 at the defaults), and
/// for filters allowing under 14% of 100k documents or under 4.5% of 1M. It is also exact
/// when `k ≥ n`, and when a graph search returns fewer than `k` hits, so that a filter
/// never yields fewer than `k` hits while `k` documents are allowed.
///
/// # Persistence
/// [`save`](Self::save) writes a folder with our vectors (little-endian `f32`), the graph as
/// `hnsw_rs`'s own dump, and a JSON manifest (format name and version, platform, dimension,
/// distance, configuration, and each file's length and CRC-32) that is replaced atomically
/// last; [`open`](Self::open) checks every file against the manifest before `hnsw_rs` reads
/// it, since `hnsw_rs` asserts, unwraps and may read out of bounds on damaged input. The
/// reloaded graph borrows from `hnsw_rs`'s `HnswIo`, which the index owns beside it through
/// `self_cell` (no `unsafe` in this crate).
///
/// The graph is persisted rather than rebuilt from the vectors on open: parallel insertion
/// depends on thread timing, so a rebuild would not return the same top-k as before the save,
/// and it costs a full build. Measured on two busy cores with 100k clustered vectors of
/// dimension 128 at the default parameters: build 72 s, save 0.5 s, open 1.0 s, 159 MB on
/// disk (the vectors are stored twice, ours and the dump's, then the links). The dump is
/// native-endian, so an index opens only on a platform of the same endianness and word size.
pub struct HnswIndex {
    pub(super) config: HnswConfig,
    pub(super) vectors: FlatIndex,
    pub(super) graph: Graph,
}

impl fmt::Debug for HnswIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HnswIndex")
            .field("dim", &self.vectors.dim())
            .field("distance", &self.vectors.distance())
            .field("len", &self.vectors.len())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl HnswConfig {
    /// An empty [`HnswIndex`] of `dim`-wide vectors with these parameters.
    ///
    /// # Errors
    /// As [`HnswIndex::new`].
    pub fn build(&self, dim: usize, distance: Distance) -> Result<HnswIndex> {
        HnswIndex::new(dim, distance, self)
    }
}

impl HnswIndex {
    /// An empty index of `dim`-wide vectors.
    ///
    /// # Errors
    /// [`IndexError::InvalidParameter`](crate::IndexError::InvalidParameter) for a zero `dim`
    /// or a `config` that fails [`HnswConfig::validate`]; nothing reaches `hnsw_rs` before.
    pub fn new(dim: usize, distance: Distance, config: &HnswConfig) -> Result<Self> {
        config.validate()?;
        let vectors = FlatIndex::new(dim, distance)?;
        Ok(Self {
            config: *config,
            vectors,
            graph: Graph::new(config, distance),
        })
    }

    /// The parameters the index was built with.
    pub fn config(&self) -> &HnswConfig {
        &self.config
    }

    /// [`VectorIndex::search`] with this query's own `ef_search` instead of the configured one.
    ///
    /// # Errors
    /// [`IndexError::InvalidParameter`](crate::IndexError::InvalidParameter) for an
    /// `ef_search` out of `1..=MAX_EF`, and the errors of [`VectorIndex::search`].
    pub fn search_with_ef(
        &self,
        query: &[f32],
        k: usize,
        ef_search: usize,
        filter: Option<DocFilter<'_>>,
    ) -> Result<Vec<Hit>> {
        check_ef_search(ef_search)?;
        let query = self.vectors.prepare(query)?;
        let k = k.min(self.vectors.len());
        if k == 0 {
            return Ok(Vec::new());
        }
        if !self.prefers_exact(k, ef_search, filter) {
            let hits = self.search_graph(&query, k, ef_search, filter);
            if hits.len() == k {
                return Ok(hits);
            }
        }
        Ok(self.vectors.search_prepared(&query, k, filter))
    }

    /// The graph's answer alone for a prepared query: at most `k` allowed hits, best first.
    pub(super) fn search_graph(
        &self,
        query: &[f32],
        k: usize,
        ef_search: usize,
        filter: Option<DocFilter<'_>>,
    ) -> Vec<Hit> {
        let candidates = self
            .graph
            .search(query, k.max(ef_search), ef_search, filter);
        let hits = candidates
            .into_iter()
            .filter(|&doc| filter.is_none_or(|allowed| allowed(doc)))
            .filter_map(|doc| {
                let score = self.vectors.score_prepared(query, doc)?;
                Some(Hit { doc, score })
            })
            .collect();
        top_k_hits(hits, k)
    }

    /// Whether an exact scan is expected to be cheaper than the graph (see the type's docs).
    pub(super) fn prefers_exact(
        &self,
        k: usize,
        ef_search: usize,
        filter: Option<DocFilter<'_>>,
    ) -> bool {
        let n = self.vectors.len();
        if k >= n {
            return true;
        }
        let graph_cost = 2 * self.config.m as u128 * ef_search.max(k) as u128;
        let (allowed, sampled) = match filter {
            None => (1, 1),
            Some(allowed) => sample_filter(allowed, n),
        };
        // a² · n ≤ 2M · ef, with a = allowed / sampled, in integers.
        allowed * allowed * n as u128 <= graph_cost * sampled * sampled
    }
}

/// Tries `filter` on up to [`FILTER_SAMPLE`] documents of `0..n` spread by the golden-ratio
/// sequence (deterministic, and blind to periodic patterns such as even positions); returns
/// `(allowed, sampled)`.
fn sample_filter(filter: DocFilter<'_>, n: usize) -> (u128, u128) {
    if n <= FILTER_SAMPLE {
        let allowed = (0..n).filter(|&doc| filter(doc)).count();
        return (allowed as u128, n as u128);
    }
    const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;
    let allowed = (1..=FILTER_SAMPLE as u64)
        .map(|j| ((u128::from(j.wrapping_mul(GOLDEN)) * n as u128) >> 64) as DocIndex)
        .filter(|&doc| filter(doc))
        .count();
    (allowed as u128, FILTER_SAMPLE as u128)
}

impl VectorIndex for HnswIndex {
    fn dim(&self) -> usize {
        self.vectors.dim()
    }

    fn distance(&self) -> Distance {
        self.vectors.distance()
    }

    fn len(&self) -> usize {
        self.vectors.len()
    }

    /// Validates and stores the whole batch, then links it into the graph in parallel
    /// (`hnsw_rs` inserts with rayon; the graph depends on thread timing, so two builds from
    /// the same vectors may differ slightly).
    fn insert_batch(&mut self, batch: &[(DocIndex, &[f32])]) -> Result<()> {
        let start = self.vectors.len();
        self.vectors.insert_batch(batch)?;
        let dim = self.vectors.dim();
        let fresh = self.vectors.rows().get(start * dim..).unwrap_or_default();
        let rows: Vec<(&[f32], DocIndex)> = fresh.chunks_exact(dim).zip(start..).collect();
        self.graph.insert(&rows);
        Ok(())
    }

    fn search(&self, query: &[f32], k: usize, filter: Option<DocFilter<'_>>) -> Result<Vec<Hit>> {
        self.search_with_ef(query, k, self.config.ef_search, filter)
    }
}
