//! The graph behind an [`HnswIndex`](super::HnswIndex): one of the two engines that
//! [`HnswEngine`] names, behind one interface.

use std::ops::Range;

use crate::error::Result;
use crate::hit::{DocIndex, Hit};
use crate::vector::base::DocFilter;
use crate::vector::distance::Distance;
use crate::vector::flat::{top_k_hits, FlatIndex};
use crate::vector::hnsw::config::{HnswConfig, HnswEngine};
use crate::vector::hnsw::graph::HnswRsGraph;
use crate::vector::hnsw::native::NativeGraph;

/// An HNSW graph over the vectors of a [`FlatIndex`] (node `i` = row `i`).
pub(crate) enum Graph {
    /// Our own graph, which reads the index's vectors.
    Native(Box<NativeGraph>),
    /// `hnsw_rs`'s graph, which keeps its own copy of the vectors.
    HnswRs(HnswRsGraph),
}

impl Graph {
    /// An empty graph; `config` must be validated.
    pub(crate) fn new(config: &HnswConfig, distance: Distance) -> Self {
        match config.engine {
            HnswEngine::Native => {
                let mut graph = NativeGraph::new(config.m, config.ef_construction, distance);
                graph.reserve(config.max_elements);
                Self::Native(Box::new(graph))
            }
            HnswEngine::HnswRs => Self::HnswRs(HnswRsGraph::new(config, distance)),
        }
    }

    /// The number of vectors in the graph.
    pub(crate) fn len(&self) -> usize {
        match self {
            Self::Native(graph) => graph.len(),
            Self::HnswRs(graph) => graph.len(),
        }
    }

    /// Links the rows `new` of `vectors` (the next positions), in parallel.
    ///
    /// # Errors
    /// As [`NativeGraph::insert`] (`hnsw_rs` reports none).
    pub(crate) fn insert(&mut self, vectors: &FlatIndex, new: Range<DocIndex>) -> Result<()> {
        let dim = vectors.dim();
        match self {
            Self::Native(graph) => graph.insert(vectors.rows(), dim, new),
            Self::HnswRs(graph) => {
                let fresh = vectors.rows().get(new.start * dim..).unwrap_or_default();
                let rows: Vec<(&[f32], DocIndex)> = fresh.chunks_exact(dim).zip(new).collect();
                graph.insert(&rows);
                Ok(())
            }
        }
    }

    /// At most `k` allowed hits for a prepared query, best first, searching `max(ef, k)`
    /// candidates; scores as [`FlatIndex`]'s.
    pub(crate) fn search(
        &self,
        vectors: &FlatIndex,
        query: &[f32],
        (k, ef): (usize, usize),
        filter: Option<DocFilter<'_>>,
    ) -> Vec<Hit> {
        match self {
            Self::Native(graph) => {
                graph.search(vectors.rows(), vectors.dim(), query, (k, ef), filter)
            }
            Self::HnswRs(graph) => {
                // `hnsw_rs` may hand back a filtered-out entry point, and its distances are
                // remapped (see `graph_distance`): filter again and score from our vectors.
                let hits = graph
                    .search(query, k.max(ef), ef, filter)
                    .into_iter()
                    .filter(|&doc| filter.is_none_or(|allowed| allowed(doc)))
                    .filter_map(|doc| {
                        let score = vectors.score_prepared(query, doc)?;
                        Some(Hit { doc, score })
                    })
                    .collect();
                top_k_hits(hits, k)
            }
        }
    }
}
