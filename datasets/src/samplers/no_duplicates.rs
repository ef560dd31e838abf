//! A batch sampler that never puts the same text in two examples of a batch,
//! after sentence-transformers' `NoDuplicatesBatchSampler`.

use std::collections::HashMap;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;

use crate::TrainingExample;

/// Odd constant (2^64 / golden ratio) that spreads epochs over the seed space.
const EPOCH_MIX: u64 = 0x9E37_79B9_7F4A_7C15;

/// Invalid sampler parameters.
///
/// Kept apart from [`crate::DatasetError`], whose variants all name a file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SamplerError {
    /// The batch size (or P or K) is zero.
    #[error("batch size must be at least 1")]
    ZeroBatchSize,
    /// There are no examples to sample from.
    #[error("no training examples to sample from")]
    NoExamples,
    /// With `drop_last`, fewer examples than one batch would give no batch at all.
    #[error(
        "{examples} examples cannot fill one batch of {batch_size} and drop_last is set, \
         so every epoch would be empty"
    )]
    TooFewExamples {
        /// Number of examples given.
        examples: usize,
        /// The requested batch size.
        batch_size: usize,
    },
    /// A class has fewer items than a P×K batch takes from each class.
    #[error(
        "class {label} has {items} item(s) but every batch takes {items_per_class} per class \
         (leave such classes out, or lower K)"
    )]
    ClassTooSmall {
        /// The class label.
        label: usize,
        /// Its number of items.
        items: usize,
        /// `K`.
        items_per_class: usize,
    },
    /// Fewer classes than one P×K batch needs.
    #[error("{classes} usable classes cannot fill a batch of {classes_per_batch} classes")]
    TooFewClasses {
        /// Classes with at least `K` items.
        classes: usize,
        /// `P`.
        classes_per_batch: usize,
    },
}

/// Splits the examples of each epoch into batches in which no text (query,
/// positive or negative, compared exactly) occurs in two different examples.
///
/// Each epoch shuffles the example indices with a [`StdRng`] seeded from
/// `seed` and the epoch number, then fills batches greedily, as
/// sentence-transformers' `NoDuplicatesBatchSampler` does: scanning the
/// remaining examples in shuffled order, an example is added to the current
/// batch unless one of its texts is already there, in which case it is
/// deferred to a later batch. A batch ends when it holds `batch_size`
/// examples or the scan reaches the end; in the latter case it is shorter
/// (this happens only near the end of an epoch, when the remaining examples
/// collide with each other) and is dropped when `drop_last` is set.
///
/// So every example is in exactly one batch per epoch, except those in short
/// batches dropped by `drop_last`. Texts repeated *within* one example (e.g.
/// query equal to positive) are allowed. The result depends only on the
/// examples' texts, `batch_size`, `seed`, `drop_last` and the epoch.
#[derive(Debug, Clone)]
pub struct NoDuplicatesBatchSampler {
    /// For each example, the ids of its distinct texts.
    text_ids: Vec<Vec<u32>>,
    /// Number of distinct texts over all examples.
    distinct_texts: usize,
    batch_size: usize,
    seed: u64,
    drop_last: bool,
}

impl NoDuplicatesBatchSampler {
    /// Indexes the texts of `examples` (the sampler does not keep them).
    ///
    /// # Errors
    ///
    /// [`SamplerError::ZeroBatchSize`] when `batch_size` is 0,
    /// [`SamplerError::NoExamples`] when `examples` is empty, and
    /// [`SamplerError::TooFewExamples`] when `drop_last` is set and there
    /// are fewer examples than `batch_size`.
    pub fn new(
        examples: &[TrainingExample],
        batch_size: usize,
        seed: u64,
        drop_last: bool,
    ) -> Result<Self, SamplerError> {
        if batch_size == 0 {
            return Err(SamplerError::ZeroBatchSize);
        }
        if examples.is_empty() {
            return Err(SamplerError::NoExamples);
        }
        if drop_last && examples.len() < batch_size {
            return Err(SamplerError::TooFewExamples {
                examples: examples.len(),
                batch_size,
            });
        }
        let mut ids: HashMap<&str, u32> = HashMap::new();
        let mut text_ids = Vec::with_capacity(examples.len());
        for example in examples {
            let mut example_ids: Vec<u32> = example
                .texts()
                .map(|text| {
                    let next = u32::try_from(ids.len()).unwrap_or(u32::MAX);
                    *ids.entry(text).or_insert(next)
                })
                .collect();
            example_ids.sort_unstable();
            example_ids.dedup();
            text_ids.push(example_ids);
        }
        Ok(Self {
            text_ids,
            distinct_texts: ids.len(),
            batch_size,
            seed,
            drop_last,
        })
    }

