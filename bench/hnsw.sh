#!/usr/bin/env bash
# Approximate nearest neighbours: pairwise's HnswIndex vs hnswlib on the same vectors, the same
# exact neighbours, the same M / ef_construction / ef_search list; build on $THREADS threads,
# every query on one thread, after one untimed warm-up pass, each timed pass at least
# $MIN_SECONDS long. Each engine builds and saves its index once (build time, memory, a first
# set of query passes), then the two take turns $ROUNDS more times reopening their saved index
# for query passes only, and the QPS reported per ef_search is the median of every pass: on a
# shared machine speed drifts by 10-20% over minutes, which one pass each, minutes apart,
# would charge to whichever engine ran in the slow minute. A benchmark, not a test.
#
#   bench/hnsw.sh real                 MiniLM embeddings of every sentence we have (SciFact
#                                      corpus + queries, STS-B, SICK, SNLI dev/test), de-duplicated,
#                                      1,000 held out (seeded) as queries
#                                      -> docs/results/bench-hnsw-real.json
#   bench/hnsw.sh synthetic N [DIM]    N gaussian-clustered DIM-d vectors (default 384) + 1,000
#                                      queries (seeded)
#                                      -> docs/results/bench-hnsw-synthetic-N.json (DIM 384)
#                                      -> docs/results/bench-hnsw-synthetic-N-dDIM.json (others)
#
# Options through the environment: M (16), EF_CONSTRUCTION (200), EF_SEARCH (10,20,40,80,160,320),
# THREADS (all cores), ENGINE (native, or hnsw_rs: then the result's name ends in -hnsw_rs),
# ROUNDS (3), MIN_SECONDS (1.0).
# Vector sets are prepared once under bench/out/ (ignored by git).
# The real set is embedded with --dtype bf16 on the CPU (about 3x faster than f32 here); the
# vectors differ from f32 ones in the third decimal, which does not matter to an index benchmark.
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:?usage: bench/hnsw.sh real | synthetic N [DIM]}
BIN=${PAIRWISE_BIN:-target/release/pairwise}
PY=${PYTHON_BENCH:-.venv/bin/python}
M=${M:-16} EFC=${EF_CONSTRUCTION:-200} EFS=${EF_SEARCH:-10,20,40,80,160,320}
THREADS=${THREADS:-$(nproc)} ENGINE=${ENGINE:-native} ROUNDS=${ROUNDS:-3}
MIN_SECONDS=${MIN_SECONDS:-1.0}
suffix=; [ "$ENGINE" = native ] || suffix=-$ENGINE
"$PY" -c 'import hnswlib' 2>/dev/null || "$PY" -m pip install -q "$(grep '^hnswlib==' bench/requirements.txt)"
case "$kind" in
  real)
    dir=bench/out/hnsw-real result=docs/results/bench-hnsw-real$suffix.json
    if [ ! -f "$dir/base.npy" ]; then
      "$PY" bench/hnsw_data.py sentences "$dir"
      for part in queries base; do
        "$BIN" embed --input "$dir/$part.txt" --output "$dir/$part.npy" \
          --device cpu --dtype bf16 --batch-size 64
      done
    fi;;
  synthetic)
    n=${2:?usage: bench/hnsw.sh synthetic N [DIM]} dim=${3:-384}
    name=synthetic-$n; [ "$dim" = 384 ] || name=$name-d$dim
    dir=bench/out/hnsw-$name result=docs/results/bench-hnsw-$name$suffix.json
    [ -f "$dir/base.npy" ] || "$PY" bench/hnsw_data.py synthetic "$dir" "$n" "$dim";;
  *) echo "unknown set $kind" >&2; exit 2;;
esac
common=(--vectors "$dir/base.npy" --queries "$dir/queries.npy" --truth "$dir/truth.npy"
  --m "$M" --ef-construction "$EFC" --ef-search "$EFS" --threads "$THREADS"
  --min-seconds "$MIN_SECONDS")
saved_pw=$dir/pairwise-index saved_hl=$dir/hnswlib-index.bin
rm -rf "$saved_pw" "$saved_hl"
# pairwise first: it writes the exact neighbours (flat index) that hnswlib then reads.
"$BIN" bench hnsw "${common[@]}" --engine "${ENGINE//_/-}" --reuse-index "$saved_pw" \
  --json "$dir/pairwise.json"
