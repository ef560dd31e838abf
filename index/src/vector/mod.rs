//! Vector indexes and distances.

mod distance;
mod flat;

pub use distance::Distance;
pub use flat::FlatIndex;
