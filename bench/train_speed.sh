#!/usr/bin/env bash
# Training speed: pairwise vs sentence-transformers, MultipleNegativesRankingLoss, batch 32,
# max length 128, SciFact (query, positive) pairs, STEPS timed steps (default 10) after one
# warm-up step each, in f32 and in bf16 for both engines:
#   pairwise bf16 = `bf16_autocast` on CUDA, `cpu_bf16_matmul` on the CPU (bf16 products, f32
#   weights and optimiser); sentence-transformers bf16 = `torch.autocast(bfloat16)`.
# DEVICE=cpu|cuda (default cpu). Writes docs/results/bench-train-$DEVICE.json.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${PAIRWISE_BIN:-target/release/pairwise}
PY=${PYTHON_BENCH:-.venv/bin/python}
DATA=${PAIRWISE_DATA:-../shared/data}/scifact
DEVICE=${DEVICE:-cpu}
STEPS=${STEPS:-10}
out=$(mktemp -d)
for precision in f32 bf16; do
  on=$([ "$precision" = bf16 ] && echo true || echo false)
  sed "s/^\[schedule\]/[schedule]\nbf16_autocast = $on\ncpu_bf16_matmul = $on/" \
    configs/bench-train-infonce.toml > "$out/$precision.toml"
  "$BIN" train --config "$out/$precision.toml" --output "$out/run-$precision" --device "$DEVICE" \
    --max-steps $((STEPS + 1))
  "$PY" bench/st_train.py --model models/all-MiniLM-L6-v2 --data "$DATA" --steps "$STEPS" \
    --device "$DEVICE" $([ "$precision" = bf16 ] && echo --bf16) --json "$out/st-$precision.json"
done
mkdir -p docs/results
"$PY" - "$out" "$DEVICE" <<'PY'
import json, sys
out, device = sys.argv[1:3]
def seconds_per_step(run):
    steps = [json.loads(l) for l in open(f"{out}/{run}/metrics.jsonl")][1:]  # drop the warm-up step
    return sum(32 / s["examples_per_second"] for s in steps) / len(steps), len(steps)
result = {"device": device, "pairwise": {}, "st": {}}
for precision in ("f32", "bf16"):
    ours, n = seconds_per_step(f"run-{precision}")
    st = json.load(open(f"{out}/st-{precision}.json"))
    result["pairwise"][precision] = {"seconds_per_step": ours, "steps": n}
    result["st"][precision] = st
    result[f"speedup_{precision}"] = st["seconds_per_step"] / ours
best = lambda engine: min(v["seconds_per_step"] for v in result[engine].values())
result["speedup_best_vs_best"] = best("st") / best("pairwise")
json.dump(result, open(f"docs/results/bench-train-{device}.json", "w"), indent=2)
for precision in ("f32", "bf16"):
    print(f"{precision}: pairwise {result['pairwise'][precision]['seconds_per_step']:.3f} s/step, "
          f"sentence-transformers {result['st'][precision]['seconds_per_step']:.3f} s/step: "
          f"{result[f'speedup_{precision}']:.2f}x")
print(f"fastest against fastest: {result['speedup_best_vs_best']:.2f}x")
PY
rm -rf "$out"
