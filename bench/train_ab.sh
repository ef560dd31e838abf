#!/usr/bin/env bash
# Training speed of two pairwise binaries (e.g. before and after a change), taking turns so the
# machine's drift falls on both alike: ROUNDS rounds of `pairwise train --config CONFIG
# --max-steps STEPS`, each binary once per round; reports every round's steps_per_second (from
# the pairwise_training.json each run wrote), the medians and the ratio B / A, and whether the
# two final losses agree.
#
#   bench/train_ab.sh BINARY_A BINARY_B CONFIG [JSON]
#
# Env: ROUNDS (4), STEPS (400), DEVICE (cpu), OMP_NUM_THREADS (as set; the tiny CPU figure of
# docs/RESULTS.md uses 1).
set -euo pipefail
cd "$(dirname "$0")/.."
a=$1 b=$2 config=$3 json=${4:-}
rounds=${ROUNDS:-4} steps=${STEPS:-400} device=${DEVICE:-cpu}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for round in $(seq "$rounds"); do
  for side in a b; do
    bin=$a
    [ "$side" = b ] && bin=$b
    "$bin" train --config "$config" --max-steps "$steps" --device "$device" \
      --output "$tmp/$side-$round" > /dev/null 2>&1
    cp "$tmp/$side-$round/pairwise_training.json" "$tmp/$side-$round.json"
    rm -rf "${tmp:?}/$side-$round"
  done
done
python3 - "$tmp" "$rounds" "$a" "$b" "$config" "$steps" "$device" "$json" <<'EOF'
import json, statistics, sys
tmp, rounds, a, b, config, steps, device, out = sys.argv[1:]
runs = {s: [json.load(open(f"{tmp}/{s}-{r}.json")) for r in range(1, int(rounds) + 1)] for s in "ab"}
rate = {s: [r["summary"]["steps_per_second"] for r in runs[s]] for s in "ab"}
result = {
    "config": config, "steps_per_round": int(steps), "device": device,
    "threads": runs["a"][0]["threads"],
    "a": {"binary": a, "commit": runs["a"][0]["commit"], "steps_per_second": rate["a"],
          "median": statistics.median(rate["a"])},
    "b": {"binary": b, "commit": runs["b"][0]["commit"], "steps_per_second": rate["b"],
          "median": statistics.median(rate["b"])},
    "ratio_b_over_a": statistics.median(rate["b"]) / statistics.median(rate["a"]),
    "same_final_loss": all(x["summary"]["final_loss"] == y["summary"]["final_loss"]
                           for x, y in zip(runs["a"], runs["b"])),
}
text = json.dumps(result, indent=2)
print(text)
if out:
    open(out, "w").write(text + "\n")
EOF
