//! Integration tests against the real data in `<workspace>/../shared/data`.
//!
//! They fail (never skip) when that folder is missing.

use std::collections::HashSet;
use std::path::PathBuf;

use pairwise_datasets::{read_sts, read_texts, BeirDataset, Result, TextInputLimits};

mod faces;
mod training;

fn data_dir() -> PathBuf {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data"));
    assert!(
        dir.is_dir(),
        "shared data folder {} is missing: these tests read the real data sets \
         (SciFact, STS-B) and cannot run without it",
        dir.display()
    );
    dir
}

fn scifact() -> Result<BeirDataset> {
    BeirDataset::open(data_dir().join("scifact"))
}

fn pair_count(qrels: &pairwise_datasets::Qrels) -> usize {
    qrels.values().map(|docs| docs.len()).sum()
}

#[test]
fn scifact_corpus_has_5183_unique_documents() -> Result<()> {
    let docs: Vec<_> = scifact()?.corpus()?.collect::<Result<_>>()?;
    assert_eq!(docs.len(), 5_183);
    let ids: HashSet<&str> = docs.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids.len(), 5_183);
    assert!(docs.iter().all(|d| !d.text.is_empty()));
    assert!(docs.iter().all(|d| d.beir_text().len() > d.text.len()));
    Ok(())
}

#[test]
fn scifact_has_1109_queries_and_two_splits() -> Result<()> {
    let dataset = scifact()?;
    assert_eq!(dataset.queries()?.len(), 1_109);
    assert_eq!(dataset.splits(), ["test", "train"]);
    Ok(())
}

#[test]
fn scifact_qrels_match_published_counts() -> Result<()> {
    let dataset = scifact()?;
    let test = dataset.qrels("test")?;
    assert_eq!((test.len(), pair_count(&test)), (300, 339));
    let train = dataset.qrels("train")?;
    assert_eq!((train.len(), pair_count(&train)), (809, 919));
    assert!(test
        .values()
        .flat_map(|docs| docs.values())
        .all(|&score| score == 1));
    let err = dataset.qrels("dev").unwrap_err();
    assert!(
        err.to_string().contains("available splits: test, train"),
        "{err}"
    );
    Ok(())
}

#[test]
fn scifact_test_split_loads_consistently() -> Result<()> {
    let set = scifact()?.load_split("test")?;
    assert_eq!(set.corpus.len(), 5_183);
    assert_eq!(set.queries.len(), 300);
    assert_eq!(pair_count(&set.qrels), 339);
    assert!(set.queries.iter().all(|q| set.qrels.contains_key(&q.id)));
    Ok(())
}

#[test]
fn stsb_pair_counts_and_score_range() -> Result<()> {
    let stsb = data_dir().join("stsb");
    for (file, count) in [
        ("sts-train.csv", 5_749),
        ("sts-dev.csv", 1_500),
        ("sts-test.csv", 1_379),
    ] {
        let pairs = read_sts(stsb.join(file))?;
        assert_eq!(pairs.len(), count, "{file}");
        assert!(
            pairs.iter().all(|p| (0.0..=5.0).contains(&p.score)),
            "{file}"
        );
    }
    let test = read_sts(stsb.join("sts-test.csv"))?;
    assert_eq!(test[0].text_a, "A girl is styling her hair.");
    assert_eq!(test[0].text_b, "A girl is brushing her hair.");
    assert!((test[0].score - 2.5).abs() < 1e-6);
    Ok(())
}

#[test]
fn queries_jsonl_reads_as_embedding_input() -> Result<()> {
    let path = data_dir().join("scifact").join("queries.jsonl");
    let texts = read_texts(path, TextInputLimits::default())?;
    assert_eq!(texts.len(), 1_109);
    assert_eq!(
        texts[0],
        "0-dimensional biomaterials lack inductive properties."
    );
    Ok(())
}
