//! The episodic N-way K-shot Q-query sampler of few-shot learning.

use rand::rngs::StdRng;
use rand::seq::index::sample;
use rand::SeedableRng;

/// Odd constant (2^64 / golden ratio) that spreads episode numbers over the seed space.
const EPISODE_MIX: u64 = 0x9E37_79B9_7F4A_7C15;

/// The size of an episode: `ways` classes, each with `shots` support and `queries` query items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EpisodeShape {
    /// Classes per episode (N).
    pub ways: usize,
    /// Support items per class (K).
    pub shots: usize,
    /// Query items per class (Q).
    pub queries: usize,
}

/// Invalid episodic-sampler parameters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EpisodeError {
    /// Ways or shots is zero.
    #[error("an episode needs at least 1 way and 1 shot, got {ways}-way {shots}-shot")]
    Empty {
        /// Requested ways.
        ways: usize,
        /// Requested shots.
        shots: usize,
    },
    /// More ways than classes.
    #[error("{ways}-way episodes need at least {ways} classes, but the data has {classes}")]
    TooFewClasses {
        /// Requested ways.
        ways: usize,
        /// Classes available.
        classes: usize,
    },
    /// A class cannot give K + Q distinct items.
    #[error("class {class} has {items} examples, fewer than shots + queries = {needed}")]
    TooFewExamples {
        /// The class index.
        class: usize,
        /// Its number of items.
        items: usize,
        /// shots + queries.
        needed: usize,
    },
}

/// One episode. Items are indices into the data set; both lists are class-major, so support
/// item `i` has episode label `i / shots` and query item `j` label `j / queries`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Episode {
    /// The data set's class of each episode label.
    pub classes: Vec<usize>,
    /// `ways × shots` support items.
    pub support: Vec<usize>,
    /// `ways × queries` query items.
    pub query: Vec<usize>,
}

/// Draws episodes: `ways` distinct classes, then `shots + queries` distinct items of each (so no
/// item is both support and query). Episode `i` depends only on the seed, `i` and the data, so
/// episodes can be drawn in any order.
#[derive(Debug, Clone)]
pub struct EpisodicSampler {
    class_items: Vec<Vec<usize>>,
    shape: EpisodeShape,
    seed: u64,
}

impl EpisodicSampler {
    /// Checks that every class can fill an episode.
    ///
    /// # Errors
    /// [`EpisodeError::Empty`], [`EpisodeError::TooFewClasses`] (N larger than the number of
    /// classes) and [`EpisodeError::TooFewExamples`] (the first class with fewer than K + Q items).
    pub fn new(
        class_items: Vec<Vec<usize>>,
        shape: EpisodeShape,
        seed: u64,
    ) -> Result<Self, EpisodeError> {
        if shape.ways == 0 || shape.shots == 0 {
            return Err(EpisodeError::Empty {
                ways: shape.ways,
                shots: shape.shots,
            });
        }
        if shape.ways > class_items.len() {
            return Err(EpisodeError::TooFewClasses {
                ways: shape.ways,
                classes: class_items.len(),
            });
        }
        let needed = shape.shots + shape.queries;
        if let Some((class, items)) = class_items
            .iter()
            .enumerate()
            .find(|(_, items)| items.len() < needed)
        {
            return Err(EpisodeError::TooFewExamples {
                class,
                items: items.len(),
                needed,
            });
        }
        Ok(Self {
            class_items,
            shape,
            seed,
        })
    }

    /// The episode shape.
    pub fn shape(&self) -> EpisodeShape {
        self.shape
    }

    /// Episode number `index`.
    pub fn episode(&self, index: u64) -> Episode {
        let mut rng =
            StdRng::seed_from_u64(self.seed ^ index.wrapping_add(1).wrapping_mul(EPISODE_MIX));
        let EpisodeShape {
            ways,
            shots,
            queries,
        } = self.shape;
        let classes = sample(&mut rng, self.class_items.len(), ways).into_vec();
        let mut support = Vec::with_capacity(ways * shots);
        let mut query = Vec::with_capacity(ways * queries);
        for &class in &classes {
            let items = &self.class_items[class];
            let picked = sample(&mut rng, items.len(), shots + queries);
            for (i, at) in picked.iter().enumerate() {
                if i < shots {
                    support.push(items[at]);
                } else {
                    query.push(items[at]);
                }
            }
        }
        Episode {
            classes,
            support,
            query,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn classes(n: usize, per_class: usize) -> Vec<Vec<usize>> {
        (0..n)
            .map(|c| (c * per_class..(c + 1) * per_class).collect())
            .collect()
    }

    fn shape(ways: usize, shots: usize, queries: usize) -> EpisodeShape {
        EpisodeShape {
            ways,
            shots,
            queries,
        }
    }

    #[test]
    fn episodes_have_distinct_classes_and_items_of_their_class() {
        let sampler = EpisodicSampler::new(classes(10, 6), shape(5, 2, 3), 7).unwrap();
        for i in 0..50 {
            let ep = sampler.episode(i);
            assert_eq!(ep.classes.len(), 5);
            assert_eq!(ep.classes.iter().collect::<HashSet<_>>().len(), 5);
            assert_eq!((ep.support.len(), ep.query.len()), (10, 15));
            let all: HashSet<_> = ep.support.iter().chain(&ep.query).collect();
            assert_eq!(all.len(), 25, "no item twice in an episode");
            for (j, item) in ep.support.iter().enumerate() {
                assert_eq!(item / 6, ep.classes[j / 2]);
            }
            for (j, item) in ep.query.iter().enumerate() {
                assert_eq!(item / 6, ep.classes[j / 3]);
            }
        }
    }

    #[test]
    fn seeded_and_order_independent() {
        let a = EpisodicSampler::new(classes(10, 6), shape(5, 1, 1), 7).unwrap();
        let b = EpisodicSampler::new(classes(10, 6), shape(5, 1, 1), 7).unwrap();
        let c = EpisodicSampler::new(classes(10, 6), shape(5, 1, 1), 8).unwrap();
        assert_eq!(a.episode(3), b.episode(3));
        assert_ne!(a.episode(3), a.episode(4));
        assert_ne!(a.episode(3), c.episode(3));
        // Every class gets drawn eventually.
        let seen: HashSet<_> = (0..100).flat_map(|i| a.episode(i).classes).collect();
        assert_eq!(seen.len(), 10);
    }

    #[test]
    fn rejects_too_many_ways_and_too_small_classes() {
        assert_eq!(
            EpisodicSampler::new(classes(4, 6), shape(5, 1, 1), 0).unwrap_err(),
            EpisodeError::TooFewClasses {
                ways: 5,
                classes: 4
            }
        );
        let mut data = classes(6, 6);
        data[3].truncate(3);
        let err = EpisodicSampler::new(data, shape(5, 2, 2), 0).unwrap_err();
        assert_eq!(
            err,
            EpisodeError::TooFewExamples {
                class: 3,
                items: 3,
                needed: 4
            }
        );
        assert!(err.to_string().contains("class 3 has 3 examples"));
        assert!(matches!(
            EpisodicSampler::new(classes(6, 6), shape(0, 1, 1), 0),
            Err(EpisodeError::Empty { .. })
        ));
    }
}
