#!/usr/bin/env bash
# Collection open time, snapshot format 1 (documents only: the HNSW graph and the tantivy index
# are rebuilt on open) against format 2 (both stored in the snapshot and loaded), on the same
# collection, alternating so that load on a shared machine hits both alike.
#
#   bench/open.sh COLLECTION_V1 [ROUNDS]   COLLECTION_V1: a format-1 collection (e.g. built by
#                                          `pairwise index build` before format 2); it is copied,
#                                          never modified -> docs/results/bench-open-scifact.json
set -euo pipefail
cd "$(dirname "$0")/.."
src=${1:?usage: bench/open.sh COLLECTION_V1 [ROUNDS]} rounds=${2:-3}
BIN=${PAIRWISE_BIN:-target/release/pairwise}
work=bench/out/open
rm -rf "$work" && mkdir -p "$work"
cp -r "$src" "$work/v1" && rm -f "$work/v1/LOCK"
cp -r "$work/v1" "$work/v2"
"$BIN" bench open --collection "$work/v2" --rewrite --repeat 1 >/dev/null 2>&1
for round in $(seq "$rounds"); do
  for v in v1 v2; do
    "$BIN" bench open --collection "$work/$v" --repeat 1 --json "$work/$v-$round.json"
  done
done
du -sb "$work"/v1/snapshots "$work"/v2/snapshots | sed 's/^/snapshot bytes: /'
python3 - "$work" "$rounds" <<'PY'
import json, os, statistics, subprocess, sys
work, rounds = sys.argv[1], int(sys.argv[2])
out = {}
for v in ("v1", "v2"):
    runs = [json.load(open(f"{work}/{v}-{r}.json")) for r in range(1, rounds + 1)]
    size = int(subprocess.check_output(["du", "-sb", f"{work}/{v}/snapshots"]).split()[0])
    out[f"format_{runs[0]['snapshot_format_version']}"] = {
        "documents": runs[0]["documents"],
        "open_seconds": [r["open_seconds"][0] for r in runs],
        "median_seconds": statistics.median(r["open_seconds"][0] for r in runs),
        "snapshot_bytes": size,
    }
out["speedup"] = out["format_1"]["median_seconds"] / out["format_2"]["median_seconds"]
out["loadavg_at_end"] = os.getloadavg()
out["commit"] = runs[0]["commit"]
os.makedirs("docs/results", exist_ok=True)
json.dump(out, open("docs/results/bench-open-scifact.json", "w"), indent=2)
print(json.dumps(out, indent=1))
PY
