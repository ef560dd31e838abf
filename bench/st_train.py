"""sentence-transformers side of `bench/train_speed.sh`: seconds per training step of
MultipleNegativesRankingLoss on SciFact (query, positive) pairs.

The loop is what `SentenceTransformer.fit` runs per step (tokenize, loss forward, backward,
clip, AdamW step, scheduler), without the Trainer's logging and data-loader overheads, so the
comparison favours sentence-transformers if anything.
"""

import argparse
import json
import time

import torch
from sentence_transformers import SentenceTransformer, losses


def pairs(data):
    corpus = {}
    with open(f"{data}/corpus.jsonl") as f:
        for line in f:
            d = json.loads(line)
            corpus[d["_id"]] = f"{d['title']} {d['text']}" if d.get("title") else d["text"]
    queries = {}
    with open(f"{data}/queries.jsonl") as f:
        for line in f:
            d = json.loads(line)
            queries[d["_id"]] = d["text"]
    out = []
    with open(f"{data}/qrels/train.tsv") as f:
        next(f)
        for line in f:
            q, d, s = line.rstrip("\n").split("\t")
            if int(s) > 0 and d in corpus:
                out.append((queries[q], corpus[d]))
    return out


def on_device(features, device):
    return {k: v.to(device) if torch.is_tensor(v) else v for k, v in features.items()}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--max-length", type=int, default=128)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--device", default="cpu")
    p.add_argument("--bf16", action="store_true", help="torch.autocast(bfloat16) around the forward pass")
    p.add_argument("--json")
    a = p.parse_args()
    torch.manual_seed(1)
    model = SentenceTransformer(a.model, device=a.device)
    cuda = a.device.startswith("cuda")
    model.max_seq_length = a.max_length
    model.train()
    loss_fn = losses.MultipleNegativesRankingLoss(model)
    opt = torch.optim.AdamW(model.parameters(), lr=2e-5, weight_decay=0.01)
    data = pairs(a.data)
    times = []
    for step in range(a.steps + 1):
        batch = [data[(step * a.batch_size + i) % len(data)] for i in range(a.batch_size)]
        if cuda:
            torch.cuda.synchronize()
        start = time.perf_counter()
        q = on_device(model.tokenize([x[0] for x in batch]), a.device)
        d = on_device(model.tokenize([x[1] for x in batch]), a.device)
        with torch.autocast(device_type="cuda" if cuda else "cpu", dtype=torch.bfloat16, enabled=a.bf16):
            loss = loss_fn([q, d], None)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if cuda:
            torch.cuda.synchronize()
        if step > 0:  # the first step warms up
            times.append(time.perf_counter() - start)
    result = {"engine": "sentence-transformers", "steps": len(times),
              "seconds_per_step": sum(times) / len(times), "batch_size": a.batch_size,
              "max_length": a.max_length, "threads": torch.get_num_threads(),
              "device": a.device, "bf16_autocast": a.bf16}
    print(f"sentence-transformers: {result['seconds_per_step']:.2f} s/step")
    if a.json:
        json.dump(result, open(a.json, "w"), indent=2)


if __name__ == "__main__":
    main()
