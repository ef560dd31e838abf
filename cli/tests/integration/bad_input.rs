//! Bad input gives a one-line error naming the file (and line), a non-zero exit, no panic.

use std::path::Path;

use crate::{failure_message, minilm_dir, pairwise, pairwise_with_model, write};

/// A model folder with the real small files and a link to the real weights.
fn model_copy(to: &Path) -> String {
    let from = minilm_dir();
    for file in ["config.json", "tokenizer.json", "modules.json"] {
        std::fs::copy(from.join(file), to.join(file)).unwrap();
    }
    std::os::unix::fs::symlink(from.join("model.safetensors"), to.join("model.safetensors"))
        .unwrap();
    to.to_str().unwrap().to_owned()
}

fn embed_with(model: &str, input: &str) -> String {
    failure_message(&pairwise(&[
        "embed", "--model", model, "--device", "cpu", "--input", input,
    ]))
}

#[test]
fn missing_model_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let model = model_copy(dir.path());
    std::fs::remove_file(dir.path().join("tokenizer.json")).unwrap();
    let input = write(dir.path(), "in.txt", b"hello\n");
    let message = embed_with(&model, &input);
    assert!(
        message.contains("tokenizer.json") && message.contains("missing"),
        "{message}"
    );
}

#[test]
fn malformed_config_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let model = model_copy(dir.path());
    write(dir.path(), "config.json", b"{\"hidden_size\": \"wide\"}");
    let input = write(dir.path(), "in.txt", b"hello\n");
    let message = embed_with(&model, &input);
    assert!(message.contains("config.json"), "{message}");
}

#[test]
fn empty_input_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "empty.txt", b"\n\n");
    let message = failure_message(&pairwise_with_model(&["embed"], &["--input", &input]));
    assert!(
        message.contains("empty.txt") && message.contains("no records"),
        "{message}"
    );
}

#[test]
fn over_long_line_is_named_with_its_number() {
    let dir = tempfile::tempdir().unwrap();
    let long = format!("short\n{}\n", "x".repeat(5000));
    let input = write(dir.path(), "long.txt", long.as_bytes());
    let output = pairwise_with_model(&["embed"], &["--input", &input, "--max-line-bytes", "1000"]);
    let message = failure_message(&output);
    assert!(
        message.contains("long.txt:2:") && message.contains("1000 bytes"),
        "{message}"
    );
}

#[test]
fn non_utf8_line_is_named_with_its_number() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "latin1.txt", b"fine\nalso fine\ncaf\xe9\n");
    let message = failure_message(&pairwise_with_model(&["embed"], &["--input", &input]));
    assert!(
        message.contains("latin1.txt:3:") && message.contains("UTF-8"),
        "{message}"
    );
}

#[test]
fn malformed_jsonl_is_named_with_its_number() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(
        dir.path(),
        "in.jsonl",
        b"{\"text\": \"ok\"}\n{\"txt\": \"no text field\"}\n",
    );
    let message = failure_message(&pairwise_with_model(&["embed"], &["--input", &input]));
    assert!(message.contains("in.jsonl:2:"), "{message}");
}

#[test]
fn missing_input_file_is_named() {
    let message = failure_message(&pairwise_with_model(
        &["embed"],
        &["--input", "/nonexistent/x.txt"],
    ));
    assert!(message.contains("/nonexistent/x.txt"), "{message}");
}

#[test]
fn unknown_device_is_rejected() {
    let output = pairwise(&["embed", "--input", "x.txt", "--device", "tpu"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("tpu"));
}

#[test]
fn missing_beir_split_lists_the_available_ones() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "corpus.jsonl",
        b"{\"_id\": \"d1\", \"title\": \"\", \"text\": \"x\"}\n",
    );
    write(
        dir.path(),
        "queries.jsonl",
        b"{\"_id\": \"q1\", \"text\": \"x\"}\n",
    );
    std::fs::create_dir(dir.path().join("qrels")).unwrap();
    write(
        &dir.path().join("qrels"),
        "test.tsv",
        b"query-id\tcorpus-id\tscore\nq1\td1\t1\n",
    );
    let data = dir.path().to_str().unwrap();
    let output = pairwise_with_model(&["eval", "retrieval"], &["--data", data, "--split", "dev"]);
    let message = failure_message(&output);
    assert!(
        message.contains("dev") && message.contains("test"),
        "{message}"
    );
}
