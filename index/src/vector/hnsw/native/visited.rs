//! Per-search working memory: a visited set cleared in O(1) and the two heaps, pooled so that
//! a search allocates nothing once the pool is warm.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::sync::{Mutex, PoisonError};

/// A node and its distance to the query; ordered by distance, then by node.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Near {
    pub(crate) dist: f32,
    pub(crate) node: u32,
}

impl Eq for Near {}

/// Distances are never NaN (see `metric.rs`), so plain comparisons order them; they are
/// cheaper in the heaps' inner loops than `total_cmp`.
impl Ord for Near {
    #[inline]
    fn cmp(&self, other: &Self) -> Ordering {
        if self.dist < other.dist {
            Ordering::Less
        } else if self.dist > other.dist {
            Ordering::Greater
        } else {
            self.node.cmp(&other.node)
        }
    }
}

impl PartialOrd for Near {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The nodes a search has seen: `tags[node] == mark`, so that forgetting them all is one
/// increment.
#[derive(Debug, Default)]
pub(crate) struct Visited {
    tags: Vec<u16>,
    mark: u16,
}

impl Visited {
    /// Forgets every visit, for a graph of `nodes` nodes.
    fn start(&mut self, nodes: usize) {
        if self.tags.len() < nodes {
            self.tags.resize(nodes, 0);
        }
        self.mark = self.mark.wrapping_add(1);
        if self.mark == 0 {
            self.tags.fill(0);
            self.mark = 1;
        }
    }

    /// Marks `node` visited; `true` when it was not visited before in this search.
    #[inline]
    pub(crate) fn first_visit(&mut self, node: u32) -> bool {
        match self.tags.get_mut(node as usize) {
            Some(tag) if *tag != self.mark => {
                *tag = self.mark;
                true
            }
            _ => false,
        }
    }
}

/// The working memory of one search.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    pub(crate) visited: Visited,
    /// The unvisited neighbours of the node being expanded (all its neighbours in a greedy
    /// descent).
    pub(crate) fresh: Vec<u32>,
    /// A copy of a list being pruned, during insertion.
    pub(crate) list: Vec<u32>,
    /// Nodes still to expand, nearest on top.
    pub(crate) candidates: BinaryHeap<Reverse<Near>>,
    /// The best nodes found so far, farthest on top.
    pub(crate) results: BinaryHeap<Near>,
}

impl Scratch {
    /// Forgets the previous search, for a graph of `nodes` nodes.
    pub(crate) fn start(&mut self, nodes: usize) {
        self.visited.start(nodes);
        self.candidates.clear();
        self.results.clear();
    }
}

/// Scratches returned by finished searches, for the next ones.
#[derive(Debug, Default)]
pub(crate) struct ScratchPool {
    free: Mutex<Vec<Scratch>>,
}

impl ScratchPool {
    /// A free scratch, or a new one (a search [`start`](Scratch::start)s it).
    pub(crate) fn take(&self) -> Scratch {
        let reused = self
            .free
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        reused.unwrap_or_default()
    }

    /// Hands a scratch back for reuse.
    pub(crate) fn give(&self, scratch: Scratch) {
        self.free
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(scratch);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visits_are_forgotten_between_searches_even_when_the_mark_wraps() {
        let mut scratch = Scratch::default();
        for _ in 0..70_000 {
            scratch.start(3);
            assert!(scratch.visited.first_visit(2));
            assert!(!scratch.visited.first_visit(2));
        }
        assert!(scratch.visited.first_visit(0) && !scratch.visited.first_visit(7));
    }

    #[test]
    fn near_orders_by_distance_then_node() {
        let a = Near { dist: 1.0, node: 5 };
        let b = Near { dist: 1.0, node: 6 };
        let c = Near {
            dist: -2.0,
            node: 9,
        };
        let mut all = vec![b, a, c];
        all.sort();
        assert_eq!(all, vec![c, a, b]);
    }
}
