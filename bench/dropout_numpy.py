"""numpy reference for bench/dropout.bench.mjs (launched from Node; prints one JSON line).

usage: python3 dropout_numpy.py N P REPS WARMUP
Times idiomatic numpy inverted dropout with time.perf_counter, REPS timed runs after WARMUP.
"""
import json
import platform
import statistics
import sys
import time

try:
    import numpy as np
except ImportError as e:  # python3-numpy not installed: reported as skipped, not a failure
    print(json.dumps({"skipped": "numpy not importable: %s" % e}))
    sys.exit(0)

n, p, reps, warmup = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
scale = np.float32(1.0 / (1.0 - p))
rng = np.random.default_rng(12345)
x = rng.random(n, dtype=np.float32) + np.float32(0.5)  # same kind of input as the Node side: [0.5, 1.5)


def dropout(x):
    mask = rng.random(x.shape[0], dtype=np.float32) >= p
    out = np.where(mask, x * scale, np.float32(0))
    return out, mask


out, mask = dropout(x)
kept = float(mask.mean())
ok = out.dtype == np.float32 and mask.dtype == np.bool_ and abs(kept - (1 - p)) < 0.002 \
    and bool(np.all(out[~mask] == 0)) and bool(np.allclose(out[mask], x[mask] * scale))
for _ in range(warmup):
    dropout(x)
times = []
for _ in range(reps):
    t0 = time.perf_counter()
    out, mask = dropout(x)
    times.append((time.perf_counter() - t0) * 1e3)
    del out, mask
print(json.dumps({
    "numpy": np.__version__,
    "python": platform.python_version(),
    "code": "mask = rng.random(n, dtype=np.float32) >= p; out = np.where(mask, x * scale, np.float32(0))",
    "sane": bool(ok),
    "keptFraction": kept,
    "samplesMs": times,
    "medianMs": statistics.median(times),
    "minMs": min(times),
    "meanMs": statistics.fmean(times),
}))
