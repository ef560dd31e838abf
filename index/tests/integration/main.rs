//! The index crate's one integration-test binary.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail loudly"
)]

mod collection_crash;
mod compat;
mod wal_crash;
