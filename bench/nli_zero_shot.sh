#!/usr/bin/env bash
# NLI -> zero-shot (the MW paper's Table 2 setting): train all-MiniLM-L6-v2 on SNLI dev triplets
# with each loss, evaluate zero-shot on SciFact test. JSON kept in docs/results/.
#
#   bench/nli_zero_shot.sh [SEEDS...]        (default: 1 2 3)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${PAIRWISE_BIN:-target/release/pairwise}
[ $# -gt 0 ] && seeds=("$@") || seeds=(1 2 3)
mkdir -p docs/results runs
for seed in "${seeds[@]}"; do
  for loss in infonce mw; do
    run=runs/nli-$loss-seed$seed
    "$BIN" train --config configs/nli-$loss.toml --seed "$seed" --output "$run" --device cpu
    "$BIN" eval retrieval --model "$run/model" --device cpu --split test \
      --json docs/results/scifact-test-from-nli-$loss-seed$seed.json | grep -E "@10 |AUC"
    cp "$run/pairwise_training.json" docs/results/nli-train-$loss-seed$seed.json
  done
done
