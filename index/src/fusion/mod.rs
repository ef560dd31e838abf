//! Hybrid search: fusing ranked lists from several retrievers into one.
//!
//! Every function here is pure and takes ranked lists of [`Hit`](crate::Hit)s, best first,
//! such as one from [`FlatIndex`](crate::FlatIndex) and one from
//! [`Bm25Index`](crate::Bm25Index):
//!
//! * [`rrf`]: reciprocal rank fusion, which looks only at ranks;
//! * [`weighted_fusion`]: a weighted sum of min-max normalised scores.
//!
//! Both return the union of the lists' documents, each once, best fused score first, ties
//! broken by lower [`DocIndex`](crate::DocIndex), cut to `limit`. A document listed twice in
//! one list counts once, at its first (best-ranked) position.
//!
//! ```
//! use pairwise_index::{rrf, weighted_fusion, Hit, DEFAULT_RRF_K};
//!
//! let dense = vec![Hit { doc: 7, score: 0.9 }, Hit { doc: 3, score: 0.8 }];
//! let keyword = vec![Hit { doc: 3, score: 12.0 }, Hit { doc: 5, score: 4.0 }];
//! let lists = [dense, keyword];
//!
//! let fused = rrf(&lists, DEFAULT_RRF_K, 10)?;
//! assert_eq!(fused.iter().map(|h| h.doc).collect::<Vec<_>>(), [3, 7, 5]);
//!
//! // Normalised, dense gives 7 → 1 and 3 → 0; keyword gives 3 → 1 and 5 → 0.
//! let fused = weighted_fusion(&lists, &[0.3, 0.7], 2)?;
//! assert_eq!(fused.iter().map(|h| h.doc).collect::<Vec<_>>(), [3, 7]);
//! assert!((fused[0].score - 0.7).abs() < 1e-6);
//! # Ok::<(), pairwise_index::IndexError>(())
//! ```

mod normalize;
mod ranked;
mod rrf;

pub use normalize::weighted_fusion;
pub use rrf::{rrf, DEFAULT_RRF_K};
