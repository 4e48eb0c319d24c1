"""numpy references for bench/*.bench.mjs (launched from Node by common.mjs; prints one JSON line).

usage: python3 numpy_ops.py OP N REPS WARMUP [OP ARGS...]
  dropout N REPS WARMUP P   mask = rng.random(n, dtype=np.float32) >= p; out = np.where(mask, x * scale, 0)
  uniform N REPS WARMUP     rng.random(n, dtype=np.float32)
  normal  N REPS WARMUP     rng.standard_normal(n, dtype=np.float32)
  sgemm   N REPS WARMUP     a @ b, a and b float32 [n, n] (GFLOP/s = 2 n^3 / t)
  attention N REPS WARMUP H D MASK DIR
                            q, k, v float32 [1, H, N, D] read from DIR/q.f32, k.f32, v.f32 (raw, C order);
                            s = q @ k^T * scale (+ bias: -1e9 where MASK hides a key), softmax over keys, @ v.
                            MASK: none | causal (key j visible to query i when j <= i) | noSelf (j != i).
                            Writes the first output to DIR/out-numpy.f32 for the Node side to check.
Checks the output once, then times the op with time.perf_counter: REPS timed runs after WARMUP.
The BLAS thread count is OpenBLAS's (OPENBLAS_NUM_THREADS, default: every core).
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


def sgemm(n):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)

    def check(c):
        ref = a[:4].astype(np.float64) @ b.astype(np.float64)
        err = float(np.abs(c[:4] - ref).max() / np.abs(ref).max())
        return c.dtype == np.float32 and c.shape == (n, n) and err < 1e-4, {"relErr": err, "flops": 2 * n ** 3}

    return "a @ b  # float32 [n, n]", lambda: a @ b, check


def attention(n, h, d, mask, folder):
    import os
    h, d = int(h), int(d)
    shape = (1, h, n, d)
    q, k, v = (np.fromfile(os.path.join(folder, name + ".f32"), dtype=np.float32).reshape(shape) for name in "qkv")
    scale = np.float32(1.0 / np.sqrt(d))
    i = np.arange(n)[:, None]
    j = np.arange(n)[None, :]
    hidden = {"none": None, "causal": j > i, "noSelf": j == i}[mask]
    bias = None if hidden is None else np.where(hidden, np.float32(-1e9), np.float32(0))  # [N, N], broadcast over heads

    def fn():
        s = q @ k.transpose(0, 1, 3, 2) * scale
        if bias is not None:
            s = s + bias
        p = np.exp(s - s.max(axis=-1, keepdims=True))
        p /= p.sum(axis=-1, keepdims=True)
        return p @ v

    def check(o):
        o.astype(np.float32).tofile(os.path.join(folder, "out-numpy.f32"))
        ok = o.dtype == np.float32 and o.shape == shape and bool(np.all(np.isfinite(o)))
        return ok, {"flops": 4 * h * n * n * d}

    code = ("s = q @ k.transpose(0, 1, 3, 2) * scale" + ("" if bias is None else " + bias") +
            "; p = np.exp(s - s.max(-1, keepdims=True)); p /= p.sum(-1, keepdims=True); o = p @ v")
    return code, fn, check


OPS = {"dropout": dropout, "uniform": uniform, "normal": normal, "sgemm": sgemm, "attention": attention}

def blas_info():
    try:  # numpy >= 1.25 has show_config(mode='dicts'); 1.24 has the distutils-era __config__ dicts
        cfg = np.__config__
        info = getattr(cfg, "blas_opt_info", None) or getattr(cfg, "blas_ilp64_opt_info", None) or {}
        with open("/proc/self/maps") as f:  # the BLAS actually loaded (Debian: an alternatives symlink)
            loaded = sorted({line.split()[-1] for line in f if "blas" in line.lower() and "/" in line})
        return {"libraries": info.get("libraries"), "loaded": loaded,
                "OPENBLAS_NUM_THREADS": __import__("os").environ.get("OPENBLAS_NUM_THREADS")}
    except Exception as e:  # informational only
        return {"error": str(e)}


blas = blas_info()
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
    "blas": blas,
    "python": platform.python_version(),
    "code": code,
    "sane": bool(ok),
    **extra,
    "samplesMs": times,
    "medianMs": statistics.median(times),
    "minMs": min(times),
    "meanMs": statistics.fmean(times),
}))
