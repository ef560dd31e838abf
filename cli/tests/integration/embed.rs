//! `pairwise embed` writes what it promises.

use crate::{pairwise_with_model, write};

#[test]
fn jsonl_output_holds_one_normalised_embedding_per_text() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(
        dir.path(),
        "in.txt",
        b"A man is eating food.\n\nThe girl is carrying a baby.\n",
    );
    let output = pairwise_with_model(&["embed"], &["--input", &input]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let rows: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["text"], "A man is eating food.");
    let embedding: Vec<f64> = serde_json::from_value(rows[0]["embedding"].clone()).unwrap();
    assert_eq!(embedding.len(), 384);
    assert!((embedding[0] - 0.033242).abs() < 1e-5);
    let norm: f64 = embedding.iter().map(|x| x * x).sum::<f64>().sqrt();
    assert!((norm - 1.0).abs() < 1e-5);
}

#[test]
fn npy_output_from_jsonl_input() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(
        dir.path(),
        "in.jsonl",
        b"{\"text\": \"one\"}\n{\"text\": \"two\", \"id\": 7}\n{\"text\": \"three\"}\n",
    );
    let npy = dir.path().join("out.npy");
    let output = pairwise_with_model(
        &["embed"],
        &["--input", &input, "--output", npy.to_str().unwrap()],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let bytes = std::fs::read(&npy).unwrap();
    let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let header = std::str::from_utf8(&bytes[10..10 + header_len]).unwrap();
    assert!(
        header.contains("'descr': '<f4'") && header.contains("'shape': (3, 384)"),
        "{header}"
    );
    assert_eq!(bytes.len(), 10 + header_len + 3 * 384 * 4);
}
