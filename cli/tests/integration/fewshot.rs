//! `pairwise train` with `task = "fewshot"` and `pairwise eval fewshot` on the real Omniglot
//! archives: a tiny run end to end, and clear one-line errors for bad input.

use std::path::{Path, PathBuf};

use crate::{failure_message, pairwise, write};

fn omniglot_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/omniglot")
}

/// Trains a Conv-4 for 3 episodes on the first 10 background characters; returns the run folder.
fn tiny_run(dir: &Path) -> PathBuf {
    let run = dir.join("run");
    let config = format!(
        r#"
task = "fewshot"
steps = 3
seed = 5
output = "{}"
[data]
path = "{}"
max_characters = 10
[model]
type = "conv4"
[method]
kind = "episodic"
ways = 5
shots = 1
queries = 2
[method.loss]
terms = ["cross", "proto_triplet"]
"#,
        run.display(),
        omniglot_dir().display()
    );
    let config = write(dir, "fewshot.toml", config.as_bytes());
    let output = pairwise(&["train", "--config", &config, "--device", "cpu"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    run
}

fn eval(model: &Path, data: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "eval",
        "fewshot",
        "--model",
        model.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--device",
        "cpu",
    ];
    args.extend(extra);
    pairwise(&args)
}

#[test]
fn train_then_evaluate_writes_accuracy_and_ci() {
    let dir = tempfile::tempdir().unwrap();
    let run = tiny_run(dir.path());
    for file in [
        "model/model.safetensors",
        "model/fewshot_model.json",
        "metrics.jsonl",
    ] {
        assert!(run.join(file).is_file(), "{file} missing");
    }
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("pairwise_training.json")).unwrap())
            .unwrap();
    assert_eq!(record["summary"]["steps"], 3);
    let json = dir.path().join("eval.json");
    let output = eval(
        &run.join("model"),
        &omniglot_dir(),
        &[
            "--ways",
            "5",
            "--shots",
            "1",
            "--episodes",
            "20",
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
    let accuracy = result["accuracy"].as_f64().unwrap();
    let ci95 = result["ci95"].as_f64().unwrap();
    // Even 3 episodes of training beat chance (20%) by far on 5-way 1-shot.
    assert!((30.0..=100.0).contains(&accuracy), "{accuracy}");
    assert!(ci95 > 0.0 && ci95 < 20.0, "{ci95}");
    assert_eq!(result["classes"], 659, "evaluation alphabets only");
    assert_eq!(result["training"]["config"]["seed"], 5);
}

#[test]
fn too_many_ways_too_small_classes_and_unreadable_images_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let run = tiny_run(dir.path());
    let model = run.join("model");
    let message = failure_message(&eval(&model, &omniglot_dir(), &["--ways", "700"]));
    assert!(
        message.contains("700-way episodes need at least 700 classes, but the data has 659"),
        "{message}"
    );
    let message = failure_message(&eval(
        &model,
        &omniglot_dir(),
        &["--shots", "10", "--queries", "15"],
    ));
    assert!(
        message.contains("has 20 examples, fewer than shots + queries = 25"),
        "{message}"
    );
    let bad = dir.path().join("bad");
    std::fs::create_dir(&bad).unwrap();
    write(
        &bad,
        "images_evaluation.npz",
        b"PK\x03\x04 this is not an archive",
    );
    let message = failure_message(&eval(&model, &bad, &[]));
    assert!(
        message.contains("images_evaluation.npz") && message.contains("zip"),
        "{message}"
    );
}

#[test]
fn training_with_too_few_classes_names_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        "task = \"fewshot\"\nsteps = 1\noutput = \"{}\"\n[data]\npath = \"{}\"\nmax_characters = 3\n[method]\nkind = \"episodic\"\nways = 5\nshots = 1\nqueries = 1\n",
        dir.path().join("run").display(),
        omniglot_dir().display()
    );
    let config = write(dir.path(), "c.toml", config.as_bytes());
    let message = failure_message(&pairwise(&[
        "train", "--config", &config, "--device", "cpu",
    ]));
    assert!(
        message.contains("5-way episodes need at least 5 classes"),
        "{message}"
    );
    let typo = std::fs::read_to_string(&config)
        .unwrap()
        .replace("queries", "querys");
    let config = write(dir.path(), "typo.toml", typo.as_bytes());
    let message = failure_message(&pairwise(&[
        "train", "--config", &config, "--device", "cpu",
    ]));
    assert!(message.contains("querys"), "{message}");
}

#[test]
fn official_runs_protocol_scores_the_twenty_runs() {
    let dir = tempfile::tempdir().unwrap();
    let run = tiny_run(dir.path());
    let json = dir.path().join("runs.json");
    let output = eval(
        &run.join("model"),
        &omniglot_dir(),
        &["--official-runs", "--json", json.to_str().unwrap()],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let result: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(result["runs"].as_array().unwrap().len(), 20);
    let accuracy = result["accuracy"].as_f64().unwrap();
    assert!((15.0..=100.0).contains(&accuracy), "{accuracy}");
}
