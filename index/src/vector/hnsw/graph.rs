//! The only module that touches `hnsw_rs`: a graph over prepared vectors, keyed by
//! [`DocIndex`], with the library's types and panicking paths kept inside.
//!
//! Keep this module's path and the name [`GraphDistance`]: `hnsw_rs` writes the distance's
//! full type name (`pairwise_index::vector::hnsw::graph::GraphDistance`) into its dumps and
//! refuses to reload a dump whose name differs.

use std::path::Path;

use hnsw_rs::anndists::dist::Distance as GraphMetric;
use hnsw_rs::api::AnnT;
use hnsw_rs::hnsw::Hnsw;
use hnsw_rs::hnswio::HnswIo;

use crate::error::{IndexError, Result};
use crate::hit::DocIndex;
use crate::vector::base::DocFilter;
use crate::vector::distance::Distance;
use crate::vector::hnsw::config::HnswConfig;

/// Layers of the graph: `hnsw_rs`'s maximum (`NB_LAYER_MAX`), which 16-link nodes reach with
/// probability 16^-16.
const MAX_LAYERS: usize = 16;

/// The distance that `hnsw_rs` sees: our similarity, negated and mapped onto finite,
/// non-negative floats in the same order.
///
/// `hnsw_rs` asserts that distances are `>= 0` and panics on NaN, but an unnormalised dot
/// product is negative as often as not, and a dot product of huge finite vectors can be
/// NaN (`inf - inf`). The graph only ever compares distances, so any order-preserving map
/// builds and searches the same graph as the raw values would; this one keeps all but the
/// last bit of precision, for every metric, and sends NaN to the far end.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GraphDistance(Distance);

impl GraphMetric<f32> for GraphDistance {
    fn eval(&self, a: &[f32], b: &[f32]) -> f32 {
        graph_distance(-self.0.similarity(a, b))
    }
}

/// Maps `dissimilarity` to a finite float `>= 0`, never decreasing (NaN counts as largest).
pub(crate) fn graph_distance(dissimilarity: f32) -> f32 {
    if dissimilarity.is_nan() {
        return f32::MAX;
    }
    let bits = dissimilarity.to_bits();
    // The usual total-order key: negative floats flipped so that keys grow with the value.
    let key = if bits >> 31 == 1 {
        !bits
    } else {
        bits | 0x8000_0000
    };
    // Halving the key clears the sign bit; the clamp keeps +inf and NaN patterns out.
    f32::from_bits((key >> 1).min(f32::MAX.to_bits()))
}

type GraphOf<'io> = Hnsw<'io, f32, GraphDistance>;

self_cell::self_cell!(
    /// A graph together with the `HnswIo` it was reloaded from, which `hnsw_rs` ties it to
    /// by lifetime (a fresh graph owns an empty `HnswIo`).
    struct OwnedGraph {
        owner: HnswIo,
        #[not_covariant]
        dependent: GraphOf,
    }
);

/// An HNSW graph over prepared vectors, built by `hnsw_rs`.
pub(crate) struct HnswRsGraph {
    inner: OwnedGraph,
}

impl HnswRsGraph {
    /// An empty graph; `config` must be validated.
    pub(crate) fn new(config: &HnswConfig, distance: Distance) -> Self {
        let inner = OwnedGraph::new(HnswIo::default(), |_| {
            Hnsw::new(
                config.m,
                config.max_elements,
                MAX_LAYERS,
                config.ef_construction,
                GraphDistance(distance),
            )
        });
        Self { inner }
    }

    /// The number of vectors in the graph.
    pub(crate) fn len(&self) -> usize {
        self.inner.with_dependent(|_, graph| graph.get_nb_point())
    }

    /// Inserts prepared `(row, position)` pairs in parallel.
    pub(crate) fn insert(&self, rows: &Vec<(&[f32], DocIndex)>) {
        self.inner
            .with_dependent(|_, graph| graph.parallel_insert_slice(rows));
    }

