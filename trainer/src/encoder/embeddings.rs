//! A dense matrix of embeddings, one row per text.

/// Row-major `[n, dim]` f32 embeddings.
#[derive(Debug, Clone, PartialEq)]
pub struct Embeddings {
    dim: usize,
    data: Vec<f32>,
}

impl Embeddings {
    /// Wraps row-major data. Returns `None` when `data.len()` is not a multiple of `dim`.
    pub fn from_flat(dim: usize, data: Vec<f32>) -> Option<Self> {
        (dim > 0 && data.len().is_multiple_of(dim)).then_some(Self { dim, data })
    }

    /// The width of each row.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.data.len() / self.dim
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Row `i`, if it exists.
    pub fn row(&self, i: usize) -> Option<&[f32]> {
        self.data.get(i * self.dim..(i + 1) * self.dim)
    }

    /// All rows in order.
    pub fn rows(&self) -> std::slice::ChunksExact<'_, f32> {
        self.data.chunks_exact(self.dim)
    }

    /// The row-major data.
    pub fn as_flat(&self) -> &[f32] {
        &self.data
    }

    /// Consumes the matrix into its row-major data.
    pub fn into_flat(self) -> Vec<f32> {
        self.data
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_follow_the_flat_layout() {
        let e = Embeddings::from_flat(2, vec![1.0, 2.0, 3.0, 4.0]).unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(e.row(1), Some([3.0, 4.0].as_slice()));
        assert_eq!(e.row(2), None);
        assert_eq!(e.rows().count(), 2);
        assert!(Embeddings::from_flat(3, vec![1.0, 2.0]).is_none());
        assert!(Embeddings::from_flat(0, vec![]).is_none());
    }
}
