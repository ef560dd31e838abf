//! Inserting nodes: the layer of each node, then linking it into the graph (Malkov & Yashunin,
//! algorithm 1, with hnswlib's heuristic for choosing and pruning neighbours), many nodes at
//! once on the calling rayon pool.

use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::PoisonError;

use crate::error::{IndexError, Result};
use crate::vector::distance::Distance;
use crate::vector::hnsw::native::metric::{with_metric, Metric};
use crate::vector::hnsw::native::search::{Rows, Walk};
use crate::vector::hnsw::native::visited::{Near, Scratch};
use crate::vector::hnsw::native::{Entry, NativeGraph};

/// The highest layer a node can get (a 16-link node reaches it with probability 16^-30).
const MAX_LEVEL: u8 = 30;

/// The layer of `node`: `floor(-ln(u) / ln(m))` for a `u` in (0, 1] drawn from the node's
/// position alone, so that a graph's layers never depend on thread timing.
pub(crate) fn level_of(node: u32, m: usize) -> u8 {
    let bits = splitmix64(u64::from(node) ^ 0x5EED_4E5F_0000_0000) >> 11;
    let uniform = (bits as f64 + 1.0) / (1u64 << 53) as f64;
    let level = -uniform.ln() / (m as f64).ln();
    level.min(f64::from(MAX_LEVEL)) as u8
}

fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl NativeGraph {
    /// Links the nodes `new` (the next positions; their prepared vectors already in `rows`,
    /// `dim` floats each) into the graph, in parallel on the current rayon pool.
    ///
    /// # Errors
    /// [`IndexError::DocOutOfSequence`] when `new` does not start at the graph's length, and
    /// [`IndexError::InvalidParameter`] when the graph would outgrow `u32` node ids; nothing is
    /// added then.
    pub(crate) fn insert(&mut self, rows: &[f32], dim: usize, new: Range<usize>) -> Result<()> {
        let too_many = || {
            IndexError::InvalidParameter(format!(
                "an hnsw graph holds at most {} vectors",
                u32::MAX
            ))
        };
        let end = u32::try_from(new.end).map_err(|_| too_many())?;
        if new.start != self.links.len() {
            return Err(IndexError::DocOutOfSequence {
                doc: new.start,
                start: self.links.len(),
                end: self.links.len() + new.len(),
            });
        }
        if new.is_empty() {
            return Ok(());
        }
        let start = new.start as u32;
        self.links.reserve(new.len());
        let m = self.links.m();
        for node in start..end {
            self.links.push(level_of(node, m)).ok_or_else(too_many)?;
        }
        let mut first = start;
        let entry = self.entry.get_mut().unwrap_or_else(PoisonError::into_inner);
        if entry.is_none() {
            *entry = Some(Entry {
                node: start,
                level: self.links.level(start),
            });
            first += 1;
        }
        let graph = &*self;
        with_metric!(graph.distance, M => graph.link_all::<M>(Rows::new(rows, dim), first..end));
        Ok(())
    }

    /// Links `nodes` with one worker per pool thread, each taking the next node in order (as
    /// hnswlib's `add_items`), so that early nodes are linked first.
    fn link_all<M: Metric>(&self, rows: Rows<'_>, nodes: Range<u32>) {
        let next = AtomicUsize::new(nodes.start as usize);
        let workers = rayon::current_num_threads().clamp(1, nodes.len().max(1));
        rayon::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|_| {
                    let mut scratch = Scratch::default();
                    loop {
                        let node = next.fetch_add(1, Ordering::Relaxed);
                        if node >= nodes.end as usize {
                            break;
                        }
                        self.link::<M>(rows, node as u32, &mut scratch);
                    }
                });
            }
        });
    }

    /// Links one node whose lists are empty.
    fn link<M: Metric>(&self, rows: Rows<'_>, node: u32, scratch: &mut Scratch) {
        let level = self.links.level(node);
        let Some(mut entry) = self.entry() else {
            return;
        };
        let _raising = (level > entry.level).then(|| {
            let guard = self.raise.lock().unwrap_or_else(PoisonError::into_inner);
            // Another node may have raised the top layer while this one waited.
            entry = self.entry().unwrap_or(entry);
            guard
        });
        let walk = Walk::<M>::new(&self.links, rows);
        let query = rows.row(node);
        let mut nearest = Near {
            dist: walk.dist(query, entry.node),
            node: entry.node,
        };
        for layer in (level + 1..=entry.level).rev() {
            nearest = walk.greedy(query, nearest, layer, scratch);
        }
        for layer in (0..=level.min(entry.level)).rev() {
            let found =
                walk.search_layer(query, nearest, layer, self.ef_construction, None, scratch);
            let chosen = select_neighbours(&walk, &found, self.links.m());
            let ids: Vec<u32> = chosen.iter().map(|near| near.node).collect();
            {
                let guard = self.links.lock(node);
                self.links.write(node, layer, &ids, &guard);
            }
            for neighbour in &chosen {
                let new = Near { node, ..*neighbour };
                self.link_back(&walk, neighbour.node, new, layer, scratch);
            }
            if let Some(&closest) = found.first() {
                nearest = closest;
            }
        }
        if level > entry.level {
            let mut top = self.entry.lock().unwrap_or_else(PoisonError::into_inner);
            if top.is_none_or(|top| level > top.level) {
                *top = Some(Entry { node, level });
            }
        }
    }

    /// Adds `new` (its `dist` measured to `target`) to `target`'s list on `layer`; a full list
    /// keeps the heuristic's choice among its links and `new`.
    fn link_back<M: Metric>(
        &self,
        walk: &Walk<'_, M>,
        target: u32,
        new: Near,
        layer: usize,
        scratch: &mut Scratch,
    ) {
        let guard = self.links.lock(target);
        let ids = &mut scratch.list;
        self.links.read_into(target, layer, &guard, ids);
        let capacity = self.links.capacity(layer);
        if ids.contains(&new.node) || new.node == target {
            return;
        }
        if ids.len() < capacity {
            ids.push(new.node);
            self.links.write(target, layer, ids, &guard);
            return;
        }
        let anchor = walk.rows.row(target);
        let mut candidates: Vec<Near> = ids
            .iter()
            .map(|&id| Near {
                dist: M::dist(anchor, walk.rows.row(id)),
                node: id,
            })
            .chain(std::iter::once(new))
            .collect();
        candidates.sort_unstable();
        let kept: Vec<u32> = select_neighbours(walk, &candidates, capacity)
            .iter()
            .map(|near| near.node)
            .collect();
        self.links.write(target, layer, &kept, &guard);
    }
}

