//! Our own HNSW graph (Malkov & Yashunin, 2016, with hnswlib's neighbour-selection heuristic),
//! built for speed and memory: neighbour ids as flat `u32` arrays beside the index's one copy
//! of the vectors, a pooled visited set, distances that become the hits' scores, and parallel
//! insertion with a lock per list stripe, as hnswlib does.
//!
//! * `links.rs`: the lists; `search.rs`: greedy descent and layer search; `insert.rs`:
//!   linking a new node; `codec.rs`: the saved form; `metric.rs`: the distance per metric;
//!   `visited.rs`: per-search memory.

mod codec;
mod insert;
mod links;
pub(crate) mod metric;
mod search;
mod visited;

use std::sync::{Mutex, PoisonError};

use crate::hit::Hit;
use crate::vector::base::DocFilter;
use crate::vector::distance::Distance;
use crate::vector::hnsw::native::links::Links;
use crate::vector::hnsw::native::metric::{with_metric, Metric};
use crate::vector::hnsw::native::search::{Rows, Walk};
use crate::vector::hnsw::native::visited::{Near, ScratchPool};

/// The entry point of every search: a node on the top layer, and that layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Entry {
    node: u32,
    level: usize,
}

/// An HNSW graph over vectors that the caller stores (node `i` = row `i`).
#[derive(Debug)]
pub(crate) struct NativeGraph {
    links: Links,
    ef_construction: usize,
    distance: Distance,
    entry: Mutex<Option<Entry>>,
    /// Held for the whole insertion of a node that raises the top layer (hnswlib's rule).
    raise: Mutex<()>,
    scratch: ScratchPool,
}

impl NativeGraph {
    /// An empty graph with `m` links per upper-layer list (`2m` on the bottom layer);
    /// parameters must be validated.
    pub(crate) fn new(m: usize, ef_construction: usize, distance: Distance) -> Self {
        Self {
            links: Links::new(m),
            ef_construction,
            distance,
            entry: Mutex::new(None),
            raise: Mutex::new(()),
            scratch: ScratchPool::default(),
        }
    }

    /// Reserves room for `nodes` more nodes.
    pub(crate) fn reserve(&mut self, nodes: usize) {
        self.links.reserve(nodes);
    }

    /// The number of nodes.
    pub(crate) fn len(&self) -> usize {
        self.links.len()
    }

    fn entry(&self) -> Option<Entry> {
        *self.entry.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The `k` nearest allowed nodes to a prepared `query`, best first (ties by lower node),
    /// searching `max(ef, k)` candidates on the bottom layer; scores as [`Distance::similarity`].
    pub(crate) fn search(
        &self,
        rows: &[f32],
        dim: usize,
        query: &[f32],
        (k, ef): (usize, usize),
        filter: Option<DocFilter<'_>>,
    ) -> Vec<Hit> {
        with_metric!(self.distance, M => self.search_with::<M>(Rows::new(rows, dim), query, k, ef, filter))
    }

    fn search_with<M: Metric>(
        &self,
        rows: Rows<'_>,
        query: &[f32],
        k: usize,
        ef: usize,
        filter: Option<DocFilter<'_>>,
    ) -> Vec<Hit> {
        let Some(entry) = self.entry() else {
            return Vec::new();
        };
        let walk = Walk::<M>::new(&self.links, rows);
        let mut nearest = Near {
            dist: walk.dist(query, entry.node),
            node: entry.node,
        };
        let mut scratch = self.scratch.take();
        for level in (1..=entry.level).rev() {
            nearest = walk.greedy(query, nearest, level, &mut scratch);
        }
        let found = walk.search_layer(query, nearest, 0, ef.max(k), filter, &mut scratch);
        self.scratch.give(scratch);
        found
            .into_iter()
            .take(k)
            .map(|near| Hit {
                doc: near.node as usize,
                score: M::score(near.dist),
            })
            .collect()
    }
}
