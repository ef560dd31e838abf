//! The index crate's one integration-test binary.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail loudly"
)]

mod compat;
mod wal_crash;
