#!/usr/bin/env bash
# Training speed on CPU: pairwise vs sentence-transformers, MultipleNegativesRankingLoss, batch 32,
# max length 128, SciFact (query, positive) pairs, 10 timed steps after one warm-up step each.
# Writes docs/results/bench-train-cpu.json.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${PAIRWISE_BIN:-target/release/pairwise}
PY=${PYTHON_BENCH:-.venv/bin/python}
DATA=${PAIRWISE_DATA:-../shared/data}/scifact
out=$(mktemp -d)
"$BIN" train --config configs/bench-train-infonce.toml --output "$out/run" --device cpu
"$PY" bench/st_train.py --model models/all-MiniLM-L6-v2 --data "$DATA" --steps 10 --json "$out/st.json"
mkdir -p docs/results
"$PY" - "$out" <<'PY'
import json, sys
out = sys.argv[1]
steps = [json.loads(l) for l in open(f"{out}/run/metrics.jsonl")][1:]  # drop the warm-up step
ours = sum(32 / s["examples_per_second"] for s in steps) / len(steps)
st = json.load(open(f"{out}/st.json"))
result = {"pairwise_seconds_per_step": ours, "pairwise_steps": len(steps),
          "st": st, "speedup": st["seconds_per_step"] / ours}
json.dump(result, open("docs/results/bench-train-cpu.json", "w"), indent=2)
print(f"pairwise {ours:.2f} s/step, sentence-transformers {st['seconds_per_step']:.2f} s/step: {result['speedup']:.2f}x")
PY
rm -rf "$out"
