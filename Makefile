# pairwise: two commands do everything on a fresh machine.
#   make demo   set-up + the main job (zero-shot SciFact evaluation of all-MiniLM-L6-v2)
#   make test   set-up + fmt + clippy + the whole test suite
# The set-up (scripts/setup.sh) is idempotent and quiet when everything is in place.

CARGO ?= cargo
BIN := target/release/pairwise
DEMO_OUT := target/demo

.PHONY: all setup demo test lint unit bench-encode clean-models

all: demo

setup:
	@scripts/setup.sh

demo: setup
	@mkdir -p $(DEMO_OUT)
	@echo "== zero-shot retrieval: all-MiniLM-L6-v2 on SciFact (test split) =="
	$(BIN) eval retrieval --split test --json $(DEMO_OUT)/scifact-zero-shot.json
	@echo "== STS-B test =="
	$(BIN) eval sts --json $(DEMO_OUT)/stsb-zero-shot.json
	@echo "results written to $(DEMO_OUT)/"

test: setup lint unit

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --release --workspace --all-targets --quiet -- -D warnings

unit:
	$(CARGO) test --release --workspace --quiet

# Benchmark (not a test): corpus encoding throughput, pairwise vs sentence-transformers.
bench-encode: setup
	bench/encode.sh
