//! `pairwise train`: bad experiment files and bad checkpoints give one clear line.

use crate::{failure_message, minilm_dir, pairwise, write};

/// A valid experiment file on a tiny JSONL pair file, with `extra` appended.
fn experiment(dir: &std::path::Path, extra: &str) -> String {
    let pairs: String = (0..8)
        .map(|i| format!("{{\"query\": \"question {i}\", \"positive\": \"answer {i}\"}}\n"))
        .collect();
    let data = write(dir, "pairs.jsonl", pairs.as_bytes());
    let config = format!(
        "output = \"{}\"\n[model]\nbase = \"{}\"\nmax_length = 16\n[data]\nkind = \"jsonl\"\npath = \"{data}\"\n[schedule]\nbatch_size = 4\n{extra}",
        dir.join("run").display(),
        minilm_dir().display()
    );
    write(dir, "experiment.toml", config.as_bytes())
}

#[test]
fn a_typo_in_the_eval_section_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let config = experiment(dir.path(), "[eval]\nevery_step = 5\n");
    let message = failure_message(&pairwise(&["train", "--config", &config]));
    assert!(message.contains("every_step"), "{message}");
}

#[test]
fn the_test_split_is_never_a_dev_split() {
    let dir = tempfile::tempdir().unwrap();
    let config = experiment(
        dir.path(),
        "[eval]\ndata = \"../shared/data/scifact\"\nsplit = \"test\"\n",
    );
    let message = failure_message(&pairwise(&["train", "--config", &config]));
    assert!(
        message.contains("eval.split") && message.contains("test"),
        "{message}"
    );
}

#[test]
fn resuming_without_a_checkpoint_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = experiment(dir.path(), "");
    let nowhere = dir.path().join("nowhere");
    let message = failure_message(&pairwise(&[
        "train",
        "--config",
        &config,
        "--device",
        "cpu",
        "--resume",
        nowhere.to_str().unwrap(),
    ]));
    assert!(message.contains("state.json"), "{message}");
}
