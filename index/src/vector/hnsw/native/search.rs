//! Walking the graph: the greedy descent through the upper layers and the best-first search of
//! one layer (Malkov & Yashunin, algorithms 2 and 5), shared by insertion and queries.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::marker::PhantomData;

use crate::hit::DocIndex;
use crate::vector::base::DocFilter;
use crate::vector::hardware::prefetch;
use crate::vector::hnsw::native::links::Links;
use crate::vector::hnsw::native::metric::Metric;
use crate::vector::hnsw::native::visited::{Near, Scratch};

/// Prepared vectors, row-major, with node `i` in row `i`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rows<'a> {
    data: &'a [f32],
    dim: usize,
}

impl<'a> Rows<'a> {
    /// Rows of `dim` floats; `data` must hold a whole number of them.
    pub(crate) fn new(data: &'a [f32], dim: usize) -> Self {
        Self { data, dim }
    }

    #[inline]
    pub(crate) fn row(&self, node: u32) -> &'a [f32] {
        let start = node as usize * self.dim;
        &self.data[start..start + self.dim]
    }
}

/// Cache lines of each fresh neighbour's vector prefetched before any distance is computed (a
/// whole 96-d row); the rest of a longer row is prefetched [`AHEAD`] neighbours before its
/// distance. Measured against whole rows up front, alternating runs on the 2-core machine,
/// 100k × 384 and 1M × 96: QPS +8-12% at 384-d (too many lines in flight at once stalled the
/// prefetches) and even at 96-d; 2 or 4 first lines lost 5-15% at 96-d.
const FIRST_LINES: usize = 8;

/// How many neighbours ahead of the distance being computed a whole vector is prefetched.
const AHEAD: usize = 2;

/// A walk over the graph with one metric.
pub(crate) struct Walk<'a, M> {
    pub(crate) links: &'a Links,
    pub(crate) rows: Rows<'a>,
    metric: PhantomData<M>,
}

impl<'a, M: Metric> Walk<'a, M> {
    pub(crate) fn new(links: &'a Links, rows: Rows<'a>) -> Self {
        Self {
            links,
            rows,
            metric: PhantomData,
        }
    }

    /// The distance of `query` to `node`.
    #[inline]
    pub(crate) fn dist(&self, query: &[f32], node: u32) -> f32 {
        M::dist(query, self.rows.row(node))
    }

    /// Greedy descent on `level` from `from`: moves to a nearer neighbour while there is one.
    pub(crate) fn greedy(
        &self,
        query: &[f32],
        from: Near,
        level: usize,
        scratch: &mut Scratch,
    ) -> Near {
        let mut best = from;
        let neighbours = &mut scratch.fresh;
        loop {
            let current = best.node;
            neighbours.clear();
            self.links.for_each(current, level, |id| {
                prefetch(self.rows.row(id), usize::MAX);
                neighbours.push(id);
            });
            for &id in neighbours.iter() {
                let dist = self.dist(query, id);
                if dist < best.dist {
                    best = Near { dist, node: id };
                }
            }
            if best.node == current {
                return best;
            }
        }
    }

    /// The up to `ef` nearest nodes to `query` on `level` that `filter` allows, nearest first,
    /// by a best-first search from `entry`. Filtered-out nodes are still walked through, and
    /// the search goes on while it holds fewer than `ef` allowed nodes (hnswlib's rule).
    pub(crate) fn search_layer(
        &self,
        query: &[f32],
        entry: Near,
        level: usize,
        ef: usize,
        filter: Option<DocFilter<'_>>,
        scratch: &mut Scratch,
    ) -> Vec<Near> {
        let allowed = |node: u32| filter.is_none_or(|allowed| allowed(node as DocIndex));
        scratch.start(self.links.len());
        scratch.visited.first_visit(entry.node);
        scratch.candidates.push(Reverse(entry));
        if allowed(entry.node) {
            scratch.results.push(entry);
        }
        let mut bound = bound_of(&scratch.results);
        while let Some(Reverse(nearest)) = scratch.candidates.pop() {
            let full = scratch.results.len() >= ef;
            if nearest.dist > bound && (full || filter.is_none()) {
                break;
            }
            // First the unvisited neighbours, the start of each vector prefetched, then their
            // distances, each while the whole vector `AHEAD` places on is prefetched: the
            // loads overlap instead of waiting one after the other (see `FIRST_LINES`).
            let (visited, fresh) = (&mut scratch.visited, &mut scratch.fresh);
            fresh.clear();
            self.links.for_each(nearest.node, level, |id| {
                if visited.first_visit(id) {
                    prefetch(self.rows.row(id), FIRST_LINES);
                    fresh.push(id);
                }
            });
            for (place, &id) in scratch.fresh.iter().enumerate() {
                if let Some(&ahead) = scratch.fresh.get(place + AHEAD) {
                    prefetch(self.rows.row(ahead), usize::MAX);
                }
                let dist = self.dist(query, id);
                if scratch.results.len() < ef || dist < bound {
                    let near = Near { dist, node: id };
                    // A candidate may be expanded soon: start loading its list (hnswlib gets
                    // this for free by storing each list beside its vector).
                    self.links.prefetch(id, level);
                    scratch.candidates.push(Reverse(near));
                    if allowed(id) {
                        scratch.results.push(near);
                        if scratch.results.len() > ef {
                            scratch.results.pop();
                        }
                        bound = bound_of(&scratch.results);
                    }
                }
            }
        }
        let mut found: Vec<Near> = scratch.results.drain().collect();
        found.sort_unstable();
        found
    }
}

/// The farthest result so far (+inf while there is none): with fewer than `ef` results any
/// candidate is kept, after that only those nearer than it.
#[inline]
fn bound_of(results: &BinaryHeap<Near>) -> f32 {
    results.peek().map_or(f32::INFINITY, |far| far.dist)
}
