#!/usr/bin/env bash
# Regenerates docs/report-screenshot.png: the before/after ROC report of `make demo` (zero-shot
# all-MiniLM-L6-v2 vs its short MW fine-tune on SciFact test), rendered by headless Chromium.
#
#   scripts/report_screenshot.sh [REPORT.html]
#
# Without an argument the report is rebuilt offline from the evaluation JSONs kept in
# docs/results/ (written by the demo's two `pairwise eval retrieval` steps), so the picture does
# not need a fresh demo run; pass target/demo/report.html to shoot the latest demo's report.
# Needs Chromium (Debian: apt-get install -y chromium) and target/release/pairwise (or
# $PAIRWISE_BIN).
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${PAIRWISE_BIN:-target/release/pairwise}"
out=docs/report-screenshot.png
html="${1:-}"
if [ -z "$html" ]; then
  html=target/report-screenshot/report.html
  "$bin" report \
    --json docs/results/demo-scifact-zero-shot.json --label "zero-shot" \
    --json docs/results/demo-scifact-mw.json --label "MW fine-tune (demo)" \
    --title "SciFact test: zero-shot vs MW fine-tune (pooled AUC)" --out "$html"
fi
chromium="$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)"
[ -n "$chromium" ] || { echo "Chromium not found: apt-get install -y chromium" >&2; exit 1; }
profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
"$chromium" --headless --no-sandbox --disable-gpu --disable-background-networking \
  --disable-component-update --disable-sync --no-first-run --hide-scrollbars \
  --user-data-dir="$profile" --window-size=1100,1400 --screenshot="$PWD/$out" \
  "file://$(realpath "$html")" 2>/dev/null
echo "wrote $out from $html"
