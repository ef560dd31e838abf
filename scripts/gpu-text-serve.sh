#!/usr/bin/env bash
# GPU figures of issues 4 and 5, in one prepared run on a CUDA machine:
#   1. SciFact fine-tunes on the GPU (bf16 autocast) for the losses in LOSSES, seed 1, each
#      evaluated on the test queries (bench/finetune.sh with DEVICE=cuda; files tagged -cuda);
#   2. training speed against sentence-transformers on the same GPU (bench/train_speed.sh);
#   3. corpus encoding throughput against sentence-transformers, f32 and bf16 (bench/encode.sh);
#   4. the server load test with wrk (bench/serve_load.sh), the encoder on the GPU.
#
#   scripts/gpu-text-serve.sh [LOG_DIR]      # default target/gpu-text
#
# Env: PAIRWISE_BIN, PYTHON_BENCH (a python with torch and sentence-transformers), LOSSES
# (default "infonce mw mw-t05 mw-t10 mw-paper infonce-bm25 mw-bm25"), SEEDS (default 1),
# DURATION (wrk seconds per run, default 6). Needs models/all-MiniLM-L6-v2 and ../shared/data.
set -uo pipefail
cd "$(dirname "$0")/.."
LOGS=${1:-target/gpu-text}
mkdir -p "$LOGS" docs/results
export PYTHON_BENCH=${PYTHON_BENCH:-.venv/bin/python}
log() { echo "[$(date +%T)] $*" >&2; }

log "1. SciFact fine-tunes on the GPU"
# Side by side on the one GPU (each run is small: 29 steps of batch 32), two CPU threads each.
read -r -a losses <<<"${LOSSES:-infonce mw mw-t05 mw-t10 mw-paper infonce-bm25 mw-bm25}"
for loss in "${losses[@]}"; do
  # shellcheck disable=SC2086
  (OMP_NUM_THREADS=2 DEVICE=cuda LOSSES=$loss timeout 200 bench/finetune.sh scifact ${SEEDS:-1} \
    > "$LOGS/finetune-$loss.log" 2>&1 || { log "fine-tune $loss failed"; tail -3 "$LOGS/finetune-$loss.log" >&2; }) &
done
wait
for loss in "${losses[@]}"; do
  grep -E "@10 |AUC" "$LOGS/finetune-$loss.log" | sed "s/^/  $loss: /" >&2
done

log "2. training speed against sentence-transformers"
DEVICE=cuda STEPS=50 timeout 180 bench/train_speed.sh > "$LOGS/train-speed.log" 2>&1 \
  || { log "train speed failed"; tail -5 "$LOGS/train-speed.log" >&2; }
tail -1 "$LOGS/train-speed.log" >&2

log "3. encoding throughput"
for dtype in f32 bf16; do
  ROUNDS=2 timeout 150 bench/encode.sh --device cuda --dtype "$dtype" --batch-size 128 \
    > "$LOGS/encode-$dtype.log" 2>&1 || { log "encode $dtype failed"; tail -5 "$LOGS/encode-$dtype.log" >&2; }
  tail -1 "$LOGS/encode-$dtype.log" >&2
done

log "4. server load test"
DURATION=${DURATION:-6} THREADS=4 timeout 240 bench/serve_load.sh > "$LOGS/serve-load.md" 2> "$LOGS/serve-load.log" \
  || { log "serve load failed"; tail -5 "$LOGS/serve-load.log" >&2; }
cat "$LOGS/serve-load.md" >&2
log "finished"
