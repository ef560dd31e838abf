#!/usr/bin/env bash
# Training speed: pairwise vs sentence-transformers, MultipleNegativesRankingLoss, batch 32,
# max length 128, SciFact (query, positive) pairs, STEPS timed steps (default 10) after one warm-up
# step each. DEVICE=cuda for the GPU (pairwise trains with bf16 autocast there; sentence-transformers
# in f32 and, as a second figure, under torch.autocast bf16). Writes docs/results/bench-train-$DEVICE.json.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${PAIRWISE_BIN:-target/release/pairwise}
PY=${PYTHON_BENCH:-.venv/bin/python}
DATA=${PAIRWISE_DATA:-../shared/data}/scifact
DEVICE=${DEVICE:-cpu}
STEPS=${STEPS:-10}
out=$(mktemp -d)
"$BIN" train --config configs/bench-train-infonce.toml --output "$out/run" --device "$DEVICE" \
  --max-steps $((STEPS + 1))
"$PY" bench/st_train.py --model models/all-MiniLM-L6-v2 --data "$DATA" --steps "$STEPS" \
  --device "$DEVICE" --json "$out/st.json"
if [ "$DEVICE" != cpu ]; then
  "$PY" bench/st_train.py --model models/all-MiniLM-L6-v2 --data "$DATA" --steps "$STEPS" \
    --device "$DEVICE" --bf16 --json "$out/st-bf16.json"
fi
mkdir -p docs/results
"$PY" - "$out" "$DEVICE" <<'PY'
import json, os, sys
out, device = sys.argv[1:3]
steps = [json.loads(l) for l in open(f"{out}/run/metrics.jsonl")][1:]  # drop the warm-up step
ours = sum(32 / s["examples_per_second"] for s in steps) / len(steps)
st = json.load(open(f"{out}/st.json"))
result = {"device": device, "pairwise_seconds_per_step": ours, "pairwise_steps": len(steps),
          "st": st, "speedup": st["seconds_per_step"] / ours}
if os.path.exists(f"{out}/st-bf16.json"):
    result["st_bf16"] = json.load(open(f"{out}/st-bf16.json"))
    result["speedup_vs_st_bf16"] = result["st_bf16"]["seconds_per_step"] / ours
json.dump(result, open(f"docs/results/bench-train-{device}.json", "w"), indent=2)
print(f"pairwise {ours:.2f} s/step, sentence-transformers {st['seconds_per_step']:.2f} s/step: {result['speedup']:.2f}x")
PY
rm -rf "$out"
