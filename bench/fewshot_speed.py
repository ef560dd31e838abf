"""Training speed of episodic ProtoNet on Omniglot: `pairwise train` against an equivalent
PyTorch loop, interleaved in one run on the same machine.

    fewshot_speed.py [--pairwise target/release/pairwise] [--config configs/omniglot-protonet.toml]
                     [--steps 15] [--rounds 2] [--device cpu|cuda]
                     [--json docs/results/fewshot-speed-cpu.json]

Both sides: Conv-4 (64 filters, BN, ReLU, max-pool) on 28x28 images, the config's N-way K-shot
Q-query episodes from the background alphabets with rotations, ProtoNet cross-entropy over
negative squared distances, AdamW (lr 1e-3, no weight decay, eps 1e-8), the same number of
intra-op threads. Only the training loop is timed (episode sampling, batch assembly, forward,
backward, optimiser step); loading and resizing the images is not, on either side. pairwise's
figure is the `steps_per_second` it records in pairwise_training.json. On CUDA both sides keep
the images in host memory and copy each episode's batch to the GPU, as pairwise does; the
PyTorch loop synchronises before reading the clock.
"""

import argparse
import json
import random
import statistics
import subprocess
import tempfile
import time
import tomllib
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def conv4(filters=64):
    layers, channels = [], 1
    for _ in range(4):
        layers += [nn.Conv2d(channels, filters, 3, padding=1), nn.BatchNorm2d(filters), nn.ReLU(),
                   nn.MaxPool2d(2)]
        channels = filters
    return nn.Sequential(*layers, nn.Flatten())


def load_background(path, side, rotations):
    images = np.load(Path(path) / "images_background.npz")["images"]  # (C, 20, 105, 105), True = paper
    x = torch.from_numpy((~images).astype(np.float32)).view(-1, 1, 105, 105)
    x = F.interpolate(x, size=(side, side), mode="area").view(images.shape[0], 20, side, side)
    if rotations:
        x = torch.stack([torch.rot90(x, r, dims=(2, 3)) for r in range(4)], 1).reshape(-1, 20, side, side)
    return x.contiguous()


def torch_loop(data, ways, shots, queries, steps, seed, device):
    torch.manual_seed(seed)
    rng = random.Random(seed)
    model = conv4().to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.0, eps=1e-8)
    labels = torch.arange(ways).repeat_interleave(queries).to(device)
    model.train()
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        classes = rng.sample(range(data.shape[0]), ways)
        picks = [rng.sample(range(data.shape[1]), shots + queries) for _ in classes]
        support = torch.stack([data[c, p[:shots]] for c, p in zip(classes, picks)]).view(-1, 1, *data.shape[2:])
        query = torch.stack([data[c, p[shots:]] for c, p in zip(classes, picks)]).view(-1, 1, *data.shape[2:])
        emb = model(torch.cat([support, query]).to(device, non_blocking=True))
        protos = emb[: ways * shots].view(ways, shots, -1).mean(1)
        q = emb[ways * shots:]
        logits = -((q[:, None, :] - protos[None]) ** 2).sum(-1)
        loss = F.cross_entropy(logits, labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return steps / (time.perf_counter() - start)


def pairwise_run(binary, config, steps, out, device):
    subprocess.run([binary, "train", "--config", config, "--max-steps", str(steps), "--output", out,
                    "--device", device], check=True, stderr=subprocess.DEVNULL)
    record = json.loads((Path(out) / "pairwise_training.json").read_text())
    summary = record["summary"]
    # The share of the loop spent waiting for the device: near 0 means pairwise's host side is
    # the bottleneck, near 1 the device.
    wait = summary.get("device_wait_seconds", float("nan")) / summary["seconds"]
    return summary["steps_per_second"], wait, record["threads"], record["commit"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairwise", default="target/release/pairwise")
    ap.add_argument("--config", default="configs/omniglot-protonet.toml")
    ap.add_argument("--steps", type=int, default=15)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--json")
    args = ap.parse_args()
    config = tomllib.loads(Path(args.config).read_text())
    method, data_cfg = config["method"], config["data"]
    ways, shots, queries = method["ways"], method["shots"], method["queries"]
    data = load_background(data_cfg["path"], data_cfg.get("image_size", 28), data_cfg.get("rotations", False))
    ours, theirs, waits, threads, commit = [], [], [], None, None
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            rate, wait, threads, commit = pairwise_run(args.pairwise, args.config, args.steps, f"{tmp}/run{r}",
                                                       args.device)
            ours.append(rate)
            waits.append(wait)
            torch.set_num_threads(threads)
            theirs.append(torch_loop(data, ways, shots, queries, args.steps, r, torch.device(args.device)))
            print(f"round {r}: pairwise {ours[-1]:.3f} episodes/s, pytorch {theirs[-1]:.3f} episodes/s", flush=True)
    result = {
        "pairwise_episodes_per_second": statistics.median(ours),
        "pytorch_episodes_per_second": statistics.median(theirs),
        "ratio": statistics.median(ours) / statistics.median(theirs),
        "rounds": {"pairwise": ours, "pytorch": theirs},
        "pairwise_device_wait_share": waits,
        "episode": {"ways": ways, "shots": shots, "queries": queries},
        "steps_per_round": args.steps,
        "threads": threads,
        "torch": torch.__version__,
        "device": args.device,
        "gpu": torch.cuda.get_device_name(0) if args.device == "cuda" else None,
        "config": args.config,
        "commit": commit,
    }
    print(json.dumps(result, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
