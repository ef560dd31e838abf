//! Face training and verification end to end on tiny settings, and their bad inputs.

use std::path::{Path, PathBuf};

use crate::{failure_message, pairwise, write};

fn orl() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/orl-faces")
}

/// The `[model]` section of the tiny iResNet.
const TINY_IRESNET: &str =
    "input_size = [16, 16]\nwidths = [4, 8]\nblocks = [1, 1]\nembedding_dim = 8\n";

/// A tiny face config: ORL s1-s6 for training, s7-s8 held out, 16x16 input.
fn tiny_config(dir: &Path, unpg: bool) -> String {
    orl_config(dir, TINY_IRESNET, unpg)
}

/// A face config on ORL s1-s6 (s7-s8 held out) with this `[model]` section.
fn orl_config(dir: &Path, model: &str, unpg: bool) -> String {
    let images = dir.join("orl");
    std::fs::create_dir_all(&images).unwrap();
    for s in 1..=8 {
        std::os::unix::fs::symlink(orl().join(format!("s{s}")), images.join(format!("s{s}")))
            .unwrap();
    }
    let unpg = if unpg { "[unpg]\nwhisker = 1.5\n" } else { "" };
    let text = format!(
        r#"task = "faces"
output = "{out}"
[data]
sources = [{{ images = "{images}", held_out = ["s7", "s8"] }}]
[model]
{model}[head]
type = "cosface"
scale = 16.0
{unpg}[schedule]
classes_per_batch = 3
images_per_class = 2
epochs = 1
"#,
        out = dir.join("run").display(),
        images = images.display(),
    );
    write(dir, "faces.toml", text.as_bytes())
}

/// `pairwise train --config CONFIG --max-steps STEPS` on the CPU, which must succeed.
fn train(config: &str, steps: &str) {
    let out = pairwise(&[
        "train",
        "--config",
        config,
        "--device",
        "cpu",
        "--max-steps",
        steps,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `pairwise eval verify` of the run's model on its held-out ORL pairs (plus `extra` flags),
/// which must succeed; returns the JSON report.
fn verify_held_out(dir: &Path, extra: &[&str]) -> serde_json::Value {
    let run = dir.join("run");
    let json = dir.join("verify.json");
    let model = run.join("model");
    let pairs = run.join("eval_pairs.tsv");
    let images = dir.join("orl");
    let mut args = vec![
        "eval",
        "verify",
        "--model",
        model.to_str().unwrap(),
        "--pairs",
        pairs.to_str().unwrap(),
        "--images",
        images.to_str().unwrap(),
        "--device",
        "cpu",
        "--json",
        json.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let out = pairwise(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap()
}

#[test]
fn train_then_verify_the_held_out_identities() {
    let dir = tempfile::tempdir().unwrap();
    train(&tiny_config(dir.path(), true), "3");
    let run = dir.path().join("run");
    for file in [
        "model/model.safetensors",
        "model/face_model.json",
        "eval_pairs.tsv",
        "pairwise_training.json",
    ] {
        assert!(run.join(file).is_file(), "{file} missing");
    }
    let training: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("pairwise_training.json")).unwrap())
            .unwrap();
    assert_eq!(training["summary"]["steps"], 3);
    assert_eq!(training["loss"], "cosface+unpg");
    assert_eq!(training["train_identities"], 6);
    let html = dir.path().join("verify.html");
    let report = verify_held_out(dir.path(), &["--flip", "--report", html.to_str().unwrap()]);
    // s7 and s8: 20 images, 190 pairs, 2 x 45 of them same-identity.
    assert_eq!(
        (report["pairs"].as_u64(), report["same"].as_u64()),
        (Some(190), Some(90))
    );
    for key in ["auc", "eer", "accuracy", "accuracy_std"] {
        let v = report[key].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&v), "{key} = {v}");
    }
    assert!(report["tar_at_far"]["1e-1"].as_f64().is_some());
    assert!(report["tar_at_far"]["1e-3"].is_null());
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.contains("<svg") && page.contains("10-fold accuracy"),
        "report lacks the ROC"
    );
}

