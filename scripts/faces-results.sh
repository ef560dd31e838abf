#!/usr/bin/env bash
# Reproduces the "Faces" figures of docs/RESULTS.md: trains each face config with the given
# seeds (one run at a time, niced), then evaluates it and keeps the JSON in docs/results/.
#   scripts/faces-results.sh orl|lfw|baseline|imagenet|effnet SEED...
# imagenet: the ImageNet-feature baseline (EfficientNet-Lite0, no face training; seed-independent);
# effnet: EfficientNet-Lite0 fine-tuned from ImageNet with ArcFace on the LFW training identities.
set -euo pipefail
# One intra-op thread: on a shared 2-core machine, two OpenMP threads that spin-wait for each
# other ran 17x slower (3.8 vs 64 images/s, measured in the same minute).
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
cd "$(dirname "$0")/.."
bin=${PAIRWISE_BIN:-target/release/pairwise}
data=../shared/data
what=$1
shift
verify_orl() { # run-dir result-name
  nice -n 5 "$bin" eval verify --model "$1/model" --pairs "$1/eval_pairs.tsv" \
    --images "$data/orl-faces" --center-crop 92,92 --flip --device cpu --json "docs/results/$2.json"
}
verify_lfw() { # run-dir result-name
  nice -n 5 "$bin" eval verify --model "$1/model" --pairs "$data/lfw-gray-subset/pairs_available.tsv" \
    --images "$data/lfw-gray-subset/images" --center-crop 110,110 --flip --device cpu \
    --json "docs/results/$2.json"
}
for seed in "$@"; do
  case $what in
    orl)
      nice -n 5 "$bin" train --config configs/faces-orl-arcface.toml --seed "$seed" \
        --output "runs/faces-orl-arcface-s$seed" --device cpu
      verify_orl "runs/faces-orl-arcface-s$seed" "faces-orl-arcface-s$seed"
      ;;
    lfw)
      for loss in arcface arcface-unpg cosface cosface-unpg; do
        nice -n 5 "$bin" train --config "configs/faces-lfw-$loss.toml" --seed "$seed" \
          --output "runs/faces-lfw-$loss-s$seed" --device cpu
        verify_lfw "runs/faces-lfw-$loss-s$seed" "faces-lfw-$loss-s$seed"
      done
      ;;
    baseline)
      # The same network, randomly initialised (0 training steps): no face training at all.
      nice -n 5 "$bin" train --config configs/faces-lfw-arcface.toml --seed "$seed" --max-steps 0 \
        --output "runs/faces-random-s$seed" --device cpu
      verify_lfw "runs/faces-random-s$seed" "faces-lfw-random-init-s$seed"
      nice -n 5 "$bin" train --config configs/faces-orl-arcface.toml --seed "$seed" --max-steps 0 \
        --output "runs/faces-orl-random-s$seed" --device cpu
      verify_orl "runs/faces-orl-random-s$seed" "faces-orl-random-init-s$seed"
      ;;
    imagenet)
      nice -n 5 "$bin" train --config configs/faces-lfw-effnet-imagenet.toml --seed "$seed" --max-steps 0 \
        --output "runs/faces-lfw-effnet-imagenet-s$seed" --device cpu
      verify_lfw "runs/faces-lfw-effnet-imagenet-s$seed" "faces-lfw-effnet-imagenet-s$seed"
      ;;
    effnet)
      nice -n 5 "$bin" train --config configs/faces-lfw-effnet-arcface.toml --seed "$seed" \
        --output "runs/faces-lfw-effnet-arcface-s$seed" --device cpu
      verify_lfw "runs/faces-lfw-effnet-arcface-s$seed" "faces-lfw-effnet-arcface-s$seed"
      ;;
    *) echo "usage: $0 orl|lfw|baseline|imagenet|effnet SEED..." >&2; exit 2 ;;
  esac
done
