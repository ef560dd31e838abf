#!/usr/bin/env bash
# Reproduces the "Few-shot (Omniglot)" rows of docs/RESULTS.md: trains each configs/omniglot-*.toml
# model on the background alphabets, then evaluates it on the evaluation alphabets (1000
# episodes, seed 0), writing one JSON per row to docs/results/. One run at a time, on the CPU.
# FEWSHOT_EPISODIC / FEWSHOT_CONTRASTIVE pick the configs (set empty to skip a group), e.g.
#   FEWSHOT_EPISODIC=protonet-resnet12 FEWSHOT_CONTRASTIVE= scripts/fewshot-results.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${PAIRWISE_BIN:-target/release/pairwise}
OUT=docs/results
mkdir -p "$OUT"
evaluate() { # name ways shots
  nice -n 5 "$BIN" eval fewshot --model "runs/omniglot-$1/model" --ways "$2" --shots "$3" \
    --episodes 1000 --seed 0 --device cpu --json "$OUT/fewshot-$1-${2}w${3}s.json"
}
for name in ${FEWSHOT_EPISODIC-protonet proto-triplet icnn}; do
  nice -n 5 "$BIN" train --config "configs/omniglot-$name.toml" --device cpu
  for setting in "5 1" "5 5" "20 1" "20 5"; do evaluate "$name" $setting; done
done
for name in ${FEWSHOT_CONTRASTIVE-simclr amcl}; do
  nice -n 5 "$BIN" train --config "configs/omniglot-$name.toml" --device cpu
  evaluate "$name" 5 1
done
