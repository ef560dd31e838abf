#!/usr/bin/env bash
# Fine-tune all-MiniLM-L6-v2 with InfoNCE and with MW for several seeds, then evaluate each model
# on SciFact test (nDCG@10, pooled AUC). JSON kept in docs/results/.
#
#   bench/finetune.sh scifact [SEEDS...]   # configs/scifact-*.toml: in-domain (train queries)
#   bench/finetune.sh nli [SEEDS...]       # configs/nli-*.toml: SNLI -> zero-shot SciFact
# SEEDS default to 1 2 3. LOSSES picks the configs (default "infonce mw"): each name X runs
# configs/<experiment>-X.toml, e.g. LOSSES="mw-t05 mw-t10" bench/finetune.sh scifact 1 2 3.
# PAIRWISE_BIN points at another build (default target/release/pairwise). DEVICE=cuda trains and
# evaluates on the GPU (bf16 autocast) and tags every file with "-cuda"; the default is the CPU.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${PAIRWISE_BIN:-target/release/pairwise}
DEVICE=${DEVICE:-cpu}
tag=$([ "$DEVICE" = cpu ] || echo "-$DEVICE")
experiment=${1:?usage: bench/finetune.sh scifact|nli [SEEDS...]}
shift
case "$experiment" in
  scifact) eval_name=scifact-test-finetune ;;
  nli) eval_name=scifact-test-from-nli ;;
  *) echo "unknown experiment $experiment (scifact or nli)" >&2; exit 2 ;;
esac
[ $# -gt 0 ] && seeds=("$@") || seeds=(1 2 3)
mkdir -p docs/results runs
read -r -a losses <<<"${LOSSES:-infonce mw}"
for loss in "${losses[@]}"; do
  [ -f "configs/$experiment-$loss.toml" ] || { echo "no configs/$experiment-$loss.toml" >&2; exit 2; }
done
for seed in "${seeds[@]}"; do
  for loss in "${losses[@]}"; do
    run=runs/$experiment-$loss-seed$seed$tag
    "$BIN" train --config "configs/$experiment-$loss.toml" --seed "$seed" --output "$run" --device "$DEVICE"
    "$BIN" eval retrieval --model "$run/model" --device "$DEVICE" --split test \
      --json "docs/results/$eval_name-$loss-seed$seed$tag.json" | grep -E "@10 |AUC"
    cp "$run/pairwise_training.json" "docs/results/$experiment-train-$loss-seed$seed$tag.json"
  done
done
