#!/usr/bin/env bash
# The last step of `make demo`: serve the demo collection on localhost, show a search with
# curl, then stop the server cleanly (SIGTERM: in-flight requests finish, collections are
# snapshotted). `make serve` (FOREGROUND=1) keeps it running until Ctrl-C instead.
#   scripts/serve_demo.sh BIN DATA_DIR
set -euo pipefail
BIN=${1:-target/release/pairwise}
DATA_DIR=${2:-target/demo}
ADDR=${ADDR:-127.0.0.1:8080}
QUERY='{"query": "Vitamin D deficiency is associated with bone fractures.", "mode": "hybrid", "k": 3}'
CURL="curl -s http://$ADDR/v1/collections/collection/search -H 'content-type: application/json' -d '$QUERY'"

if [ "${FOREGROUND:-0}" = 1 ]; then
  echo "serving $DATA_DIR on http://$ADDR (Ctrl-C stops); try:"
  echo "  $CURL"
  exec "$BIN" serve --data-dir "$DATA_DIR" --addr "$ADDR"
fi

PAIRWISE_LOG=${PAIRWISE_LOG:-info,hnsw_rs=warn} "$BIN" serve --data-dir "$DATA_DIR" --addr "$ADDR" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do
  curl -sf "http://$ADDR/readyz" >/dev/null && break
  kill -0 $pid 2>/dev/null || { echo "the server exited" >&2; exit 1; }
  sleep 0.2
done
echo "example:"
echo "  $CURL"
eval "$CURL" | python3 -m json.tool
kill -TERM $pid
wait $pid
trap - EXIT
echo "server stopped cleanly"
