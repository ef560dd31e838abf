//! Every node's neighbour lists, as flat arrays of `u32`: the graph's whole memory besides the
//! vectors.
//!
//! A list is `[count, id, id, …]` with room for `capacity` ids. Bottom-layer lists (capacity
//! `2M`) sit one after the other in node order, so a node's list is found by multiplication;
//! the lists of the few nodes on upper layers (a share of about `1/M`) sit in a second array,
//! found through `upper_start`. Slots are atomics so that parallel insertion can share the
//! arrays without `unsafe`. Writers of a list hold its lock stripe (a read-modify-write, such as
//! pruning a full list, holds it throughout); readers take no lock. A writer stores the ids,
//! then the count with `Release`; a reader loads the count with `Acquire`, then the ids. A
//! reader racing a writer may see a mix of the list's old and new ids, each of which was linked
//! on that layer at some time, which costs a search nothing but a detour; on x86 these atomics
//! compile to plain moves.

use std::sync::atomic::AtomicU32;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Lock stripes: list `node` is guarded by stripe `node % STRIPES`.
const STRIPES: usize = 1024;

/// A lock on its own cache line, so that two threads locking neighbouring stripes do not take
/// the line from each other (measured: without it, half of a 2-thread build went to it).
#[derive(Debug, Default)]
#[repr(align(64))]
struct Stripe(Mutex<()>);

/// The neighbour lists of every node on every layer.
#[derive(Debug)]
pub(crate) struct Links {
    /// Capacity of upper-layer lists (M).
    upper_capacity: usize,
    /// Capacity of bottom-layer lists (2M).
    bottom_capacity: usize,
    /// Node `i`'s bottom list at `i · (bottom_capacity + 1)`.
    bottom: Vec<AtomicU32>,
    /// The top layer of each node.
    levels: Vec<u8>,
    /// For a node on upper layers, where its layer-1 list starts in `upper` (its layer-`l`
    /// list follows at `(l - 1) · (upper_capacity + 1)`); 0 for bottom-only nodes.
    upper_start: Vec<u32>,
    upper: Vec<AtomicU32>,
    stripes: Box<[Stripe]>,
}

impl Links {
    /// No nodes; lists of `m` ids on upper layers and `2m` on the bottom one.
    pub(crate) fn new(m: usize) -> Self {
        Self {
            upper_capacity: m,
            bottom_capacity: 2 * m,
            bottom: Vec::new(),
            levels: Vec::new(),
            upper_start: Vec::new(),
            upper: Vec::new(),
            stripes: (0..STRIPES).map(|_| Stripe::default()).collect(),
        }
    }

    /// The number of nodes.
    pub(crate) fn len(&self) -> usize {
        self.levels.len()
    }

    /// M: the capacity of upper-layer lists.
    pub(crate) fn m(&self) -> usize {
        self.upper_capacity
    }

    /// A list's capacity on `level`.
    pub(crate) fn capacity(&self, level: usize) -> usize {
        if level == 0 {
            self.bottom_capacity
        } else {
            self.upper_capacity
        }
    }

    /// The top layer of `node`.
    pub(crate) fn level(&self, node: u32) -> usize {
        usize::from(self.levels[node as usize])
    }

    /// Reserves room for `additional` more nodes; a hint, silently not taken when the memory
    /// cannot be had.
    pub(crate) fn reserve(&mut self, additional: usize) {
        let _ = self.levels.try_reserve_exact(additional);
        let _ = self.upper_start.try_reserve_exact(additional);
        let slots = additional.saturating_mul(self.bottom_capacity + 1);
        let _ = self.bottom.try_reserve_exact(slots);
        crate::vector::hardware::advise_huge_pages(&self.bottom);
    }

