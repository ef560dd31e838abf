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
if [ "$DEVICE" != cpu ]; then # the same run in f32 (no autocast), against sentence-transformers' f32
  sed 's/^\[schedule\]/[schedule]\nbf16_autocast = false/' configs/bench-train-infonce.toml > "$out/f32.toml"
  "$BIN" train --config "$out/f32.toml" --output "$out/run-f32" --device "$DEVICE" --max-steps $((STEPS + 1))
fi
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
def seconds_per_step(run):
    steps = [json.loads(l) for l in open(f"{out}/{run}/metrics.jsonl")][1:]  # drop the warm-up step
    return sum(32 / s["examples_per_second"] for s in steps) / len(steps), len(steps)
ours, n_steps = seconds_per_step("run")
st = json.load(open(f"{out}/st.json"))
result = {"device": device, "pairwise_seconds_per_step": ours, "pairwise_steps": n_steps,
          "st": st, "speedup": st["seconds_per_step"] / ours}
if os.path.exists(f"{out}/st-bf16.json"):  # on CUDA: pairwise bf16 vs ST bf16, pairwise f32 vs ST f32
    result["pairwise_bf16_autocast"] = True
    result["st_bf16"] = json.load(open(f"{out}/st-bf16.json"))
    result["speedup_vs_st_bf16"] = result["st_bf16"]["seconds_per_step"] / ours
    result["pairwise_f32_seconds_per_step"], _ = seconds_per_step("run-f32")
    result["speedup_f32_vs_st_f32"] = st["seconds_per_step"] / result["pairwise_f32_seconds_per_step"]
json.dump(result, open(f"docs/results/bench-train-{device}.json", "w"), indent=2)
print(f"pairwise {ours:.3f} s/step, sentence-transformers {st['seconds_per_step']:.3f} s/step: {result['speedup']:.2f}x")
if "st_bf16" in result:
    print(f"bf16: pairwise {ours:.3f} vs sentence-transformers {result['st_bf16']['seconds_per_step']:.3f} s/step "
          f"({result['speedup_vs_st_bf16']:.2f}x); f32: pairwise {result['pairwise_f32_seconds_per_step']:.3f} vs "
          f"{st['seconds_per_step']:.3f} s/step ({result['speedup_f32_vs_st_f32']:.2f}x)")
PY
rm -rf "$out"
