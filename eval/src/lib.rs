//! Pure-Rust evaluation metrics for `pairwise` embedding models.
//!
//! * Verification (`roc`, `threshold` modules): exact Mann-Whitney [`auc`],
//!   [`roc_curve`] (scikit-learn compatible) with [`RocCurve::eer`],
//!   [`RocCurve::tar_at_far`] and [`RocCurve::downsample`], and the
//!   accuracy-maximising [`best_threshold`].
//! * Face verification (`verification`): [`verification_report`] with AUC,
//!   EER, TAR@FAR and the LFW protocol's k-fold accuracy.
//! * Retrieval (`retrieval`, `pooled`): BEIR / `pytrec_eval` compatible nDCG,
//!   MRR, recall, MAP and precision at cutoffs ([`evaluate`],
//!   [`evaluate_per_query`]), plus the [`pooled_auc`] retrieval AUC.
//! * Summaries and reports: [`RocSummary::compute`] gathers AUC with a seeded
//!   bootstrap 95 % interval, EER, TAR@FAR, the suggested threshold, a
//!   downsampled ROC curve and score histograms; [`report`] turns summaries
//!   into a serde [`report::Report`] and a self-contained HTML page.
//! * Statistics (`stats`): [`spearman`] and [`pearson`] correlations and the shared
//!   [`average_ranks`] helper.
//!
//! Scores are `f64` (higher = more similar). A metric that is undefined for
//! its input — such as an AUC with an empty class — is `None`, never `0.0`;
//! malformed input (length mismatch, NaN) is an [`EvalError`]. All result
//! types serialise with serde.
//!
//! ```
//! use std::collections::HashMap;
//! use pairwise_eval::{auc, evaluate, roc_curve, Metric, Qrels, Run, ScoredDoc};
//!
//! // Verification: is each pair a match, and how similar did the model find it?
//! let labels = [true, true, false, false];
//! let scores = [0.8, 0.35, 0.4, 0.1];
//! assert_eq!(auc(&labels, &scores)?, Some(0.75));
//! let curve = roc_curve(&labels, &scores)?.expect("both classes present");
//! assert_eq!(curve.eer(), 0.5);
//!
//! // Retrieval: one query whose only relevant document is ranked second.
//! let qrels: Qrels = HashMap::from([("q1".into(), HashMap::from([("d2".into(), 1)]))]);
//! let docs = [("d1", 0.9), ("d2", 0.7)]
//!     .map(|(id, score)| ScoredDoc { doc_id: id.into(), score });
//! let run: Run = HashMap::from([("q1".into(), docs.to_vec())]);
//! let metrics = evaluate(&qrels, &run, &[1, 10]);
//! assert_eq!(metrics.get(Metric::Mrr, 10), Some(0.5));
//! assert_eq!(metrics.get(Metric::Recall, 1), Some(0.0));
//! # Ok::<(), pairwise_eval::EvalError>(())
//! ```

mod bootstrap;
mod error;
mod histogram;
mod pooled;
pub mod report;
mod retrieval;
mod roc;
mod stats;
mod summary;
mod threshold;
mod verification;

pub use bootstrap::ConfidenceInterval;

pub use error::{EvalError, Result};
pub use histogram::ScoreHistograms;
pub use pooled::{pooled_auc, pooled_auc_inputs, DEFAULT_POOLED_NEGATIVES};
pub use retrieval::{
    evaluate, evaluate_per_query, map_at_k, mrr_at_k, ndcg_at_k, precision_at_k, recall_at_k,
    trec_ranking, Metric, Qrels, QueryMetrics, RetrievalMetrics, Run, ScoredDoc,
};
pub use roc::{auc, auc_pos_neg, roc_curve, RocCurve, RocPoint};
pub use stats::{average_ranks, pearson, spearman};
pub use summary::{
    BestThreshold, RocOptions, RocSummary, TarAtFar, ThresholdCriterion, MAX_BOOTSTRAP_RESAMPLES,
    MAX_HISTOGRAM_BINS,
};
pub use threshold::{best_threshold, Threshold};
pub use verification::{
    cosine, verification_report, FoldAccuracy, VerificationReport, DEFAULT_FARS,
};
