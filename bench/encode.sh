#!/usr/bin/env bash
# Corpus encoding throughput: pairwise vs sentence-transformers, same documents, same max length
# and batch size, in one run on one machine. A benchmark, not a test.
#
#   bench/encode.sh [--device cpu|cuda] [--dtype f32|bf16] [--batch-size N] [--max-length N]
#
# Writes docs/results/bench-encode-<device>-<dtype>.json (both engines, the machine, the ratio).
set -euo pipefail
cd "$(dirname "$0")/.."
device=cpu dtype=f32 batch=32 maxlen=256 rounds=${ROUNDS:-2}
while [ $# -gt 0 ]; do
  case "$1" in
    --device) device=$2; shift 2;;
    --dtype) dtype=$2; shift 2;;
    --batch-size) batch=$2; shift 2;;
    --max-length) maxlen=$2; shift 2;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
BIN=${PAIRWISE_BIN:-target/release/pairwise}
PY=${PYTHON_BENCH:-.venv/bin/python}
DATA=${PAIRWISE_DATA:-../shared/data}/scifact
MODEL=${MODEL:-models/all-MiniLM-L6-v2}
"$PY" -c 'import sentence_transformers' 2>/dev/null || "$PY" -m pip install -q -r bench/requirements.txt
out=$(mktemp -d)
common=(--model "$MODEL" --data "$DATA" --max-length "$maxlen" --batch-size "$batch" --device "$device" --dtype "$dtype")
for round in $(seq 1 "$rounds"); do
  "$BIN" bench encode "${common[@]}" --json "$out/pairwise-$round.json"
  "$PY" bench/st_encode.py "${common[@]}" --json "$out/st-$round.json" \
    $( [ "$round" = 1 ] && echo --save-npy "$out/st.npy" )
done
"$BIN" embed --model "$MODEL" --max-length "$maxlen" --device "$device" --dtype "$dtype" \
  --input <("$PY" -c "import json,sys; [print(json.dumps({'text': (d['title']+' '+d['text']) if d.get('title') else d['text']})) for d in map(json.loads, open('$DATA/corpus.jsonl'))]") \
  --output "$out/pairwise.npy" 2>/dev/null || true
mkdir -p docs/results
"$PY" - "$out" "$device" "$dtype" <<'PY'
import glob, json, os, platform, subprocess, sys
out, device, dtype = sys.argv[1:4]
load = lambda pattern: [json.load(open(p)) for p in sorted(glob.glob(f"{out}/{pattern}"))]
pw, st = load("pairwise-*.json"), load("st-*.json")
best = lambda runs: max(r["docs_per_second"] for r in runs)
agreement = None
if os.path.exists(f"{out}/pairwise.npy") and os.path.exists(f"{out}/st.npy"):
    agreement = json.loads(subprocess.check_output([sys.executable, "bench/compare_npy.py", f"{out}/pairwise.npy", f"{out}/st.npy"]))
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
result = {
    "machine": {"cpu": cpu, "cores": os.cpu_count(), "device": device},
    "pairwise": pw, "sentence_transformers": st,
    "pairwise_best_docs_per_second": best(pw), "st_best_docs_per_second": best(st),
    "speedup": best(pw) / best(st),
    "embedding_agreement": agreement,
}
path = f"docs/results/bench-encode-{device}-{dtype}.json"
json.dump(result, open(path, "w"), indent=2)
print(f"speed-up {result['speedup']:.2f}x  (pairwise {best(pw):.1f} vs sentence-transformers {best(st):.1f} docs/s); agreement {agreement}; wrote {path}")
PY
rm -rf "$out"
