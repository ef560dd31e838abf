//! Integration tests against the real data in `<workspace>/../shared/data`.
//!
//! They fail (never skip) when that folder is missing.

// clippy's test allowances cover `#[test]` functions only, not the helpers they share.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers: any failure should fail the test"
)]

mod scifact_bm25;
