//! Seeded, platform-independent pseudo-randomness for data choices (held-out queries, corpus
//! caps, mined negatives) and per-step seeds: SplitMix64 over FNV-1a hashes, so a choice depends
//! only on the seed and the item's name, never on iteration order or the `rand` version.

/// The SplitMix64 finaliser of `a` combined with `b`.
pub(crate) fn mix(a: u64, b: u64) -> u64 {
    let mut z = a ^ b.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a of `text`.
pub(crate) fn hash_str(text: &str) -> u64 {
    text.bytes().fold(0xCBF2_9CE4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3)
    })
}

/// `items` ordered by `mix(seed, key(item))`: a seeded shuffle that does not depend on the
/// input order when keys are distinct.
pub(crate) fn shuffled_by<T>(mut items: Vec<T>, seed: u64, key: impl Fn(&T) -> u64) -> Vec<T> {
    items.sort_by_cached_key(|item| mix(seed, key(item)));
    items
}

/// `k` distinct elements of `pool` chosen by `seed` (all of them, shuffled, when `k >= len`).
pub(crate) fn sample<T: Copy>(pool: &[T], k: usize, seed: u64) -> Vec<T> {
    let mut items = pool.to_vec();
    let mut state = seed;
    let take = k.min(items.len());
    for i in 0..take {
        state = mix(state, i as u64);
        let span = (items.len() - i) as u64;
        let j = i + usize::try_from(state % span).unwrap_or(0);
        items.swap(i, j);
    }
    items.truncate(take);
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_is_distinct_seeded_and_bounded() {
        let pool: Vec<usize> = (0..40).collect();
        let a = sample(&pool, 5, 3);
        assert_eq!(a, sample(&pool, 5, 3));
        assert_ne!(a, sample(&pool, 5, 4));
        let mut sorted = a.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 5);
        assert_eq!(sample(&pool[..3], 5, 1).len(), 3);
    }

    #[test]
    fn shuffle_ignores_input_order() {
        let a = shuffled_by(vec!["x", "y", "z", "w"], 9, |s| hash_str(s));
        let b = shuffled_by(vec!["w", "z", "y", "x"], 9, |s| hash_str(s));
        assert_eq!(a, b);
    }
}
