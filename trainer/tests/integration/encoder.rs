//! Golden values from `shared/docs/models.md` (a numpy re-implementation of the forward pass,
//! checked against the published sentence-transformers figures).

use pairwise_trainer::{DeviceChoice, EncoderOptions, SentenceEncoder};

use crate::minilm_dir;

fn cpu_encoder() -> SentenceEncoder {
    let options = EncoderOptions {
        device: DeviceChoice::Cpu,
        ..EncoderOptions::default()
    };
    SentenceEncoder::load(&minilm_dir(), options).unwrap()
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| f64::from(*x) * f64::from(*y))
        .sum();
    let na: f64 = a.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    dot / (na * nb)
}

#[test]
fn tokenizer_ids_match_reference() {
    let _turn = crate::rng_turn();
    let encoder = cpu_encoder();
    let tokens = encoder
        .tokenizer()
        .tokenize(&["A man is eating food."])
        .unwrap();
    assert_eq!(
        tokens[0].ids,
        vec![101, 1037, 2158, 2003, 5983, 2833, 1012, 102]
    );
}

#[test]
fn embedding_matches_reference_values() {
    let _turn = crate::rng_turn();
    let encoder = cpu_encoder();
    let e = encoder.encode(&["A man is eating food."]).unwrap();
    assert_eq!(e.dim(), 384);
    let expected = [
        0.033242, 0.004406, -0.006277, 0.048379, -0.138702, -0.033617, 0.101128, -0.054385,
    ];
    for (got, want) in e.row(0).unwrap().iter().zip(expected) {
        assert!(
            (f64::from(*got) - want).abs() < 5e-6,
            "got {got}, want {want}"
        );
    }
    let norm: f32 = e.row(0).unwrap().iter().map(|x| x * x).sum::<f32>().sqrt();
    assert!((norm - 1.0).abs() < 1e-5);
}

#[test]
fn cosine_similarities_match_published_values() {
    let _turn = crate::rng_turn();
    let encoder = cpu_encoder();
    let e = encoder
        .encode(&[
            "A man is eating food.",
            "A man is eating a piece of bread.",
            "The girl is carrying a baby.",
        ])
        .unwrap();
    let (a, b, c) = (e.row(0).unwrap(), e.row(1).unwrap(), e.row(2).unwrap());
    assert!((cosine(a, b) - 0.755337).abs() < 1e-5, "{}", cosine(a, b));
    assert!((cosine(a, c) - -0.104958).abs() < 1e-5, "{}", cosine(a, c));
}

#[test]
fn batching_and_sorting_do_not_change_embeddings() {
    let _turn = crate::rng_turn();
    let texts: Vec<String> = (0..23)
        .map(|i| format!("sentence number {i} {}", "with more words ".repeat(i % 7)))
        .collect();
    let one_batch = cpu_encoder().encode(&texts).unwrap();
    let options = EncoderOptions {
        device: DeviceChoice::Cpu,
        batch_size: 4,
        ..EncoderOptions::default()
    };
    let small_batches = SentenceEncoder::load(&minilm_dir(), options)
        .unwrap()
        .encode(&texts)
        .unwrap();
    let single = cpu_encoder().encode(&texts[5..6]).unwrap();
    for i in 0..texts.len() {
        assert!(cosine(one_batch.row(i).unwrap(), small_batches.row(i).unwrap()) > 0.99999);
    }
    assert!(cosine(one_batch.row(5).unwrap(), single.row(0).unwrap()) > 0.99999);
}

#[test]
fn long_texts_are_truncated_to_max_length() {
    let _turn = crate::rng_turn();
    let options = EncoderOptions {
        device: DeviceChoice::Cpu,
        max_length: Some(16),
        ..EncoderOptions::default()
    };
    let encoder = SentenceEncoder::load(&minilm_dir(), options).unwrap();
    let long = "word ".repeat(5000);
    let tokens = encoder.tokenizer().tokenize(&[long.as_str()]).unwrap();
    assert_eq!(tokens[0].ids.len(), 16);
    assert_eq!(encoder.encode(&[long]).unwrap().len(), 1);
}

#[test]
fn empty_input_gives_empty_embeddings() {
    let _turn = crate::rng_turn();
    let encoder = cpu_encoder();
    let none: [&str; 0] = [];
    assert!(encoder.encode(&none).unwrap().is_empty());
}

#[test]
fn bf16_matrix_products_stay_close_to_f32_and_keep_f32_weights() {
    let _turn = crate::rng_turn();
    let texts = [
        "A man is eating food.",
        "A man is riding a horse on a beach at sunset.",
    ];
    let reference = cpu_encoder().encode(&texts).unwrap();
    let mut mixed = cpu_encoder();
    mixed.set_matmul_kind(Some(tch::Kind::BFloat16));
    let e = mixed.encode(&texts).unwrap();
    for row in 0..texts.len() {
        let c = cosine(reference.row(row).unwrap(), e.row(row).unwrap());
        // bf16 keeps 8 bits of mantissa: the embedding moves, its direction barely does.
        assert!(c > 0.999, "row {row}: cosine {c}");
        assert!(
            c < 1.0 - 1e-9,
            "row {row}: bf16 products changed nothing ({c})"
        );
    }
    for (name, t) in mixed.var_store().variables() {
        assert_eq!(t.kind(), tch::Kind::Float, "{name}");
    }
}
