#!/usr/bin/env bash
# SciFact fine-tunes of all-MiniLM-L6-v2: InfoNCE vs MW, several seeds; each trained model is
# evaluated on the 300 test queries (nDCG@10, pooled AUC), JSON kept in docs/results/.
#
#   bench/scifact_finetune.sh [SEEDS...]        (default: 1 2 3)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${PAIRWISE_BIN:-target/release/pairwise}

[ $# -gt 0 ] && seeds=("$@") || seeds=(1 2 3)
mkdir -p docs/results runs
for seed in "${seeds[@]}"; do
  for loss in infonce mw; do
    run=runs/scifact-$loss-seed$seed
    "$BIN" train --config configs/scifact-$loss.toml --seed "$seed" --output "$run" --device cpu
    "$BIN" eval retrieval --model "$run/model" --device cpu --split test \
      --json docs/results/scifact-test-finetune-$loss-seed$seed.json | grep -E "@10 |AUC"
    cp "$run/pairwise_training.json" docs/results/scifact-train-$loss-seed$seed.json
  done
done