"$PY" bench/hnswlib_bench.py "${common[@]}" --reuse-index "$saved_hl" --json "$dir/hnswlib.json"
for round in $(seq 1 "$ROUNDS"); do
  "$BIN" bench hnsw "${common[@]}" --engine "${ENGINE//_/-}" --reuse-index "$saved_pw" \
    --json "$dir/pairwise-round$round.json"
  "$PY" bench/hnswlib_bench.py "${common[@]}" --reuse-index "$saved_hl" \
    --json "$dir/hnswlib-round$round.json"
done
rm -rf "$saved_pw" "$saved_hl"
mkdir -p docs/results
"$PY" - "$dir" "$result" "$kind" "$ROUNDS" <<'PY'
import json, os, platform, statistics, subprocess, sys
dir, result, kind, rounds = sys.argv[1:5]
engines = {e: json.load(open(f"{dir}/{e}.json")) for e in ["pairwise", "hnswlib"]}
for name, e in engines.items():
    passes = [e] + [json.load(open(f"{dir}/{name}-round{r}.json")) for r in range(1, int(rounds) + 1)]
    for run in e["runs"]:
        same = [r for p in passes for r in p["runs"] if r["ef_search"] == run["ef_search"]]
        if any(r["recall"] != run["recall"] for r in same):
            sys.exit(f"{name}: recall at ef {run['ef_search']} differs between passes")
        run["qps_passes"] = [r["qps"] for r in same]
        run["qps"] = statistics.median(run["qps_passes"])

def qps_at(runs, target):
    """QPS at a recall target, linearly interpolated between the two ef values around it."""
    runs = sorted(runs, key=lambda r: r["ef_search"])
    for lo, hi in zip([None] + runs, runs):
        if hi["recall"] >= target:
            if lo is None or hi["recall"] == lo["recall"]:
                return {"qps": hi["qps"], "ef_search": hi["ef_search"], "interpolated": False}
            t = (target - lo["recall"]) / (hi["recall"] - lo["recall"])
            return {"qps": lo["qps"] + t * (hi["qps"] - lo["qps"]),
                    "ef_search": [lo["ef_search"], hi["ef_search"]], "interpolated": True}
    return None

summary = {}
for name, e in engines.items():
    summary[name] = {
        "build_seconds": e["build_seconds"],
        "index_mib": e["index_mib"],
        "raw_vectors_mib": e["raw_vectors_mib"],
        "index_over_raw": e["index_over_raw"],
        "qps_at_recall": {str(t): qps_at(e["runs"], t) for t in (0.90, 0.95, 0.99)},
    }
pw, hl = summary["pairwise"], summary["hnswlib"]
ratios = {"build_seconds": pw["build_seconds"] / hl["build_seconds"],
          "index_mib": pw["index_mib"] / hl["index_mib"]}
for t in ("0.9", "0.95", "0.99"):
    a, b = pw["qps_at_recall"][t], hl["qps_at_recall"][t]
    ratios[f"qps_at_recall_{t}"] = a["qps"] / b["qps"] if a and b else None
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
flags = next((l for l in open("/proc/cpuinfo") if l.startswith("flags")), "")
out = {
    "bench": "hnsw", "set": kind, "summary": summary, "pairwise_over_hnswlib": ratios,
    "engines": engines,
    "machine": {"cpu": cpu, "cores": os.cpu_count(), "platform": platform.platform(),
                "simd": [f for f in ("sse4_2", "avx2", "fma", "avx512f") if f" {f}" in flags],
                "mem_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)},
    "note": "memory: index_mib = RSS after build - RSS after loading the vectors; "
            "raw_vectors_mib = n * dim * 4 bytes. QPS: one thread, one query per call, "
            "the median of qps_passes (the build run's pass, then one per round, the engines "
            "taking turns).",
}
json.dump(out, open(result, "w"), indent=2)
open(result, "a").write("\n")
print(json.dumps({"summary": summary, "pairwise_over_hnswlib": ratios}, indent=1))
PY
