//! A P×K batch sampler: every batch holds `P` different classes with `K` items each, as face
//! recognition and metric learning use (positive pairs in every batch, negatives across classes).

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;

use crate::samplers::SamplerError;

/// Odd constant (2^64 / golden ratio) that spreads epochs over the seed space.
const EPOCH_MIX: u64 = 0x9E37_79B9_7F4A_7C15;

/// What [`ClassBalancedBatchSampler::new`] does with a class that has fewer than `K` items
/// (e.g. an identity with a single image).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SmallClassPolicy {
    /// Refuse with [`SamplerError::ClassTooSmall`] naming the first such class.
    #[default]
    Error,
    /// Leave such classes out of every batch; [`ClassBalancedBatchSampler::skipped_classes`]
    /// lists them.
    Skip,
}

/// Seeded P×K batches over labelled items.
///
/// Each epoch shuffles the items of every class with a [`StdRng`] seeded from `seed` and the
/// epoch, cuts them into groups of `K` (a remainder shorter than `K` sits this epoch out, a
/// different one each epoch), shuffles the groups and fills each batch with `P` groups of
/// different classes, deferring a group whose class is already in the batch. A final batch
/// with fewer than `P` groups is dropped, so every batch has exactly `P × K` items, laid out
/// group after group (rows `g K .. (g + 1) K` share a class). No item appears twice in an
/// epoch. The result depends only on the labels, `P`, `K`, the seed and the epoch.
#[derive(Debug, Clone)]
pub struct ClassBalancedBatchSampler {
    /// Item indices of every class that takes part.
    classes: Vec<Vec<usize>>,
    skipped: Vec<usize>,
    classes_per_batch: usize,
    items_per_class: usize,
    seed: u64,
}

impl ClassBalancedBatchSampler {
    /// Groups the items by label (`labels[i]` is the class of item `i`).
    ///
    /// # Errors
    /// [`SamplerError::ZeroBatchSize`] when `P` or `K` is 0, [`SamplerError::NoExamples`] for no
    /// labels, [`SamplerError::ClassTooSmall`] for a class with fewer than `K` items under
    /// [`SmallClassPolicy::Error`], and [`SamplerError::TooFewClasses`] when fewer than `P`
    /// classes remain (no batch could be filled).
    pub fn new(
        labels: &[usize],
        classes_per_batch: usize,
        items_per_class: usize,
        seed: u64,
        policy: SmallClassPolicy,
    ) -> Result<Self, SamplerError> {
        if classes_per_batch == 0 || items_per_class == 0 {
            return Err(SamplerError::ZeroBatchSize);
        }
        if labels.is_empty() {
            return Err(SamplerError::NoExamples);
        }
        let n_labels = labels.iter().max().map_or(0, |m| m + 1);
        let mut by_label: Vec<Vec<usize>> = vec![Vec::new(); n_labels];
        for (index, &label) in labels.iter().enumerate() {
            by_label[label].push(index);
        }
        let (mut classes, mut skipped) = (Vec::new(), Vec::new());
        for (label, items) in by_label.into_iter().enumerate() {
            if items.is_empty() {
                continue;
            }
            if items.len() < items_per_class {
                match policy {
                    SmallClassPolicy::Error => {
                        return Err(SamplerError::ClassTooSmall {
                            label,
                            items: items.len(),
                            items_per_class,
                        })
                    }
                    SmallClassPolicy::Skip => skipped.push(label),
                }
            } else {
                classes.push(items);
            }
        }
        if classes.len() < classes_per_batch {
            return Err(SamplerError::TooFewClasses {
                classes: classes.len(),
                classes_per_batch,
            });
        }
        Ok(Self {
            classes,
            skipped,
            classes_per_batch,
            items_per_class,
            seed,
        })
    }

    /// Labels left out under [`SmallClassPolicy::Skip`], ascending.
    pub fn skipped_classes(&self) -> &[usize] {
        &self.skipped
    }

    /// Items per batch, `P × K`.
    pub fn batch_size(&self) -> usize {
        self.classes_per_batch * self.items_per_class
    }

