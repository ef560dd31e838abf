//! `pairwise index build`, `pairwise search` and `eval retrieval --collection` end to end.

use crate::{failure_message, pairwise, pairwise_with_model, tiny_beir};

#[test]
fn build_search_and_evaluate_a_collection() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    tiny_beir(&data);
    let collection = dir.path().join("collection");
    let (data, collection) = (data.to_str().unwrap(), collection.to_str().unwrap());
    let built = pairwise_with_model(&["index", "build"], &["--data", data, "--out", collection]);
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );

    for mode in ["dense", "bm25", "hybrid"] {
        let found = pairwise_with_model(
            &["search"],
            &[
                "--collection",
                collection,
                "--query",
                "a rocket reaching orbit",
                "--mode",
                mode,
                "--k",
                "2",
            ],
        );
        assert!(
            found.status.success(),
            "{}",
            String::from_utf8_lossy(&found.stderr)
        );
        let first: serde_json::Value = serde_json::from_str(
            String::from_utf8(found.stdout)
                .unwrap()
                .lines()
                .next()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(first["id"], "d2", "{mode}");
        assert_eq!(first["rank"], 1);
    }

    let json = dir.path().join("eval.json");
    let evaluated = pairwise_with_model(
        &["eval", "retrieval"],
        &[
            "--data",
            data,
            "--collection",
            collection,
            "--mode",
            "hybrid",
            "--json",
            json.to_str().unwrap(),
        ],
    );
    assert!(
        evaluated.status.success(),
        "{}",
        String::from_utf8_lossy(&evaluated.stderr)
    );
    let result: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(result["ndcg_at_10"], 1.0);
    assert_eq!(result["n_queries"], 2);
}

#[test]
fn bad_collection_requests_fail_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nothing");
    let message = failure_message(&pairwise(&[
        "search",
        "--collection",
        missing.to_str().unwrap(),
        "--query",
        "x",
        "--mode",
        "bm25",
    ]));
    assert!(message.contains("holds no collection"), "{message}");

    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    tiny_beir(&data);
    let collection = dir.path().join("c");
    let (data, collection) = (data.to_str().unwrap(), collection.to_str().unwrap());
    assert!(
        pairwise_with_model(&["index", "build"], &["--data", data, "--out", collection])
            .status
            .success()
    );
    let again = failure_message(&pairwise_with_model(
        &["index", "build"],
        &["--data", data, "--out", collection],
    ));
    assert!(again.contains("already holds a collection"), "{again}");
    let filter = failure_message(&pairwise(&[
        "search",
        "--collection",
        collection,
        "--query",
        "x",
        "--mode",
        "bm25",
        "--filter",
        "{\"a\": {\"$regex\": 1}}",
    ]));
    assert!(filter.contains("unknown operator $regex"), "{filter}");
    let empty = failure_message(&pairwise(&[
        "search",
        "--collection",
        collection,
        "--query",
        " ",
        "--mode",
        "bm25",
    ]));
    assert!(empty.contains("empty"), "{empty}");
    let zero = failure_message(&pairwise(&[
        "search",
        "--collection",
        collection,
        "--query",
        "x",
        "--mode",
        "bm25",
        "--k",
        "0",
    ]));
    assert!(zero.contains("k must be at least 1"), "{zero}");
}
