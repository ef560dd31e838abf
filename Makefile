# pairwise: two commands do everything on a fresh machine.
#   make demo   set-up + the main job: zero-shot SciFact evaluation, a short MW fine-tune,
#               its evaluation, a hybrid collection from it and a search, and the before/after
#               ROC report (target/demo/report.html)
#   make test   set-up + fmt + clippy + the whole test suite
# The set-up (scripts/setup.sh) is idempotent and quiet when everything is in place.

CARGO ?= cargo
BIN := target/release/pairwise
DEMO_OUT := target/demo

.PHONY: all setup demo test lint unit bench-encode bench-train

all: demo

setup:
	@scripts/setup.sh

demo: setup
	@mkdir -p $(DEMO_OUT)
	@echo "== 1. zero-shot retrieval: all-MiniLM-L6-v2 on SciFact (test split) =="
	$(BIN) eval retrieval --split test --json $(DEMO_OUT)/scifact-zero-shot.json
	@echo "== 2. STS-B test =="
	$(BIN) eval sts --json $(DEMO_OUT)/stsb-zero-shot.json
	@echo "== 3. a short MW (AUC loss) fine-tune on the SciFact train queries =="
	$(BIN) train --config configs/demo-scifact-mw.toml --output $(DEMO_OUT)/mw
	@echo "== 4. the fine-tuned model on SciFact test =="
	$(BIN) eval retrieval --model $(DEMO_OUT)/mw/model --split test --json $(DEMO_OUT)/scifact-mw.json
	@echo "== 5. a hybrid (HNSW + BM25) collection from the fine-tuned model =="
	rm -rf $(DEMO_OUT)/collection
	$(BIN) index build --model $(DEMO_OUT)/mw/model --out $(DEMO_OUT)/collection
	$(BIN) search --collection $(DEMO_OUT)/collection --mode hybrid --k 3 \
	  --query "Vitamin D deficiency is associated with bone fractures."
	@echo "== 6. before/after report: both models' pooled-AUC ROC curves on one plot =="
	$(BIN) report --title "SciFact test: zero-shot vs MW fine-tune (pooled AUC)" \
	  --json $(DEMO_OUT)/scifact-zero-shot.json --label "zero-shot" \
	  --json $(DEMO_OUT)/scifact-mw.json --label "MW fine-tune" --out $(DEMO_OUT)/report.html
	@echo "results written to $(DEMO_OUT)/ (open $(DEMO_OUT)/report.html)"

test: setup lint unit

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --release --workspace --all-targets --quiet -- -D warnings

unit:
	$(CARGO) test --release --workspace --quiet

# Benchmark (not a test): corpus encoding throughput, pairwise vs sentence-transformers.
bench-encode: setup
	bench/encode.sh

bench-train: setup
	bench/train_speed.sh
