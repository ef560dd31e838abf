//! Bad model folders give one clear error naming the file.

use std::path::Path;

use pairwise_trainer::{EncoderOptions, SentenceEncoder, TrainError};

use crate::minilm_dir;

/// Copies the small files of the real model folder and links the weights.
fn copy_model(to: &Path) {
    let from = minilm_dir();
    for file in [
        "config.json",
        "tokenizer.json",
        "modules.json",
        "sentence_bert_config.json",
    ] {
        std::fs::copy(from.join(file), to.join(file)).unwrap();
    }
    std::fs::create_dir_all(to.join("1_Pooling")).unwrap();
    std::fs::copy(
        from.join("1_Pooling/config.json"),
        to.join("1_Pooling/config.json"),
    )
    .unwrap();
    std::os::unix::fs::symlink(from.join("model.safetensors"), to.join("model.safetensors"))
        .unwrap();
}

fn load_error(dir: &Path) -> String {
    let options = EncoderOptions {
        device: pairwise_trainer::DeviceChoice::Cpu,
        ..Default::default()
    };
    SentenceEncoder::load(dir, options).unwrap_err().to_string()
}

#[test]
fn copied_model_loads() {
    let _turn = crate::rng_turn();
    let dir = tempfile::tempdir().unwrap();
    copy_model(dir.path());
    let options = EncoderOptions {
        device: pairwise_trainer::DeviceChoice::Cpu,
        ..Default::default()
    };
    assert!(SentenceEncoder::load(dir.path(), options).is_ok());
}

#[test]
fn missing_weights_name_the_file() {
    let _turn = crate::rng_turn();
    let dir = tempfile::tempdir().unwrap();
    copy_model(dir.path());
    std::fs::remove_file(dir.path().join("model.safetensors")).unwrap();
    let message = load_error(dir.path());
    assert!(
        message.contains("model.safetensors") && message.contains("missing"),
        "{message}"
    );
}

#[test]
fn malformed_config_names_the_file() {
    let _turn = crate::rng_turn();
    let dir = tempfile::tempdir().unwrap();
    copy_model(dir.path());
    std::fs::write(dir.path().join("config.json"), "{\"hidden_size\": 384,").unwrap();
    let message = load_error(dir.path());
    assert!(message.contains("config.json"), "{message}");
}

#[test]
fn config_that_disagrees_with_weights_is_rejected() {
    let _turn = crate::rng_turn();
    let dir = tempfile::tempdir().unwrap();
    copy_model(dir.path());
    let config = std::fs::read_to_string(dir.path().join("config.json")).unwrap();
    let config = config.replace("\"intermediate_size\": 1536", "\"intermediate_size\": 1024");
    std::fs::write(dir.path().join("config.json"), config).unwrap();
    let options = EncoderOptions {
        device: pairwise_trainer::DeviceChoice::Cpu,
        ..Default::default()
    };
    let err = SentenceEncoder::load(dir.path(), options).unwrap_err();
    assert!(matches!(err, TrainError::BadWeights { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("encoder.layer.0.intermediate.dense"),
        "{err}"
    );
}

#[test]
fn bert_prefixed_checkpoints_load() {
    let _turn = crate::rng_turn();
    // Re-save the weights under a `bert.` prefix, as BertForMaskedLM checkpoints name them.
    let dir = tempfile::tempdir().unwrap();
    copy_model(dir.path());
    let tensors = tch::Tensor::read_safetensors(minilm_dir().join("model.safetensors")).unwrap();
    let renamed: Vec<(String, tch::Tensor)> = tensors
        .into_iter()
        .map(|(n, t)| (format!("bert.{n}"), t))
        .collect();
    std::fs::remove_file(dir.path().join("model.safetensors")).unwrap();
    tch::Tensor::write_safetensors(&renamed, dir.path().join("model.safetensors")).unwrap();
    let options = EncoderOptions {
        device: pairwise_trainer::DeviceChoice::Cpu,
        ..Default::default()
    };
    let prefixed = SentenceEncoder::load(dir.path(), options).unwrap();
    let plain = SentenceEncoder::load(&minilm_dir(), options).unwrap();
    let text = ["A man is eating food."];
    assert_eq!(
        prefixed.encode(&text).unwrap(),
        plain.encode(&text).unwrap()
    );
}
