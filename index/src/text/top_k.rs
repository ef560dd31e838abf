//! The best-scoring live documents of a query, optionally filtered by [`DocIndex`].
//!
//! This walks the segments itself rather than using tantivy's `TopDocs`, so that the filter
//! can be a plain `&dyn Fn` (collectors must be `Sync` and `'static`) and still run inside
//! the scorer's loop, keeping block-max WAND pruning: the threshold handed back to the scorer
//! only ever rises with documents the filter accepted.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use tantivy::query::{EnableScoring, Query};
use tantivy::{DocId, Searcher, SegmentReader};

use crate::error::{IndexError, Result};
use crate::hit::{DocIndex, Hit, Score};
use crate::text::schema::DOC_FIELD;

/// A hit ordered so that the heap's maximum is the worst kept hit: lower score first, then,
/// among equal scores, higher [`DocIndex`].
#[derive(Debug, Clone, Copy)]
struct Worst(Hit);

impl Ord for Worst {
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .0
            .score
            .total_cmp(&self.0.score)
            .then(self.0.doc.cmp(&other.0.doc))
    }
}

impl PartialOrd for Worst {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Worst {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Worst {}

/// The `k` best hits seen so far.
struct TopK {
    k: usize,
    heap: BinaryHeap<Worst>,
}

impl TopK {
    /// The score a new hit must beat to matter; `Score::MIN` until `k` hits are kept.
    fn threshold(&self) -> Score {
        match self.heap.peek() {
            Some(worst) if self.heap.len() >= self.k => worst.0.score,
            _ => Score::MIN,
        }
    }

    fn push(&mut self, hit: Hit) {
        if self.heap.len() < self.k {
            self.heap.push(Worst(hit));
        } else if self.heap.peek().is_some_and(|worst| Worst(hit) < *worst) {
            self.heap.pop();
            self.heap.push(Worst(hit));
        }
    }
}

/// The `k` (≥ 1) best live documents matching `query` and accepted by `filter`, best first,
/// ties broken by lower [`DocIndex`].
///
/// Documents scoring exactly the current k-th best score may be pruned, so among documents
/// tied at the cut-off the lowest [`DocIndex`] is preferred only when the scorer visits it.
pub(crate) fn search(
    searcher: &Searcher,
    query: &dyn Query,
    k: usize,
    filter: Option<&dyn Fn(DocIndex) -> bool>,
) -> Result<Vec<Hit>> {
    let weight = query
        .weight(EnableScoring::enabled_from_searcher(searcher))
        .map_err(IndexError::tantivy)?;
    let mut top = TopK {
        k,
        heap: BinaryHeap::with_capacity(k.saturating_add(1).min(1 << 16)),
    };
    for segment in searcher.segment_readers() {
        collect_segment(segment, weight.as_ref(), filter, &mut top)?;
    }
    let mut hits: Vec<Hit> = top.heap.into_iter().map(|worst| worst.0).collect();
    hits.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.doc.cmp(&b.doc)));
    Ok(hits)
}

fn collect_segment(
    segment: &SegmentReader,
    weight: &dyn tantivy::query::Weight,
    filter: Option<&dyn Fn(DocIndex) -> bool>,
    top: &mut TopK,
) -> Result<()> {
    let column = segment
        .fast_fields()
        .u64(DOC_FIELD)
        .map_err(IndexError::tantivy)?;
    let alive = segment.alive_bitset();
    let mut failure = None;
    let start = top.threshold();
    let mut visit = |doc: DocId, score: Score| -> Score {
        if alive.is_some_and(|bits| bits.is_deleted(doc)) {
            return top.threshold();
        }
        let index = column
            .first(doc)
            .and_then(|value| DocIndex::try_from(value).ok());
        match index {
            Some(index) if filter.is_none_or(|keep| keep(index)) => {
                top.push(Hit { doc: index, score });
            }
            Some(_) => {}
            None => {
                failure = Some(doc);
                // An impossible threshold stops the scorer early.
                return Score::MAX;
            }
        }
        top.threshold()
    };
    weight
        .for_each_pruning(start, segment, &mut visit)
        .map_err(IndexError::tantivy)?;
    match failure {
        Some(doc) => Err(IndexError::BrokenInvariant(format!(
            "document {doc} of segment {} has no valid `{DOC_FIELD}` value",
            segment.segment_id().uuid_string()
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn top_k_keeps_the_best_with_ties_by_lower_doc(
            scores in prop::collection::vec(0u8..8, 0..40),
            k in 1usize..12,
        ) {
            let mut top = TopK { k, heap: BinaryHeap::new() };
            for (doc, &score) in scores.iter().enumerate() {
                top.push(Hit { doc, score: f32::from(score) });
            }
            let mut kept: Vec<Hit> = top.heap.into_iter().map(|w| w.0).collect();
            kept.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.doc.cmp(&b.doc)));
            let mut all: Vec<Hit> = scores
                .iter()
                .enumerate()
                .map(|(doc, &score)| Hit { doc, score: f32::from(score) })
                .collect();
            all.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.doc.cmp(&b.doc)));
            all.truncate(k);
            prop_assert_eq!(kept, all);
        }
    }
}
