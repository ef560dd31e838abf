"""sentence-transformers side of `bench/encode.sh`: encode a BEIR corpus, report docs/s and peak RSS.

Mirrors `pairwise bench encode`: same documents (title + " " + text), same max length, same
batch size, a warm-up on the first documents, then one timed pass over the whole corpus.
"""

import argparse
import json
import resource
import time

import numpy as np
import torch
from sentence_transformers import SentenceTransformer


def beir_texts(corpus_path, limit=None):
    texts = []
    with open(corpus_path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            doc = json.loads(line)
            title = (doc.get("title") or "").strip()
            texts.append(f"{title} {doc['text']}" if title else doc["text"])
            if limit and len(texts) >= limit:
                break
    return texts


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--data", required=True, help="BEIR folder")
    p.add_argument("--max-length", type=int, default=256)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--device", default="cpu")
    p.add_argument("--dtype", default="f32", choices=["f32", "bf16"])
    p.add_argument("--limit", type=int)
    p.add_argument("--warmup", type=int, default=64)
    p.add_argument("--json")
    p.add_argument("--save-npy", help="write the embeddings here (float32 [n, dim])")
    a = p.parse_args()

    texts = beir_texts(f"{a.data}/corpus.jsonl", a.limit)
    model = SentenceTransformer(a.model, device=a.device)
    model.max_seq_length = a.max_length
    if a.dtype == "bf16":
        model = model.to(torch.bfloat16)
    model.encode(texts[: a.warmup], batch_size=a.batch_size)
    if a.device.startswith("cuda"):
        torch.cuda.synchronize()
    start = time.perf_counter()
    emb = model.encode(texts, batch_size=a.batch_size, convert_to_numpy=True)
    if a.device.startswith("cuda"):
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    result = {
        "bench": "encode",
        "engine": "sentence-transformers",
        "engine_version": __import__("sentence_transformers").__version__,
        "torch_version": torch.__version__,
        "n_docs": len(texts),
        "dim": int(emb.shape[1]),
        "seconds": seconds,
        "docs_per_second": len(texts) / seconds,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "threads": torch.get_num_threads(),
        "max_length": a.max_length,
        "batch_size": a.batch_size,
        "device": a.device,
        "dtype": a.dtype,
    }
    print(f"sentence-transformers: {len(texts)} docs in {seconds:.1f} s = "
          f"{result['docs_per_second']:.1f} docs/s, peak RSS {result['peak_rss_mib']:.0f} MiB")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(result, f, indent=2)
    if a.save_npy:
        np.save(a.save_npy, emb.astype(np.float32))


if __name__ == "__main__":
    main()
