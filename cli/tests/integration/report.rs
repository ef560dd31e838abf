//! `pairwise eval pairs`, `eval retrieval --report` and `pairwise report`: JSON keys, the HTML
//! page (parsed), and one-line errors for bad input.

use std::path::Path;

use crate::{failure_message, pairwise, pairwise_with_model, write};

/// Four pairs, two matches and two obvious non-matches, behind a header line.
const PAIRS: &[u8] = b"label\tsentence1\tsentence2\n\
1\tA man is eating food.\tA man is eating a meal.\n\
0\tA man is eating food.\tThe rocket launched into orbit.\n\
1\tA cat purrs on the sofa.\tThe cat is purring on the couch.\n\
0\tA cat purrs on the sofa.\tStock markets fell sharply today.\n";

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn assert_success(output: &std::process::Output) {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The `points` count of each ROC polyline and the legend texts of a report page.
fn curves_and_legend(html_path: &Path) -> (Vec<(String, usize)>, Vec<String>) {
    let html = std::fs::read_to_string(html_path).unwrap();
    let options = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..roxmltree::ParsingOptions::default()
    };
    let doc = roxmltree::Document::parse_with_options(&html, options).unwrap();
    let curves = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("roc-curve"))
        .map(|n| {
            let name = n.attribute("data-series").unwrap().to_owned();
            (name, n.attribute("points").unwrap().split(' ').count())
        })
        .collect();
    let legend = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("legend-item"))
        .filter_map(|n| n.descendants().find(|d| d.has_tag_name("text")))
        .filter_map(|t| t.text().map(str::to_owned))
        .collect();
    (curves, legend)
}

#[test]
fn pairs_write_the_summary_json_and_a_report() {
    let dir = tempfile::tempdir().unwrap();
    let data = write(dir.path(), "pairs.tsv", PAIRS);
    let (json, html) = (dir.path().join("p.json"), dir.path().join("html/p.html"));
    let output = pairwise_with_model(
        &["eval", "pairs"],
        &[
            "--data",
            &data,
            "--json",
            json.to_str().unwrap(),
            "--report",
            html.to_str().unwrap(),
        ],
    );
    assert_success(&output);
    let result = read_json(&json);
    assert_eq!(result["task"], "pairs");
    assert_eq!(result["n_pairs"], 4);
    assert_eq!(result["auc"], 1.0);
    assert_eq!(result["eer"], 0.0);
    let threshold = result["best_threshold"].as_f64().unwrap();
    let summary = &result["roc_summary"];
    assert_eq!(summary["best_threshold"]["threshold"], threshold);
    assert_eq!(summary["best_threshold"]["criterion"], "youden");
    assert_eq!(summary["n_positives"], 2);
    assert_eq!(summary["auc_ci95"]["resamples"], 1000);
    let n_points = summary["roc"].as_array().unwrap().len();
    let (curves, legend) = curves_and_legend(&html);
    assert_eq!(curves, vec![("all-MiniLM-L6-v2".to_owned(), n_points)]);
    assert_eq!(legend[0], "all-MiniLM-L6-v2 (AUC 1.000)");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("AUC 1.0000"), "{stdout}");
}

#[test]
fn retrieval_json_keeps_its_keys_and_two_runs_make_a_before_after_report() {
    let dir = tempfile::tempdir().unwrap();
    crate::tiny_beir(dir.path());
    let data = dir.path().to_str().unwrap();
    let (json, html) = (dir.path().join("r.json"), dir.path().join("r.html"));
    let output = pairwise_with_model(
        &["eval", "retrieval"],
        &[
            "--data",
            data,
            "--json",
            json.to_str().unwrap(),
            "--report",
            html.to_str().unwrap(),
        ],
    );
    assert_success(&output);
    let result = read_json(&json);
    for key in [
        "ndcg_at_10",
        "mrr_at_10",
        "recall_at_100",
        "map_at_100",
        "auc",
        "n_queries",
        "n_docs",
    ] {
        assert!(result.get(key).is_some(), "{key} missing");
    }
    // Two queries, one relevant document each, two negatives each: AUC 1.
    let summary = &result["roc_summary"];
    assert_eq!(summary["auc"], result["auc"]);
    assert_eq!(
        (
            summary["n_positives"].clone(),
            summary["n_negatives"].clone()
        ),
        (2.into(), 4.into())
    );
    assert_eq!(curves_and_legend(&html).0.len(), 1);

    // The same JSON twice under two labels: two curves on one plot.
    let both = dir.path().join("both.html");
    let output = pairwise(&[
        "report",
        "--json",
        json.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
        "--label",
        "before",
        "--label",
        "after <b>",
        "--title",
        "Before & after",
        "--out",
        both.to_str().unwrap(),
    ]);
    assert_success(&output);
    let (curves, legend) = curves_and_legend(&both);
    let names: Vec<&str> = curves.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["before", "after <b>"]);
    assert_eq!(legend.len(), 3);
    assert!(legend[1].starts_with("after <b> (AUC 1.000)"), "{legend:?}");
    let page = std::fs::read_to_string(&both).unwrap();
    assert!(page.contains("<title>Before &amp; after</title>"));
}

#[test]
fn bad_pairs_and_bad_report_inputs_are_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(dir.path(), "bad.tsv", b"1\ta\tb\n2\tc\td\n");
    let message = failure_message(&pairwise_with_model(&["eval", "pairs"], &["--data", &bad]));
    assert!(
        message.ends_with("bad.tsv:2: label \"2\" is not 0 or 1"),
        "{message}"
    );
    let short = write(dir.path(), "short.tsv", b"1\ta\tb\n0\tonly two\n");
    let message = failure_message(&pairwise_with_model(
        &["eval", "pairs"],
        &["--data", &short],
    ));
    assert!(
        message.contains("short.tsv:2: expected 3 tab-separated columns"),
        "{message}"
    );
    let one_class = write(dir.path(), "one.tsv", b"1\ta\tb\n1\tc\td\n");
    let message = failure_message(&pairwise_with_model(
        &["eval", "pairs"],
        &["--data", &one_class],
    ));
    assert!(
        message.contains("both classes are needed, got 2 positives and 0 negatives"),
        "{message}"
    );

    let out = dir.path().join("r.html");
    let out = out.to_str().unwrap();
    let sts = write(
        dir.path(),
        "sts.json",
        br#"{"task": "sts", "spearman": 80.0}"#,
    );
    let message = failure_message(&pairwise(&["report", "--json", &sts, "--out", out]));
    assert!(
        message.contains("sts.json: task \"sts\" has no ROC curve"),
        "{message}"
    );
    let old = write(
        dir.path(),
        "old.json",
        br#"{"task": "retrieval", "auc": 0.9}"#,
    );
    let message = failure_message(&pairwise(&["report", "--json", &old, "--out", out]));
    assert!(
        message.contains("old.json: no roc_summary key"),
        "{message}"
    );
    let broken = write(dir.path(), "broken.json", b"{");
    let message = failure_message(&pairwise(&["report", "--json", &broken, "--out", out]));
    assert!(
        message.contains("broken.json is not valid JSON"),
        "{message}"
    );
    let message = failure_message(&pairwise(&[
        "report", "--json", &old, "--label", "a", "--label", "b", "--out", out,
    ]));
    assert!(message.contains("2 --label for 1 --json"), "{message}");
    assert!(!Path::new(out).exists());
}
