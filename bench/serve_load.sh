#!/usr/bin/env bash
# Load test of `pairwise serve` on loopback with wrk: search queries/s and p50/p99 latency at
# concurrency 1, 8 and 32 against a SciFact collection, then the same concurrency-32 run with
# dynamic batching off (encoder max_batch = 1), and the HTTP overhead against the time the
# search spends inside the server (route latency from /metrics).
#
#   bench/serve_load.sh                 # builds the SciFact collection first when missing
#   DURATION=20 MODE=dense bench/serve_load.sh
#
# Needs wrk (apt-get install -y wrk) and target/release/pairwise (make setup).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${BIN:-target/release/pairwise}
WORK=${WORK:-target/bench-serve}
DURATION=${DURATION:-15}
MODE=${MODE:-hybrid}
PORT=${PORT:-18080}
THREADS=${THREADS:-2}
DATA=${DATA:-../shared/data/scifact}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
# GET a URL quietly, failing on an error status: curl where it exists, else Python.
fetch() {
  if command -v curl >/dev/null; then
    curl -sf "$1"
  else
    python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' "$1" 2>/dev/null
  fi
}

mkdir -p "$WORK/data"
if [ ! -d "$WORK/data/scifact/snapshots" ]; then
  echo "== building the SciFact collection (once) ==" >&2
  "$BIN" index build --data "$DATA" --out "$WORK/data/scifact"
fi

# One search body per SciFact query.
python3 - "$DATA/queries.jsonl" "$MODE" > "$WORK/bodies.jsonl" <<'PY'
import json, sys
mode = sys.argv[2]
for line in open(sys.argv[1]):
    q = json.loads(line)["text"]
    print(json.dumps({"query": q, "mode": mode, "k": 10}))
PY
echo "$(wc -l < "$WORK/bodies.jsonl") query bodies, mode $MODE" >&2

SERVER_PID=
stop_server() {
  if [ -n "$SERVER_PID" ]; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
  fi
}
trap stop_server EXIT

start_server() { # $1 = encoder max batch
  PAIRWISE_LOG=warn "$BIN" serve --data-dir "$WORK/data" --addr "127.0.0.1:$PORT" \
    --max-batch "$1" 2> "$WORK/server-batch$1.log" &
  SERVER_PID=$!
  for _ in $(seq 1 600); do
    if fetch "http://127.0.0.1:$PORT/readyz" >/dev/null; then return 0; fi
    sleep 0.2
  done
  echo "server did not become ready; see $WORK/server-batch$1.log" >&2
  exit 1
}

route_mean_ms() { # mean in-server latency of the search route so far, from /metrics
  fetch "http://127.0.0.1:$PORT/metrics" | python3 -c '
import sys
s = c = 0.0
for line in sys.stdin:
    if "route=\"/v1/collections/{name}/search\"" not in line: continue
    if line.startswith("http_request_duration_seconds_sum"): s = float(line.split()[-1])
    if line.startswith("http_request_duration_seconds_count"): c = float(line.split()[-1])
print(f"{1000*s/c:.3f} {int(c)}" if c else "nan 0")'
}

run_wrk() { # $1 = concurrency, $2 = label
  local c=$1 threads=$THREADS
  [ "$c" -lt "$threads" ] && threads=$c
  local before after out
  before=$(route_mean_ms)
  out=$(BODIES="$WORK/bodies.jsonl" SEARCH_PATH=/v1/collections/scifact/search \
    wrk -t"$threads" -c"$c" -d"${DURATION}s" --timeout 10s --latency \
    -s bench/serve_search.lua "http://127.0.0.1:$PORT")
  after=$(route_mean_ms)
  echo "$out" > "$WORK/wrk-$2-c$c.txt"
  local qps p50 p99 errors mean
  qps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  mean=$(echo "$out" | awk '/^mean_ms:/ {print $2}')
  errors=$(echo "$out" | awk '/^errors:/ {
    n = 0; for (i = 2; i <= NF; i++) { split($i, kv, "="); n += kv[2] } print n }')
  # In-server mean over this run only: (sum_after - sum_before) / (count_after - count_before).
  local server_ms
  server_ms=$(python3 -c "
b_mean, b_n = '$before'.split(); a_mean, a_n = '$after'.split()
b_n, a_n = int(b_n), int(a_n)
b_s = float(b_mean) * b_n if b_n else 0.0
print(f'{(float(a_mean) * a_n - b_s) / (a_n - b_n):.2f}' if a_n > b_n else 'nan')")
  printf "| %-22s | %3d | %8s | %8s | %8s | %7s ms | %7s ms | %6s |\n" \
    "$2" "$c" "$qps" "$p50" "$p99" "$mean" "$server_ms" "$errors"
  if [ "$errors" != "0" ]; then
    echo "errors in the $2 c=$c run: see $WORK/wrk-$2-c$c.txt" >&2
    exit 1
  fi
}

stage_means() { # mean latency per search stage so far, from /metrics
  fetch "http://127.0.0.1:$PORT/metrics" | python3 -c '
import sys, re
sums, counts = {}, {}
for line in sys.stdin:
    m = re.match(r"search_stage_duration_seconds_(sum|count)\{stage=\"(\w+)\"\} (\S+)", line)
    if m:
        (sums if m.group(1) == "sum" else counts)[m.group(2)] = float(m.group(3))
print("in-server stage means: " + ", ".join(
    f"{k} {1000 * sums[k] / counts[k]:.2f} ms" for k in ("encode", "vector", "bm25", "fusion") if counts.get(k)))'
}

echo "machine: $(nproc) cores, $(uname -srm); load average $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%FT%TZ); wrk $(wrk -v 2>&1 | head -1 | awk '{print $2}')"
echo "| run                    |   c |    req/s |      p50 |      p99 |   mean (client) | mean (in server) | errors |"
echo "|---|---|---|---|---|---|---|---|"
start_server 64
# Warm-up: first requests pay for lazy allocations.
DURATION=3 run_wrk 8 "warm-up" > /dev/null
for c in 1 8 32; do run_wrk "$c" "batching (max 64)"; done
stage_means
stop_server
# Batch-1 against batching at concurrency 32, alternated so that the machine's other load
# falls on both alike.
for round in 1 2; do
  start_server 1
  DURATION=3 run_wrk 8 "warm-up" > /dev/null
  run_wrk 32 "batch-1 (max 1), round $round"
  stop_server
  start_server 64
  DURATION=3 run_wrk 8 "warm-up" > /dev/null
  run_wrk 32 "batching, round $round"
  stop_server
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
