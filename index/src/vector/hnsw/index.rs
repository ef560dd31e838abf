//! [`HnswIndex`]: approximate search on an HNSW graph, completed by exact search where the
//! graph would be slower or could come back short.

use std::fmt;

use crate::error::Result;
use crate::hit::{DocIndex, Hit};
use crate::vector::base::{DocFilter, VectorIndex};
use crate::vector::distance::Distance;
use crate::vector::flat::FlatIndex;
use crate::vector::hnsw::config::{check_ef_search, HnswConfig};
use crate::vector::hnsw::engine::Graph;

/// How many documents a filter is tried on to estimate the share it allows.
const FILTER_SAMPLE: usize = 256;

/// Approximate nearest-neighbour search on an HNSW graph (Malkov & Yashunin, 2016).
///
/// Scores are those of [`FlatIndex`] ([`Distance::similarity`]: cosine similarity, raw dot
/// product, negative Euclidean distance), bit for bit, so exact and approximate hits compare
/// directly. The index stores the (prepared) vectors once; the native graph
/// ([`HnswEngine::Native`](super::HnswEngine), the default) reads them and adds about
/// `4 · (2M + 1)` bytes per vector of links, while an `hnsw_rs` graph keeps a second copy of
/// each vector and an `Arc` per link.
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
/// [`save`](Self::save) writes a folder with the vectors (little-endian `f32`), the graph, and
/// a JSON manifest (format name and version, platform, dimension, distance, configuration
/// with the engine, and each file's length and CRC-32) that is replaced atomically last;
/// [`open`](Self::open) checks every file against the manifest before reading it. The native
/// graph is one little-endian file whose every count, id and layer is checked again as it is
/// decoded. An `hnsw_rs` graph is that library's own dump, native-endian (so it opens only on
/// a platform of the same endianness and word size), and must be verified first since
/// `hnsw_rs` asserts, unwraps and may read out of bounds on damaged input; the reloaded graph
/// borrows from `hnsw_rs`'s `HnswIo`, which the index owns beside it through `self_cell`.
///
/// The graph is persisted rather than rebuilt from the vectors on open: parallel insertion
/// depends on thread timing, so a rebuild would not return the same top-k as before the save,
/// and it costs a full build. Measured on two cores with 100k clustered vectors of dimension
/// 128 at the default parameters, native engine (three runs of the ignored test
/// `time_build_save_and_open_of_100k_vectors`): build 5.4-5.7 s, save 0.27-0.33 s, open
/// 0.20-0.36 s, 64 MB on disk (vectors 51 MB, links 13 MB); with `hnsw_rs` (busy cores): build 72 s, save
/// 0.5 s, open 1.0 s, 159 MB (the vectors twice, then the links).
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
        let mut vectors = FlatIndex::new(dim, distance)?;
        vectors.reserve(config.max_elements);
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
        self.graph
            .search(&self.vectors, query, (k, ef_search), filter)
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

    /// Validates and stores the whole batch, then links it into the graph in parallel on the
    /// current rayon pool (the graph depends on thread timing, so two builds from the same
    /// vectors may differ slightly).
    fn insert_batch(&mut self, batch: &[(DocIndex, &[f32])]) -> Result<()> {
        let start = self.vectors.len();
        if u32::try_from(start + batch.len()).is_err() {
            return Err(crate::error::IndexError::InvalidParameter(format!(
                "an hnsw index holds at most {} vectors",
                u32::MAX
            )));
        }
        self.vectors.insert_batch(batch)?;
        self.graph.insert(&self.vectors, start..self.vectors.len())
    }

    fn search(&self, query: &[f32], k: usize, filter: Option<DocFilter<'_>>) -> Result<Vec<Hit>> {
        self.search_with_ef(query, k, self.config.ef_search, filter)
    }
}