    /// The batches of epoch `epoch`, as item indices (see the type's documentation).
    pub fn epoch(&self, epoch: u64) -> Vec<Vec<usize>> {
        let mut rng = StdRng::seed_from_u64(self.seed ^ epoch.wrapping_mul(EPOCH_MIX));
        let k = self.items_per_class;
        let mut groups: Vec<(usize, Vec<usize>)> = Vec::new();
        for (class, items) in self.classes.iter().enumerate() {
            let mut items = items.clone();
            items.shuffle(&mut rng);
            for chunk in items.chunks_exact(k) {
                groups.push((class, chunk.to_vec()));
            }
        }
        groups.shuffle(&mut rng);
        let mut batches = Vec::new();
        let mut pending = groups;
        while pending.len() >= self.classes_per_batch {
            let mut batch_classes = Vec::with_capacity(self.classes_per_batch);
            let mut batch = Vec::with_capacity(self.batch_size());
            let mut deferred = Vec::new();
            let mut rest = pending.into_iter();
            for (class, group) in rest.by_ref() {
                if batch_classes.contains(&class) {
                    deferred.push((class, group));
                    continue;
                }
                batch_classes.push(class);
                batch.extend(group);
                if batch_classes.len() == self.classes_per_batch {
                    break;
                }
            }
            deferred.extend(rest);
            if batch_classes.len() < self.classes_per_batch {
                break;
            }
            batches.push(batch);
            pending = deferred;
        }
        batches
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    /// 6 classes with 5, 4, 4, 3, 2, 1 items.
    fn labels() -> Vec<usize> {
        [5, 4, 4, 3, 2, 1]
            .iter()
            .enumerate()
            .flat_map(|(label, &n)| std::iter::repeat_n(label, n))
            .collect()
    }

    #[test]
    fn batches_hold_p_classes_with_k_items_each_and_no_repeats() {
        let labels = labels();
        let sampler =
            ClassBalancedBatchSampler::new(&labels, 2, 2, 7, SmallClassPolicy::Skip).unwrap();
        assert_eq!(sampler.skipped_classes(), [5]);
        for epoch in 0..5 {
            let batches = sampler.epoch(epoch);
            assert!(!batches.is_empty());
            let mut seen = HashSet::new();
            for batch in &batches {
                assert_eq!(batch.len(), 4);
                let groups: Vec<usize> = batch.chunks(2).map(|g| labels[g[0]]).collect();
                for group in batch.chunks(2) {
                    assert_eq!(labels[group[0]], labels[group[1]]);
                }
                assert_ne!(groups[0], groups[1], "{batch:?}");
                for &i in batch {
                    assert!(seen.insert(i), "item {i} twice in epoch {epoch}");
                }
            }
        }
    }

    #[test]
    fn same_seed_same_batches_other_epoch_other_batches() {
        let labels = labels();
        let a = ClassBalancedBatchSampler::new(&labels, 2, 2, 7, SmallClassPolicy::Skip).unwrap();
        let b = ClassBalancedBatchSampler::new(&labels, 2, 2, 7, SmallClassPolicy::Skip).unwrap();
        assert_eq!(a.epoch(3), b.epoch(3));
        assert_ne!(a.epoch(0), a.epoch(1));
    }

    #[test]
    fn an_identity_with_one_image_is_a_clear_error_by_default() {
        let err = ClassBalancedBatchSampler::new(&labels(), 2, 2, 0, SmallClassPolicy::Error)
            .unwrap_err();
        assert_eq!(
            err,
            SamplerError::ClassTooSmall {
                label: 5,
                items: 1,
                items_per_class: 2
            }
        );
        assert!(err.to_string().contains("class 5 has 1 item"), "{err}");
    }

    #[test]
    fn impossible_settings_are_rejected() {
        let labels = labels();
        assert_eq!(
            ClassBalancedBatchSampler::new(&labels, 0, 2, 0, SmallClassPolicy::Skip).unwrap_err(),
            SamplerError::ZeroBatchSize
        );
        assert_eq!(
            ClassBalancedBatchSampler::new(&[], 2, 2, 0, SmallClassPolicy::Skip).unwrap_err(),
            SamplerError::NoExamples
        );
        // Only classes 0, 1 and 2 have 4 or more items.
        assert_eq!(
            ClassBalancedBatchSampler::new(&labels, 4, 4, 0, SmallClassPolicy::Skip).unwrap_err(),
            SamplerError::TooFewClasses {
                classes: 3,
                classes_per_batch: 4
            }
        );
    }
}