#[test]
fn a_pair_naming_a_missing_image_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let pairs = write(
        dir.path(),
        "pairs.tsv",
        b"fold\tpath1\tpath2\tsame\n1\ts1/1.pgm\ts1/99.pgm\t1\n",
    );
    let message = failure_message(&pairwise(&[
        "eval",
        "verify",
        "--model",
        dir.path().to_str().unwrap(),
        "--pairs",
        &pairs,
        "--images",
        orl().to_str().unwrap(),
        "--device",
        "cpu",
    ]));
    assert!(
        message.contains("s1/99.pgm") && message.contains("line 2"),
        "{message}"
    );
}

#[test]
fn rgb_images_of_another_size_are_converted_and_resized() {
    let dir = tempfile::tempdir().unwrap();
    train(&tiny_config(dir.path(), false), "0");
    // Two 3x2 RGB PPM images per identity, not the model's 16x16 grey.
    let images = dir.path().join("rgb");
    for (who, shade) in [("a", 10u8), ("b", 200u8)] {
        std::fs::create_dir_all(images.join(who)).unwrap();
        for i in 0..2u8 {
            let mut ppm = b"P6\n3 2\n255\n".to_vec();
            ppm.extend((0..18).map(|j| shade.wrapping_add(j * 3 + i)));
            std::fs::write(images.join(who).join(format!("{i}.ppm")), ppm).unwrap();
        }
    }
    let pairs = write(
        dir.path(),
        "pairs.tsv",
        b"fold\tpath1\tpath2\tsame\n1\ta/0.ppm\ta/1.ppm\t1\n2\ta/0.ppm\tb/0.ppm\t0\n",
    );
    let model = dir.path().join("run/model");
    let out = pairwise(&[
        "eval",
        "verify",
        "--model",
        model.to_str().unwrap(),
        "--pairs",
        &pairs,
        "--images",
        images.to_str().unwrap(),
        "--device",
        "cpu",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A file that is not an image is named.
    std::fs::write(images.join("a/0.ppm"), b"P6\nbroken").unwrap();
    let message = failure_message(&pairwise(&[
        "eval",
        "verify",
        "--model",
        model.to_str().unwrap(),
        "--pairs",
        &pairs,
        "--images",
        images.to_str().unwrap(),
        "--device",
        "cpu",
    ]));
    assert!(message.contains("a/0.ppm"), "{message}");
}

#[test]
fn identities_with_one_image_cannot_fill_a_batch() {
    let dir = tempfile::tempdir().unwrap();
    let images = dir.path().join("one");
    for s in 1..=4 {
        std::fs::create_dir_all(images.join(format!("s{s}"))).unwrap();
        std::fs::copy(
            orl().join(format!("s{s}/1.pgm")),
            images.join(format!("s{s}/1.pgm")),
        )
        .unwrap();
    }
    let text = format!(
        "task = \"faces\"\noutput = \"{}\"\n[data]\nsources = [{{ images = \"{}\" }}]\n\
         [model]\ninput_size = [16, 16]\nwidths = [4, 8]\nblocks = [1, 1]\n\
         [schedule]\nclasses_per_batch = 2\nimages_per_class = 2\n",
        dir.path().join("run").display(),
        images.display()
    );
    let config = write(dir.path(), "one.toml", text.as_bytes());
    let out = pairwise(&["train", "--config", &config, "--device", "cpu"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        stderr.contains("0 usable classes cannot fill a batch of 2"),
        "{stderr}"
    );
}

/// The ImageNet-feature baseline: EfficientNet-Lite0 with the set-up's ImageNet weights, no neck,
/// no training step, verified on held-out ORL identities.
#[test]
fn imagenet_features_verify_without_face_training() {
    let dir = tempfile::tempdir().unwrap();
    let weights = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../models/efficientnet-lite0/model.safetensors");
    let model = format!(
        "type = \"efficientnet_lite0\"\nimagenet_weights = \"{}\"\n\
         input_size = [64, 64]\nin_channels = 1\nembedding_dim = 0\n",
        weights.display()
    );
    train(&orl_config(dir.path(), &model, false), "0");
    let report = verify_held_out(dir.path(), &[]);
    // Generic ImageNet features already tell two ORL subjects apart (0.996 when written).
    let auc = report["auc"].as_f64().unwrap();
    assert!(auc > 0.9, "auc {auc}");
}
