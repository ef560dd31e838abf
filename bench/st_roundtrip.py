"""Checks that a model folder written by `pairwise train` loads in sentence-transformers and
gives the same embeddings as `pairwise embed` (minimum cosine printed as JSON; exit 1 below 0.9999).

    .venv/bin/python bench/st_roundtrip.py MODEL_DIR [PAIRWISE_BIN]
"""

import json
import subprocess
import sys
import tempfile

import numpy as np
from sentence_transformers import SentenceTransformer

model_dir = sys.argv[1]
binary = sys.argv[2] if len(sys.argv) > 2 else "target/release/pairwise"
texts = [
    "A man is eating food.",
    "Vitamin D deficiency is associated with bone fractures.",
    "0-dimensional biomaterials lack inductive properties.",
    "The girl is carrying a baby.",
]
with tempfile.TemporaryDirectory() as tmp:
    with open(f"{tmp}/in.txt", "w") as f:
        f.write("\n".join(texts) + "\n")
    subprocess.run([binary, "embed", "--model", model_dir, "--device", "cpu", "--input", f"{tmp}/in.txt",
                    "--output", f"{tmp}/out.npy"], check=True)
    ours = np.load(f"{tmp}/out.npy").astype(np.float64)
theirs = SentenceTransformer(model_dir, device="cpu").encode(texts).astype(np.float64)
cos = (ours * theirs).sum(1) / (np.linalg.norm(ours, axis=1) * np.linalg.norm(theirs, axis=1))
print(json.dumps({"model": model_dir, "min_cosine": float(cos.min())}))
sys.exit(0 if cos.min() > 0.9999 else 1)
