"""hnswlib under the protocol of `pairwise bench hnsw`, with the same JSON keys.

    hnswlib_bench.py --vectors base.npy --queries queries.npy --truth truth.npy \
        [--m 16] [--ef-construction 200] [--ef-search 10,20,...] [--k 10] \
        [--threads N] [--min-seconds 1.0] [--reuse-index FILE] [--json OUT]

Space 'cosine', the build on --threads threads (the number pairwise used), every query on one
thread (`set_num_threads(1)`, one `knn_query` call per query, as pairwise's loop does). The
exact neighbours are read from --truth when it exists, else computed with numpy and written.
Each timed pass repeats the query set until it has lasted --min-seconds. With --reuse-index the
index is loaded from FILE when it exists (no build time or memory is then reported), else
built and saved there.
"""

import argparse
import json
import os
import time
from importlib import metadata

import hnswlib
import numpy as np


def status_mib(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1]) / 1024.0
    return None


def exact(vectors, queries, k):
    def unit(x):
        return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-30)

    base = unit(vectors)
    q = unit(queries)
    out = np.empty((len(q), k), dtype=np.int32)
    for start in range(0, len(q), 100):
        scores = q[start : start + 100] @ base.T
        top = np.argpartition(-scores, k, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1)
        out[start : start + 100] = np.take_along_axis(top, order, axis=1)
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--vectors", required=True)
    p.add_argument("--queries", required=True)
    p.add_argument("--truth")
    p.add_argument("--m", type=int, default=16)
    p.add_argument("--ef-construction", type=int, default=200)
    p.add_argument("--ef-search", default="10,20,40,80,160,320")
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--min-seconds", type=float, default=1.0)
    p.add_argument("--reuse-index")
    p.add_argument("--json")
    args = p.parse_args()
    efs = [int(x) for x in args.ef_search.split(",")]

    vectors = np.ascontiguousarray(np.load(args.vectors), dtype=np.float32)
    queries = np.ascontiguousarray(np.load(args.queries), dtype=np.float32)
    n, dim = vectors.shape
    raw_mib = vectors.nbytes / 2**20
    rss_loaded = status_mib("VmRSS:")
    print(f"hnswlib: {n} vectors × {dim} ({raw_mib:.0f} MiB raw), building…", flush=True)

    index = hnswlib.Index(space="cosine", dim=dim)
    reused = args.reuse_index and os.path.exists(args.reuse_index)
    started = time.perf_counter()
    if reused:
        index.load_index(args.reuse_index, max_elements=n)
    else:
        index.init_index(max_elements=n, M=args.m, ef_construction=args.ef_construction,
                         random_seed=100)
        index.add_items(vectors, np.arange(n), num_threads=args.threads)
    seconds = time.perf_counter() - started
    build_seconds = None if reused else seconds
    if args.reuse_index and not reused:
        index.save_index(args.reuse_index)
    rss_built = status_mib("VmRSS:")
    peak_built = status_mib("VmHWM:")
    index_mib = None if reused else rss_built - rss_loaded
    print(f"hnswlib: {'opened' if reused else 'built'} in {seconds:.1f} s on {args.threads} "
          f"threads, index ≈ {'?' if reused else f'{index_mib:.0f}'} MiB", flush=True)

    if args.truth and os.path.exists(args.truth):
        truth = np.load(args.truth)[:, : args.k]
    else:
        truth = exact(vectors, queries, args.k)
        if args.truth:
            np.save(args.truth, truth)

    index.set_num_threads(1)
    # One untimed pass at the first ef warms caches and page tables, as pairwise's bench does.
    index.set_ef(efs[0])
    for q in queries:
        index.knn_query(q, k=args.k, num_threads=1)
    runs = []
    for ef in efs:
        index.set_ef(ef)
        found = []
        started = time.perf_counter()
        for q in queries:
            labels, _ = index.knn_query(q, k=args.k, num_threads=1)
            found.append(labels[0])
        queries_timed = len(queries)
        while time.perf_counter() - started < args.min_seconds:
            for q in queries:
                index.knn_query(q, k=args.k, num_threads=1)
            queries_timed += len(queries)
        seconds = time.perf_counter() - started
        hits = sum(len(set(f.tolist()) & set(t.tolist())) for f, t in zip(found, truth))
        recall = hits / (len(queries) * args.k)
        qps = queries_timed / seconds
        print(f"hnswlib: ef {ef:>4}  recall@{args.k} {recall:.4f}  {qps:.0f} QPS", flush=True)
        runs.append({"ef_search": ef, "recall": recall, "qps": qps, "seconds": seconds,
                     "queries_timed": queries_timed})

    result = {
        "bench": "hnsw",
        "engine": "hnswlib",
        "engine_detail": f"hnswlib {hnswlib.__version__ if hasattr(hnswlib, '__version__') else ''}"
                         " (pip wheel built from source), space 'cosine'",
        "vectors": args.vectors,
        "queries": args.queries,
        "n": n,
        "dim": dim,
        "n_queries": len(queries),
        "k": args.k,
        "m": args.m,
        "ef_construction": args.ef_construction,
        "build_threads": args.threads,
        "search_threads": 1,
        "build_seconds": build_seconds,
        "raw_vectors_mib": raw_mib,
        "rss_after_load_mib": rss_loaded,
        "rss_after_build_mib": rss_built,
        "index_mib": index_mib,
        "index_over_raw": None if index_mib is None else index_mib / raw_mib,
        "peak_rss_after_build_mib": peak_built,
        "peak_rss_mib": status_mib("VmHWM:"),
        "runs": runs,
    }
    if args.json:
        os.makedirs(os.path.dirname(args.json) or ".", exist_ok=True)
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
