//! `pairwise eval` end to end on small real-format fixtures.

use crate::{pairwise_with_model, write};

#[test]
fn retrieval_on_a_tiny_beir_set_finds_the_obvious_documents() {
    let dir = tempfile::tempdir().unwrap();
    crate::tiny_beir(dir.path());
    let json = dir.path().join("out/result.json");
    let output = pairwise_with_model(
        &["eval", "retrieval"],
        &[
            "--data",
            dir.path().to_str().unwrap(),
            "--json",
            json.to_str().unwrap(),
        ],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let result: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(result["ndcg_at_10"], 1.0);
    assert_eq!(result["mrr_at_10"], 1.0);
    assert_eq!(result["auc"], 1.0);
    assert_eq!(result["n_queries"], 2);
    assert_eq!(result["n_docs"], 3);
    for key in ["recall_at_100", "map_at_100"] {
        assert_eq!(result[key], 1.0, "{key}");
    }
    let table = String::from_utf8(output.stdout).unwrap();
    assert!(
        table.contains("@10") && table.contains("pooled AUC"),
        "{table}"
    );
}

#[test]
fn sts_spearman_follows_the_gold_order() {
    let dir = tempfile::tempdir().unwrap();
    let data = write(
        dir.path(),
        "sts.csv",
        b"g\tf\t2012\t1\t5.000\tA man is eating food.\tA man is eating a meal.\n\
g\tf\t2012\t2\t3.000\tA man is eating food.\tA man is eating a piece of bread.\n\
g\tf\t2012\t3\t0.000\tA man is eating food.\tThe rocket launched into orbit.\n",
    );
    let json = dir.path().join("sts.json");
    let output = pairwise_with_model(
        &["eval", "sts"],
        &["--data", &data, "--json", json.to_str().unwrap()],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let result: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(result["n_pairs"], 3);
    assert_eq!(result["spearman"], 100.0);
}

#[test]
fn retrieval_with_a_two_tower_run_folder_uses_both_towers() {
    let dir = tempfile::tempdir().unwrap();
    crate::tiny_beir(dir.path());
    let run = dir.path().join("run");
    std::fs::create_dir_all(&run).unwrap();
    for tower in ["query_model", "document_model"] {
        std::os::unix::fs::symlink(crate::minilm_dir(), run.join(tower)).unwrap();
    }
    let json = dir.path().join("towers.json");
    let output = crate::pairwise(&[
        "eval",
        "retrieval",
        "--model",
        run.to_str().unwrap(),
        "--device",
        "cpu",
        "--data",
        dir.path().to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let result: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(result["ndcg_at_10"], 1.0);
    let encoder = &result["encoder"];
    assert!(
        encoder["query_model"]
            .as_str()
            .unwrap()
            .ends_with("query_model")
            && encoder["model"]
                .as_str()
                .unwrap()
                .ends_with("document_model"),
        "{encoder}"
    );
}
