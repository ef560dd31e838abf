//! The HTTP handlers, one module per resource.

pub mod collections;
pub mod documents;
pub mod embed;
pub mod eval;
pub mod health;
pub mod openapi;
pub mod reports;
pub mod search;