/// hnswlib's heuristic (`getNeighborsByHeuristic2`): from `candidates` sorted nearest first,
/// keep a candidate only when it is nearer to the query than to every candidate kept before
/// it, up to `keep` of them. It spreads links over directions instead of packing them into one
/// cluster.
fn select_neighbours<M: Metric>(walk: &Walk<'_, M>, candidates: &[Near], keep: usize) -> Vec<Near> {
    if candidates.len() <= keep {
        return candidates.to_vec();
    }
    let mut chosen: Vec<Near> = Vec::with_capacity(keep);
    for candidate in candidates {
        if chosen.len() >= keep {
            break;
        }
        let row = walk.rows.row(candidate.node);
        let diverse = chosen
            .iter()
            .all(|kept| M::dist(row, walk.rows.row(kept.node)) >= candidate.dist);
        if diverse {
            chosen.push(*candidate);
        }
    }
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_follow_the_geometric_law_and_depend_on_the_node_alone() {
        let m = 16;
        let levels: Vec<u8> = (0..200_000).map(|node| level_of(node, m)).collect();
        let above = |l: u8| levels.iter().filter(|&&x| x >= l).count() as f64 / 200_000.0;
        // P(level >= l) = m^-l.
        assert!((above(1) - 1.0 / 16.0).abs() < 0.003, "{}", above(1));
        assert!((above(2) - 1.0 / 256.0).abs() < 0.0008, "{}", above(2));
        assert_eq!(level_of(12_345, m), level_of(12_345, m));
    }
}
