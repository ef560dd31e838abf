//! End-to-end tests of the `pairwise` binary: real model, real files, real exit codes.

#![allow(clippy::unwrap_used, reason = "test helpers fail loudly")]

// `pairwise train` (text); kept apart from the list below, which other branches extend.
mod train;

mod bad_input;
mod embed;
mod eval;
mod faces;
mod fewshot;
mod index;
mod report;
mod serve;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The model folder written by the set-up script.
pub fn minilm_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models/all-MiniLM-L6-v2");
    assert!(
        dir.join("model.safetensors").is_file(),
        "{} is missing: run scripts/setup.sh",
        dir.display()
    );
    dir
}

/// Runs `pairwise` with `args` on the CPU.
pub fn pairwise(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pairwise"))
        .args(args)
        .env("PAIRWISE_LOG", "error")
        .output()
        .unwrap()
}

/// Runs `pairwise` with `--model <minilm> --device cpu` added after the subcommand words.
pub fn pairwise_with_model(subcommand: &[&str], args: &[&str]) -> Output {
    let model = minilm_dir();
    let mut all: Vec<&str> = subcommand.to_vec();
    all.extend(["--model", model.to_str().unwrap(), "--device", "cpu"]);
    all.extend(args);
    pairwise(&all)
}

/// The stderr of a failed run, asserting a non-zero exit, no panic and a one-line message.
pub fn failure_message(output: &Output) -> String {
    assert!(!output.status.success(), "expected failure, got success");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "panic: {stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one line, got: {stderr}");
    lines[0].to_owned()
}

/// Writes `contents` to `dir/name` and returns the path as a string.
pub fn write(dir: &Path, name: &str, contents: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path.to_str().unwrap().to_owned()
}

/// A three-document BEIR data set with two test queries, each with one obvious answer.
pub fn tiny_beir(dir: &Path) {
    write(
        dir,
        "corpus.jsonl",
        br#"{"_id": "d1", "title": "Cats", "text": "Cats are small domesticated felines that purr."}
{"_id": "d2", "title": "Rockets", "text": "Rockets burn fuel to reach orbit around the Earth."}
{"_id": "d3", "title": "", "text": "Bread is baked from flour, water and yeast."}
"#,
    );
    write(
        dir,
        "queries.jsonl",
        br#"{"_id": "q1", "text": "Which animal purrs?"}
{"_id": "q2", "text": "How do spacecraft get into orbit?"}
"#,
    );
    std::fs::create_dir_all(dir.join("qrels")).unwrap();
    write(
        &dir.join("qrels"),
        "test.tsv",
        b"query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\n",
    );
}
