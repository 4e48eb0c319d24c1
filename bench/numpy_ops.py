"""numpy references for bench/*.bench.mjs (launched from Node by common.mjs; prints one JSON line).

usage: python3 numpy_ops.py OP N REPS WARMUP [OP ARGS...]
  dropout N REPS WARMUP P   mask = rng.random(n, dtype=np.float32) >= p; out = np.where(mask, x * scale, 0)
  uniform N REPS WARMUP     rng.random(n, dtype=np.float32)
  normal  N REPS WARMUP     rng.standard_normal(n, dtype=np.float32)
Checks the output once, then times the op with time.perf_counter: REPS timed runs after WARMUP.
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


# Each op: (n, *args) -> (code, fn, check); check(result) -> (ok, extra fields for the JSON).
def dropout(n, p):
    p = float(p)
    scale = np.float32(1.0 / (1.0 - p))
    rng = np.random.default_rng(12345)
    x = rng.random(n, dtype=np.float32) + np.float32(0.5)  # same kind of input as the Node side: [0.5, 1.5)

    def fn():
        mask = rng.random(x.shape[0], dtype=np.float32) >= p
        out = np.where(mask, x * scale, np.float32(0))
        return out, mask

    def check(r):
        out, mask = r
        kept = float(mask.mean())
        ok = out.dtype == np.float32 and mask.dtype == np.bool_ and abs(kept - (1 - p)) < 0.002 \
            and bool(np.all(out[~mask] == 0)) and bool(np.allclose(out[mask], x[mask] * scale))
        return ok, {"keptFraction": kept}

    code = "mask = rng.random(n, dtype=np.float32) >= p; out = np.where(mask, x * scale, np.float32(0))"
    return code, fn, check


def moments(a):
    a64 = a.astype(np.float64)
    return {"mean": float(a64.mean()), "var": float(a64.var()), "min": float(a.min()), "max": float(a.max())}


# tolerances as in sampling.bench.mjs: tens of standard errors at n = 16M
def uniform(n):
    rng = np.random.default_rng(0)

    def check(a):
        m = moments(a)
        ok = a.dtype == np.float32 and a.shape == (n,) and m["min"] >= 0 and m["max"] < 1 \
            and abs(m["mean"] - 0.5) < 0.002 and abs(m["var"] - 1 / 12) < 0.002
        return ok, m

    return "rng.random(n, dtype=np.float32)", lambda: rng.random(n, dtype=np.float32), check


def normal(n):
    rng = np.random.default_rng(0)

    def check(a):
        m = moments(a)
        ok = a.dtype == np.float32 and a.shape == (n,) and bool(np.all(np.isfinite(a))) \
            and abs(m["mean"]) < 0.005 and abs(m["var"] - 1) < 0.01
        return ok, m

    return "rng.standard_normal(n, dtype=np.float32)", lambda: rng.standard_normal(n, dtype=np.float32), check


OPS = {"dropout": dropout, "uniform": uniform, "normal": normal}

op, n, reps, warmup = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
code, fn, check = OPS[op](n, *sys.argv[5:])
ok, extra = check(fn())
for _ in range(warmup):
    fn()
times = []
for _ in range(reps):
    t0 = time.perf_counter()
    r = fn()
    times.append((time.perf_counter() - t0) * 1e3)
    del r
print(json.dumps({
    "numpy": np.__version__,
    "python": platform.python_version(),
    "code": code,
    "sane": bool(ok),
    **extra,
    "samplesMs": times,
    "medianMs": statistics.median(times),
    "minMs": min(times),
    "meanMs": statistics.fmean(times),
}))
