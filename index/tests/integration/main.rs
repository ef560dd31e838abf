//! The index crate's one integration-test binary. Tests that read `<workspace>/../shared/data`
//! fail (never skip) when that folder is missing.

// clippy's test allowances cover `#[test]` functions only, not the helpers they share.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers: any failure should fail the test"
)]

mod collection_crash;
mod compat;
mod scifact_bm25;
mod wal_crash;
