#!/usr/bin/env bash
# pairwise's dot product per instruction set: the baseline x86-64 build (what cargo builds, SSE2)
# against -C target-cpu=native (AVX-512 on the dev machine), dims 96 and 384, rows drawn at random
# from 200k vectors and one cached pair. Alternates the two builds over ROUNDS rounds.
#   bench/dot_simd.sh [ROUNDS] -> docs/results/bench-dot-simd.jsonl
set -euo pipefail
cd "$(dirname "$0")/dot_simd"
rounds=${1:-3}
T=${CARGO_TARGET_DIR:-target}
CARGO_TARGET_DIR=$T/dot-base cargo build -q --release
RUSTFLAGS="-C target-cpu=native" CARGO_TARGET_DIR=$T/dot-native cargo build -q --release
out=../../docs/results/bench-dot-simd.jsonl
: > "$out"
for round in $(seq "$rounds"); do
  for build in base native; do
    for dim in 96 384; do
      "$T/dot-$build/release/dot-simd" "$dim" 200000 5000000 |
        sed "s/^{/{\"build\": \"$build\", \"round\": $round, /" | tee -a "$out"
    done
  done
done
