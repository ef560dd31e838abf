"""Vector sets for `bench/hnsw.sh`.

    hnsw_data.py sentences OUT_DIR    every sentence we have, de-duplicated, split into
                                      OUT_DIR/base.txt and OUT_DIR/queries.txt (1,000, seeded)
    hnsw_data.py synthetic OUT_DIR N [DIM]
                                      N + 1,000 gaussian-clustered DIM-d (default 384) float32
                                      vectors, OUT_DIR/base.npy and OUT_DIR/queries.npy (seeded)
"""

import csv
import json
import random
import sys
from pathlib import Path

DATA = Path("/work/shared/data")
N_QUERIES = 1000
SEED = 20240603


def one_line(text):
    return " ".join(text.split())


def sentences():
    found = []
    with open(DATA / "scifact/corpus.jsonl", encoding="utf-8") as f:
        for line in f:
            doc = json.loads(line)
            found.append(f"{doc.get('title', '')} {doc.get('text', '')}")
    with open(DATA / "scifact/queries.jsonl", encoding="utf-8") as f:
        for line in f:
            found.append(json.loads(line)["text"])
    for path in sorted((DATA / "stsb").glob("sts-*.csv")):
        with open(path, encoding="utf-8") as f:
            for line in f:
                fields = line.rstrip("\n").split("\t")
                if len(fields) >= 7:
                    found.extend(fields[5:7])
    with open(DATA / "sick/SICK.txt", encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            found.extend([row["sentence_A"], row["sentence_B"]])
    for name in ["s1.dev", "s2.dev", "s1.test", "s2.test"]:
        with open(DATA / "snli-devtest" / name, encoding="utf-8") as f:
            found.extend(f)
    unique = {}
    for text in found:
        text = one_line(text)
        if text:
            unique.setdefault(text, None)
    return list(unique)


def write_sentences(out):
    texts = sentences()
    random.Random(SEED).shuffle(texts)
    queries, base = texts[:N_QUERIES], texts[N_QUERIES:]
    (out / "queries.txt").write_text("\n".join(queries) + "\n", encoding="utf-8")
    (out / "base.txt").write_text("\n".join(base) + "\n", encoding="utf-8")
    print(f"{len(texts)} unique sentences: {len(base)} base, {len(queries)} queries")


def write_synthetic(out, n, dim=384, clusters=1000):
    import numpy as np

    rng = np.random.default_rng(SEED)
    centres = rng.standard_normal((clusters, dim), dtype=np.float32)
    total = n + N_QUERIES
    data = np.empty((total, dim), dtype=np.float32)
    step = 100_000
    for start in range(0, total, step):
        stop = min(total, start + step)
        labels = rng.integers(0, clusters, stop - start)
        noise = rng.standard_normal((stop - start, dim), dtype=np.float32)
        data[start:stop] = centres[labels] + noise
    np.save(out / "queries.npy", data[n:])
    np.save(out / "base.npy", data[:n])
    print(f"synthetic: {n} base, {N_QUERIES} queries, dim {dim}, {clusters} clusters")


def main():
    kind, out = sys.argv[1], Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    if kind == "sentences":
        write_sentences(out)
    elif kind == "synthetic":
        dim = int(sys.argv[4]) if len(sys.argv) > 4 else 384
        write_synthetic(out, int(sys.argv[3]), dim)
    else:
        sys.exit(f"unknown kind {kind!r}")


if __name__ == "__main__":
    main()