    /// Number of examples the sampler draws from.
    pub fn num_examples(&self) -> usize {
        self.text_ids.len()
    }

    /// The maximum number of examples per batch.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// Whether short batches are dropped.
    pub fn drop_last(&self) -> bool {
        self.drop_last
    }

    /// The batches of epoch `epoch`, as indices into the examples given to
    /// [`NoDuplicatesBatchSampler::new`]. The same epoch always gives the
    /// same batches; different epochs are shuffled differently.
    pub fn epoch(&self, epoch: u64) -> Vec<Vec<usize>> {
        let mut rng = StdRng::seed_from_u64(self.seed ^ epoch.wrapping_mul(EPOCH_MIX));
        let mut remaining: Vec<usize> = (0..self.text_ids.len()).collect();
        remaining.shuffle(&mut rng);

        // `stamp[text] == batch number + 1` marks the texts of the current
        // batch, so the marks never need clearing.
        let mut stamp = vec![0_usize; self.distinct_texts];
        let mut batches = Vec::with_capacity(remaining.len().div_ceil(self.batch_size));
        // `remaining[start..]` holds the examples not yet batched, in order.
        let mut start = 0;
        let mut batch_number = 0;
        while start < remaining.len() {
            batch_number += 1;
            let mut batch = Vec::with_capacity(self.batch_size);
            let mut deferred = Vec::new();
            let mut position = start;
            while position < remaining.len() && batch.len() < self.batch_size {
                let index = remaining[position];
                position += 1;
                let ids = &self.text_ids[index];
                if ids.iter().any(|&id| stamp[id as usize] == batch_number) {
                    deferred.push(index);
                    continue;
                }
                for &id in ids {
                    stamp[id as usize] = batch_number;
                }
                batch.push(index);
            }
            // Put the deferred examples back, in order, just before the
            // unscanned rest: `remaining[start..position]` had room for them.
            start = position - deferred.len();
            remaining[start..position].copy_from_slice(&deferred);
            if batch.len() == self.batch_size || !self.drop_last {
                batches.push(batch);
            }
        }
        batches
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use proptest::prelude::*;

    use super::*;

    fn example(texts: &[&str]) -> TrainingExample {
        TrainingExample {
            query: texts[0].to_owned(),
            positive: texts[1].to_owned(),
            negatives: texts[2..].iter().map(|&t| t.to_owned()).collect(),
        }
    }

    fn distinct_examples(count: usize) -> Vec<TrainingExample> {
        (0..count)
            .map(|i| TrainingExample::pair(format!("q{i}"), format!("p{i}")))
            .collect()
    }

    /// Fails if two different examples of one batch share a text.
    fn assert_no_shared_text(examples: &[TrainingExample], batches: &[Vec<usize>]) {
        for batch in batches {
            let mut seen: HashSet<&str> = HashSet::new();
            for &index in batch {
                let texts: HashSet<&str> = examples[index].texts().collect();
                for text in texts {
                    assert!(seen.insert(text), "text {text:?} twice in batch {batch:?}");
                }
            }
        }
    }

    #[test]
    fn invalid_parameters_are_typed_errors() {
        let examples = distinct_examples(3);
        let err = NoDuplicatesBatchSampler::new(&examples, 0, 1, false).unwrap_err();
        assert_eq!(err, SamplerError::ZeroBatchSize);
        let err = NoDuplicatesBatchSampler::new(&[], 2, 1, false).unwrap_err();
        assert_eq!(err, SamplerError::NoExamples);
        let err = NoDuplicatesBatchSampler::new(&examples, 4, 1, true).unwrap_err();
        assert_eq!(
            err,
            SamplerError::TooFewExamples {
                examples: 3,
                batch_size: 4
            }
        );
        assert!(NoDuplicatesBatchSampler::new(&examples, 4, 1, false).is_ok());
        assert!(NoDuplicatesBatchSampler::new(&examples, 3, 1, true).is_ok());
    }

    #[test]
    fn colliding_examples_are_deferred_not_lost() {
        // Every example shares the positive "p", so each batch holds one example.
        let examples: Vec<_> = (0..5)
            .map(|i| TrainingExample::pair(format!("q{i}"), "p"))
            .collect();
        let sampler = NoDuplicatesBatchSampler::new(&examples, 4, 7, false).unwrap();
        let batches = sampler.epoch(0);
        assert_eq!(batches.len(), 5);
        assert!(batches.iter().all(|batch| batch.len() == 1));
        let mut all: Vec<usize> = batches.concat();
        all.sort_unstable();
        assert_eq!(all, [0, 1, 2, 3, 4]);

        let sampler = NoDuplicatesBatchSampler::new(&examples, 4, 7, true).unwrap();
        assert!(sampler.epoch(0).is_empty());
    }

    #[test]
    fn texts_repeated_within_one_example_are_allowed() {
        let examples = vec![example(&["same", "same"]), example(&["a", "b", "a"])];
        let sampler = NoDuplicatesBatchSampler::new(&examples, 2, 0, true).unwrap();
        assert_eq!(sampler.epoch(0).len(), 1);
    }

    #[test]
    fn epochs_are_deterministic_and_reshuffled() {
        let examples = distinct_examples(100);
        let sampler = NoDuplicatesBatchSampler::new(&examples, 8, 42, false).unwrap();
        let again = NoDuplicatesBatchSampler::new(&examples, 8, 42, false).unwrap();
        let epochs: Vec<_> = (0..5).map(|e| sampler.epoch(e)).collect();
        for (e, batches) in (0..5).zip(&epochs) {
            assert_eq!(batches, &again.epoch(e));
            assert_eq!(batches.len(), 13);
            assert_eq!(batches[12].len(), 4);
        }
        let distinct: HashSet<_> = epochs.iter().collect();
        assert_eq!(distinct.len(), 5);
        let other_seed = NoDuplicatesBatchSampler::new(&examples, 8, 43, false).unwrap();
        assert_ne!(other_seed.epoch(0), epochs[0]);

        let dropped = NoDuplicatesBatchSampler::new(&examples, 8, 42, true).unwrap();
        assert_eq!(dropped.epoch(0), epochs[0][..12]);
    }

    /// Examples over a small vocabulary, so that texts collide often.
    fn examples_strategy() -> impl Strategy<Value = Vec<TrainingExample>> {
        let text = (0..24_u8).prop_map(|t| format!("t{t}"));
        let example = (
            text.clone(),
            text.clone(),
            prop::collection::vec(text, 0..3),
        )
            .prop_map(|(query, positive, negatives)| TrainingExample {
                query,
                positive,
                negatives,
            });
        prop::collection::vec(example, 1..60)
    }

    proptest! {
        #[test]
        fn sampler_invariants(
            examples in examples_strategy(),
            batch_size in 1_usize..10,
            seed in any::<u64>(),
            drop_last in any::<bool>(),
            epoch in 0_u64..1_000,
        ) {
            prop_assume!(!drop_last || examples.len() >= batch_size);
            let sampler = NoDuplicatesBatchSampler::new(&examples, batch_size, seed, drop_last)
                .unwrap();
            let batches = sampler.epoch(epoch);
            assert_no_shared_text(&examples, &batches);

            let mut seen = vec![false; examples.len()];
            for batch in &batches {
                prop_assert!(!batch.is_empty() && batch.len() <= batch_size);
                if drop_last {
                    prop_assert_eq!(batch.len(), batch_size);
                }
                for &index in batch {
                    prop_assert!(!seen[index], "example {} twice in one epoch", index);
                    seen[index] = true;
                }
            }
            if !drop_last {
                prop_assert!(seen.iter().all(|&s| s), "an example is missing");
            }
            prop_assert_eq!(&batches, &sampler.epoch(epoch));
        }

        #[test]
        fn different_epochs_shuffle_differently(
            count in 20_usize..80,
            batch_size in 1_usize..10,
            seed in any::<u64>(),
            epoch in 0_u64..1_000,
        ) {
            // With >= 20 distinct examples, equal orders have probability <= 1/20!.
            let examples = distinct_examples(count);
            let sampler = NoDuplicatesBatchSampler::new(&examples, batch_size, seed, false)
                .unwrap();
            prop_assert_ne!(sampler.epoch(epoch), sampler.epoch(epoch + 1));
        }
    }
}
