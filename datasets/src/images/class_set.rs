//! [`ImageClassSet`]: square greyscale images held in one buffer, grouped by class, plus the
//! pixel operations the loaders share (area resize, 90° rotation).

/// Square greyscale images (`side × side`, row-major `f32`) with a class per image.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageClassSet {
    side: usize,
    pixels: Vec<f32>,
    class_items: Vec<Vec<usize>>,
    class_names: Vec<String>,
}

impl ImageClassSet {
    /// An empty set of `side × side` images.
    pub fn new(side: usize) -> Self {
        Self {
            side,
            pixels: Vec::new(),
            class_items: Vec::new(),
            class_names: Vec::new(),
        }
    }

    /// Starts a new class named `name` and returns its index.
    pub fn add_class(&mut self, name: impl Into<String>) -> usize {
        self.class_items.push(Vec::new());
        self.class_names.push(name.into());
        self.class_items.len() - 1
    }

    /// Appends an image (`side²` pixels) to class `class`, returning its index, or `None` when
    /// the class does not exist or the pixel count is wrong.
    pub fn push(&mut self, class: usize, pixels: &[f32]) -> Option<usize> {
        if pixels.len() != self.side * self.side {
            return None;
        }
        let index = self.len();
        self.class_items.get_mut(class)?.push(index);
        self.pixels.extend_from_slice(pixels);
        Some(index)
    }

    /// Image height and width.
    pub fn side(&self) -> usize {
        self.side
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.pixels.len() / (self.side * self.side).max(1)
    }

    /// Whether there are no images.
    pub fn is_empty(&self) -> bool {
        self.pixels.is_empty()
    }

    /// Number of classes.
    pub fn num_classes(&self) -> usize {
        self.class_items.len()
    }

    /// For each class, the indices of its images.
    pub fn class_items(&self) -> &[Vec<usize>] {
        &self.class_items
    }

    /// The name of each class.
    pub fn class_names(&self) -> &[String] {
        &self.class_names
    }

    /// The pixels of image `index`, `None` when out of range.
    pub fn image(&self, index: usize) -> Option<&[f32]> {
        let n = self.side * self.side;
        self.pixels.get(index * n..(index + 1) * n)
    }

    /// All pixels, image after image.
    pub fn pixels(&self) -> &[f32] {
        &self.pixels
    }
}

/// Resizes a `src_h × src_w` image to `dst × dst` by area averaging: each output pixel is the
/// mean of the source area it covers, fractional pixels weighted by overlap.
pub(crate) fn resize_area(src: &[f32], src_h: usize, src_w: usize, dst: usize) -> Vec<f32> {
    let horizontal = area_weights(src_w, dst);
    let vertical = area_weights(src_h, dst);
    let mut rows = vec![0.0f32; src_h * dst];
    for y in 0..src_h {
        for (x, taps) in horizontal.iter().enumerate() {
            rows[y * dst + x] = taps.iter().map(|&(i, w)| src[y * src_w + i] * w).sum();
        }
    }
    let mut out = vec![0.0f32; dst * dst];
    for (y, taps) in vertical.iter().enumerate() {
        for x in 0..dst {
            out[y * dst + x] = taps.iter().map(|&(i, w)| rows[i * dst + x] * w).sum();
        }
    }
    out
}

/// For each of `dst` output cells, the source cells it overlaps and their normalised weights.
#[expect(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "image sides are small"
)]
fn area_weights(src: usize, dst: usize) -> Vec<Vec<(usize, f32)>> {
    let scale = src as f64 / dst.max(1) as f64;
    (0..dst)
        .map(|o| {
            let (lo, hi) = (o as f64 * scale, (o + 1) as f64 * scale);
            let first = lo.floor() as usize;
            let last = (hi.ceil() as usize).min(src);
            (first..last)
                .filter_map(|i| {
                    let overlap = (hi.min((i + 1) as f64) - lo.max(i as f64)).max(0.0);
                    (overlap > 0.0).then_some((i, (overlap / scale) as f32))
                })
                .collect()
        })
        .collect()
}

/// Rotates a `side × side` image by 90° counter-clockwise, as `numpy.rot90`.
pub fn rotate90(src: &[f32], side: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; side * side];
    for i in 0..side {
        for j in 0..side {
            out[i * side + j] = src[j * side + (side - 1 - i)];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn area_resize_averages_blocks_and_keeps_the_mean() {
        let src: Vec<f32> = (0..16).map(|v| v as f32).collect();
        let out = resize_area(&src, 4, 4, 2);
        assert_eq!(out, vec![2.5, 4.5, 10.5, 12.5]);
        // A non-integer ratio (105 -> 28 in Omniglot) preserves the mean intensity.
        let src: Vec<f32> = (0..25).map(|v| (v % 3) as f32).collect();
        let out = resize_area(&src, 5, 5, 3);
        let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len() as f32;
        assert!((mean(&out) - mean(&src)).abs() < 1e-5);
    }

    #[test]
    fn rotate90_matches_numpy_and_four_turns_are_identity() {
        // np.rot90([[0, 1], [2, 3]]) == [[1, 3], [0, 2]]
        assert_eq!(rotate90(&[0.0, 1.0, 2.0, 3.0], 2), vec![1.0, 3.0, 0.0, 2.0]);
        let src: Vec<f32> = (0..9).map(|v| v as f32).collect();
        let mut x = src.clone();
        for _ in 0..4 {
            x = rotate90(&x, 3);
        }
        assert_eq!(x, src);
    }

    #[test]
    fn set_groups_images_by_class_and_rejects_wrong_sizes() {
        let mut set = ImageClassSet::new(2);
        let a = set.add_class("a");
        let b = set.add_class("b");
        assert_eq!(set.push(a, &[0.0; 4]), Some(0));
        assert_eq!(set.push(b, &[1.0; 4]), Some(1));
        assert_eq!(set.push(a, &[2.0; 4]), Some(2));
        assert_eq!(set.push(a, &[2.0; 3]), None);
        assert_eq!(set.push(7, &[2.0; 4]), None);
        assert_eq!(set.class_items(), &[vec![0, 2], vec![1]]);
        assert_eq!(set.image(1), Some(&[1.0f32; 4][..]));
        assert_eq!(set.image(3), None);
        assert_eq!((set.len(), set.num_classes()), (3, 2));
    }
}