    /// Appends a node with empty lists on layers `0..=level`; `None` when the upper lists
    /// outgrow `u32` offsets (billions of nodes).
    pub(crate) fn push(&mut self, level: u8) -> Option<u32> {
        let node = u32::try_from(self.levels.len()).ok()?;
        let start = if level == 0 {
            0
        } else {
            let start = u32::try_from(self.upper.len()).ok()?;
            let slots = usize::from(level) * (self.upper_capacity + 1);
            u32::try_from(self.upper.len() + slots).ok()?;
            self.upper
                .resize_with(self.upper.len() + slots, || AtomicU32::new(0));
            start
        };
        self.levels.push(level);
        self.upper_start.push(start);
        let bottom = self.bottom.len() + self.bottom_capacity + 1;
        self.bottom.resize_with(bottom, || AtomicU32::new(0));
        Some(node)
    }

    /// The slots of `node`'s list on `level` (count first); `level` must be at most the node's.
    #[inline]
    fn slots(&self, node: u32, level: usize) -> &[AtomicU32] {
        if level == 0 {
            let start = node as usize * (self.bottom_capacity + 1);
            &self.bottom[start..start + self.bottom_capacity + 1]
        } else {
            let start =
                self.upper_start[node as usize] as usize + (level - 1) * (self.upper_capacity + 1);
            &self.upper[start..start + self.upper_capacity + 1]
        }
    }

    /// Calls `visit` on each id of a list (see the module docs for reads during insertion).
    #[inline]
    pub(crate) fn for_each(&self, node: u32, level: usize, mut visit: impl FnMut(u32)) {
        let slots = self.slots(node, level);
        let count = (slots[0].load(Acquire) as usize).min(slots.len() - 1);
        for slot in &slots[1..=count] {
            visit(slot.load(Relaxed));
        }
    }

    /// Starts loading `node`'s list on `level` into the cache.
    #[inline]
    pub(crate) fn prefetch(&self, node: u32, level: usize) {
        crate::vector::hardware::prefetch(self.slots(node, level), 2);
    }

    /// Locks the stripe of `node`'s lists.
    pub(crate) fn lock(&self, node: u32) -> MutexGuard<'_, ()> {
        self.stripes[node as usize % STRIPES]
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Replaces `out` with a copy of a list, read while holding its lock (`_guard` from
    /// [`lock`](Self::lock)).
    pub(crate) fn read_into(
        &self,
        node: u32,
        level: usize,
        _guard: &MutexGuard<'_, ()>,
        out: &mut Vec<u32>,
    ) {
        out.clear();
        self.for_each(node, level, |id| out.push(id));
    }

    /// A copy of a list, taking its lock for the read.
    #[cfg(test)]
    pub(crate) fn read_locked(&self, node: u32, level: usize) -> Vec<u32> {
        let guard = self.lock(node);
        let mut out = Vec::new();
        self.read_into(node, level, &guard, &mut out);
        out
    }

    /// Replaces a list (at most its capacity of `ids`), holding its lock.
    pub(crate) fn write(&self, node: u32, level: usize, ids: &[u32], _guard: &MutexGuard<'_, ()>) {
        let slots = self.slots(node, level);
        let ids = &ids[..ids.len().min(slots.len() - 1)];
        for (slot, &id) in slots[1..].iter().zip(ids) {
            slot.store(id, Relaxed);
        }
        slots[0].store(ids.len() as u32, Release);
    }

    /// Every list of every node, node by node and layer by layer, as `u32`s: the count, then
    /// the full capacity (unused slots included), for saving.
    pub(crate) fn raw_lists(&self) -> impl Iterator<Item = u32> + '_ {
        let bottom = self.bottom.iter().map(|slot| slot.load(Relaxed));
        let upper = self.upper.iter().map(|slot| slot.load(Relaxed));
        bottom.chain(upper)
    }

    /// The levels of every node, in node order.
    pub(crate) fn levels(&self) -> &[u8] {
        &self.levels
    }

