//! Training examples and the no-duplicates sampler on the real data.

use std::collections::HashSet;

use pairwise_datasets::{
    beir_training_examples, read_nli_triplets, NoDuplicatesBatchSampler, Result,
};

use crate::{data_dir, scifact};

#[test]
fn scifact_train_gives_919_pairs_from_809_queries() -> Result<()> {
    let set = scifact()?.load_split("train")?;
    let examples = beir_training_examples(&set);
    assert_eq!(examples.len(), 919);
    // Every one of the 809 judged queries gives at least one pair; two pairs
    // of them share their text, so there are only 807 distinct query texts.
    assert_eq!(set.queries.len(), 809);
    let queries: HashSet<&str> = examples.iter().map(|e| e.query.as_str()).collect();
    assert_eq!(queries.len(), 807);
    assert!(set
        .queries
        .iter()
        .all(|q| queries.contains(q.text.as_str())));
    assert!(examples.iter().all(|e| e.negatives.is_empty()));
    let docs: HashSet<String> = set.corpus.iter().map(|d| d.beir_text()).collect();
    assert!(examples.iter().all(|e| docs.contains(&e.positive)));
    Ok(())
}

/// One triplet per distinct entailment hypothesis of each premise having
/// both an entailment and a contradiction: dev 3,170 triplets from 2,943
/// premises (of 3,319), test 3,167 from 2,921 (of 3,323); a Python
/// re-implementation over the same files gives the same counts.
#[test]
fn snli_triplet_counts() -> Result<()> {
    let dir = data_dir().join("snli-devtest");
    let dev = read_nli_triplets(&dir, "dev")?;
    let test = read_nli_triplets(&dir, "test")?;
    assert_eq!(dev.len(), 3_170);
    assert_eq!(test.len(), 3_167);
    for (triplets, premises) in [(&dev, 2_943), (&test, 2_921)] {
        let distinct: HashSet<&str> = triplets.iter().map(|t| t.query.as_str()).collect();
        assert_eq!(distinct.len(), premises);
        assert!(triplets.iter().all(|t| t.negatives.len() == 1));
        assert!(triplets
            .iter()
            .all(|t| t.query == t.query.trim() && !t.positive.ends_with(' ')));
    }
    assert_eq!(
        dev[0].query,
        "Two women are embracing while holding to go packages ."
    );
    Ok(())
}

#[test]
fn no_duplicates_sampler_covers_snli_dev_without_repeats() -> Result<()> {
    let triplets = read_nli_triplets(data_dir().join("snli-devtest"), "dev")?;
    let sampler = NoDuplicatesBatchSampler::new(&triplets, 64, 13, false).unwrap();
    let batches = sampler.epoch(0);
    let mut seen = vec![false; triplets.len()];
    let mut full = 0;
    for batch in &batches {
        let mut texts = HashSet::new();
        for &index in batch {
            assert!(!std::mem::replace(&mut seen[index], true));
            let example: HashSet<&str> = triplets[index].texts().collect();
            assert!(example.into_iter().all(|text| texts.insert(text)));
        }
        full += usize::from(batch.len() == 64);
    }
    assert!(seen.iter().all(|&s| s));
    // Premises repeat across triplets, so some are deferred; all but the
    // last batch still fill up.
    assert_eq!((batches.len(), full), (50, 49));
    Ok(())
}
