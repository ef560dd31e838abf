"""Row-wise cosine between two embedding matrices (.npy): prints min / mean as JSON."""

import json
import sys

import numpy as np

a, b = (np.load(p).astype(np.float64) for p in sys.argv[1:3])
assert a.shape == b.shape, (a.shape, b.shape)
cos = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
print(json.dumps({"rows": int(a.shape[0]), "min_cosine": float(cos.min()), "mean_cosine": float(cos.mean())}))