    /// Rebuilds lists from [`raw_lists`](Self::raw_lists) and [`levels`](Self::levels),
    /// checking every count and id (an id on layer `l` must name a node that reaches `l`), so
    /// that a damaged file can never make a search index out of bounds.
    ///
    /// # Errors
    /// A sentence saying what is wrong.
    pub(crate) fn from_raw(
        m: usize,
        levels: &[u8],
        mut raw: impl Iterator<Item = u32>,
    ) -> Result<Self, String> {
        let mut links = Self::new(m);
        links.reserve(levels.len());
        for &level in levels {
            links
                .push(level)
                .ok_or_else(|| "too many nodes for u32 ids".to_owned())?;
        }
        for slot in links.bottom.iter_mut().chain(links.upper.iter_mut()) {
            *slot.get_mut() = raw.next().ok_or_else(|| "the lists end early".to_owned())?;
        }
        if raw.next().is_some() {
            return Err("there are more lists than nodes".to_owned());
        }
        for node in 0..links.len() as u32 {
            for level in 0..=links.level(node) {
                let slots = links.slots(node, level);
                let count = slots[0].load(Relaxed) as usize;
                if count > slots.len() - 1 {
                    return Err(format!(
                        "node {node} has {count} links on layer {level}, over the capacity {}",
                        slots.len() - 1
                    ));
                }
                let mut bad = None;
                links.for_each(node, level, |id| {
                    let reaches = links.levels.get(id as usize).map(|&l| usize::from(l));
                    if bad.is_none() && reaches.is_none_or(|top| top < level) {
                        bad = Some(id);
                    }
                });
                if let Some(id) = bad {
                    return Err(format!(
                        "node {node} links to {id} on layer {level}, which has no such node"
                    ));
                }
            }
        }
        crate::vector::hardware::collapse_into_huge_pages(&links.bottom);
        Ok(links)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_written_read_and_round_trip_through_raw() {
        let mut links = Links::new(2);
        for level in [0, 2, 2] {
            links.push(level).unwrap();
        }
        let guard = links.lock(1);
        links.write(1, 2, &[2, 1, 0], &guard);
        links.write(1, 0, &[0, 2], &guard);
        drop(guard);
        // At most M = 2 ids on an upper layer.
        assert_eq!(links.read_locked(1, 2), [2, 1]);
        assert_eq!(links.read_locked(1, 0), [0, 2]);
        assert!(links.read_locked(2, 1).is_empty());
        let raw: Vec<u32> = links.raw_lists().collect();
        assert_eq!(raw.len(), 3 * 5 + 2 * (2 * 3));
        let back = Links::from_raw(2, links.levels(), raw.iter().copied()).unwrap();
        assert_eq!(back.read_locked(1, 2), [2, 1]);
        assert_eq!(back.level(1), 2);
    }

    #[test]
    fn damaged_lists_are_rejected() {
        let mut links = Links::new(2);
        for level in [0, 1] {
            links.push(level).unwrap();
        }
        let guard = links.lock(1);
        links.write(1, 1, &[1], &guard);
        links.write(0, 0, &[1], &guard);
        drop(guard);
        let raw: Vec<u32> = links.raw_lists().collect();
        let levels = links.levels();
        assert!(Links::from_raw(2, levels, raw.iter().copied()).is_ok());
        let short = Links::from_raw(2, levels, raw[..raw.len() - 1].iter().copied());
        assert!(short.unwrap_err().contains("end early"));
        let mut long = raw.clone();
        long.push(0);
        assert!(Links::from_raw(2, levels, long.into_iter())
            .unwrap_err()
            .contains("more lists"));
        let mut over = raw.clone();
        over[0] = 9;
        assert!(Links::from_raw(2, levels, over.into_iter())
            .unwrap_err()
            .contains("capacity"));
        let mut outside = raw.clone();
        outside[1] = 7;
        assert!(Links::from_raw(2, levels, outside.into_iter())
            .unwrap_err()
            .contains("no such node"));
        // Node 0 lives on the bottom layer only: an upper list may not name it.
        let mut wrong_layer = raw;
        let upper_first_id = 2 * 5 + 1;
        wrong_layer[upper_first_id] = 0;
        assert!(Links::from_raw(2, levels, wrong_layer.into_iter())
            .unwrap_err()
            .contains("layer 1"));
    }
}