    /// Up to `max(knbn, ef)` nearest positions among those `filter` allows, nearest first.
    ///
    /// `hnsw_rs` returns `min(knbn, max(ef, knbn))` candidates, and may hand back a filtered
    /// out entry point, so callers filter again and complete a short answer themselves.
    pub(crate) fn search(
        &self,
        query: &[f32],
        knbn: usize,
        ef: usize,
        filter: Option<DocFilter<'_>>,
    ) -> Vec<DocIndex> {
        self.inner.with_dependent(|_, graph| {
            let found = match filter {
                None => graph.search(query, knbn, ef),
                Some(allowed) => {
                    let adapter = |doc: &DocIndex| allowed(*doc);
                    graph.search_filter(query, knbn, ef, Some(&adapter))
                }
            };
            found.into_iter().map(|neighbour| neighbour.d_id).collect()
        })
    }

    /// Writes `<basename>.hnsw.graph` and `<basename>.hnsw.data` into `dir`, which must exist.
    ///
    /// # Errors
    /// [`IndexError::Io`] when the files cannot be created, [`IndexError::Hnsw`] when the dump
    /// fails (an empty graph cannot be dumped).
    pub(crate) fn dump(&self, dir: &Path, basename: &str) -> Result<()> {
        // `hnsw_rs` panics when it cannot create its files: create them first, so that any
        // such failure is ours to report.
        for suffix in [GRAPH_SUFFIX, DATA_SUFFIX] {
            fs_err::File::create(dir.join(format!("{basename}{suffix}")))?;
        }
        let written = self.inner.with_dependent(|_, graph| {
            if graph.get_nb_point() == 0 {
                return Err(IndexError::InvalidParameter(
                    "an empty hnsw graph cannot be dumped".to_owned(),
                ));
            }
            graph
                .file_dump(dir, basename)
                .map_err(|e| IndexError::Hnsw(e.into()))
        })?;
        if written != basename {
            return Err(IndexError::Hnsw(
                format!("hnsw_rs dumped to {written:?} instead of {basename:?}").into(),
            ));
        }
        Ok(())
    }

    /// Reloads a graph that [`dump`](Self::dump) wrote. The files must have been verified
    /// first: `hnsw_rs` asserts, unwraps and may read out of bounds on damaged input.
    ///
    /// # Errors
    /// [`IndexError::Hnsw`] when `hnsw_rs` rejects the files.
    pub(crate) fn load(dir: &Path, basename: &str, distance: Distance) -> Result<Self> {
        let inner = OwnedGraph::try_new(HnswIo::new(dir, basename), |io| {
            let mut graph: GraphOf<'_> = io
                .load_hnsw_with_dist(GraphDistance(distance))
                .map_err(|e| IndexError::Hnsw(e.into()))?;
            // A reloaded graph extends its candidates on insertion; a fresh one does not.
            graph.set_extend_candidates(false);
            Ok::<_, IndexError>(graph)
        })?;
        Ok(Self { inner })
    }
}

/// The suffix `hnsw_rs` gives its graph file.
pub(crate) const GRAPH_SUFFIX: &str = ".hnsw.graph";
/// The suffix `hnsw_rs` gives its data file.
pub(crate) const DATA_SUFFIX: &str = ".hnsw.data";

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn graph_distance_keeps_order_and_stays_finite_and_non_negative(
            a in prop::num::f32::ANY, b in prop::num::f32::ANY,
        ) {
            let (da, db) = (graph_distance(a), graph_distance(b));
            prop_assert!(da.is_finite() && da >= 0.0 && db.is_finite() && db >= 0.0);
            if !a.is_nan() && !b.is_nan() && a < b {
                prop_assert!(da <= db, "{a} < {b} but {da} > {db}");
            }
        }
    }

    #[test]
    fn graph_distance_separates_nearby_values_and_sends_nan_far() {
        for x in [-1e30f32, -1.0, -1e-30, 0.0, 1e-30, 0.5, 1.0, 1e30] {
            let next = f32::from_bits(x.to_bits() + 2);
            let (lo, hi) = if x < 0.0 { (next, x) } else { (x, next) };
            assert!(graph_distance(lo) < graph_distance(hi), "{lo} vs {hi}");
        }
        assert_eq!(graph_distance(f32::NAN), f32::MAX);
        assert!(graph_distance(f32::INFINITY) <= f32::MAX);
        assert!(graph_distance(f32::NEG_INFINITY) >= 0.0);
    }
}
