"""numpy / scipy references for bench/gaussian.bench.mjs (launched from Node; prints one JSON line).

usage: python3 gaussian_peers.py OP ROUTE DIR N TARGET_MS MAX_REPS
  OP w2     ROUTE cholesky | scipy-sqrtm
            reads DIR/mu1-N.npy, s1-N.npy, mu2-N.npy, s2-N.npy (float64, written by the Node side)
            cholesky:    L = cholesky(S1); ev = eigvalsh(L.T @ S2 @ L); tr = sum(sqrt(clip(ev, 0)))
            scipy-sqrtm: pytorch-fid's calculate_frechet_distance (scipy.linalg.sqrtm(S1.dot(S2)))
            the value: ||mu1 - mu2||^2 + tr S1 + tr S2 - 2 tr
  OP sqrtm  ROUTE scipy | eigh
            reads DIR/s1-N.npy; scipy: scipy.linalg.sqrtm(A, disp=False)[0] (real part);
            eigh: w, V = np.linalg.eigh(A); (V * sqrt(clip(w, 0))) @ V.T
            writes the first result to DIR/out-sqrtm-ROUTE-N.npy for the Node side to compare
  OP fid    ROUTE scipy-sqrtm | cholesky
            reads DIR/fid-a.npy and DIR/fid-b.npy (float32 features [rows, N]); per call:
            np.load, mu = np.mean(act, axis=0), sigma = np.cov(act, rowvar=False), then the w2 route
            (scipy-sqrtm: pytorch-fid's calculate_frechet_distance, the FID everybody reports)
  OP dgemm  ROUTE -  a @ b, float64 [N, N] (GFLOP/s = 2 N^3 / t): the machine's float64 ceiling
The first call is checked and timed; calls slower than TARGET_MS are its only sample, otherwise
up to 2 warm-ups and ceil(TARGET_MS / first) timed runs (at least 3, at most MAX_REPS), each
timed with time.perf_counter. The BLAS thread count is OpenBLAS's (OPENBLAS_NUM_THREADS).
"""
import json
import os
import platform
import statistics
import sys
import time

try:
    import numpy as np
except ImportError as e:  # python3-numpy not installed: reported as skipped, not a failure
    print(json.dumps({"skipped": "numpy not importable: %s" % e}))
    sys.exit(0)


def need_scipy():
    try:
        import scipy
        from scipy import linalg
        return scipy, linalg
    except ImportError as e:
        print(json.dumps({"skipped": "scipy not importable: %s" % e}))
        sys.exit(0)


# ---- the W2 trace term, both ways ----
def w2_cholesky(mu1, sigma1, mu2, sigma2):
    """The Cholesky route: S1 = L L^T, tr (S1^1/2 S2 S1^1/2)^1/2 = sum sqrt(eig(L^T S2 L))."""
    diff = mu1 - mu2
    L = np.linalg.cholesky(sigma1)
    ev = np.linalg.eigvalsh(L.T @ sigma2 @ L)
    tr = np.sqrt(np.clip(ev, 0, None)).sum()
    return float(diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * tr)


def calculate_frechet_distance(mu1, sigma1, mu2, sigma2, eps=1e-6):
    """pytorch-fid's (src/pytorch_fid/fid_score.py), verbatim apart from the warning print."""
    from scipy import linalg
    mu1 = np.atleast_1d(mu1)
    mu2 = np.atleast_1d(mu2)
    sigma1 = np.atleast_2d(sigma1)
    sigma2 = np.atleast_2d(sigma2)
    assert mu1.shape == mu2.shape, "Training and test mean vectors have different lengths"
    assert sigma1.shape == sigma2.shape, "Training and test covariances have different dimensions"
    diff = mu1 - mu2
    # Product might be almost singular
    covmean, _ = linalg.sqrtm(sigma1.dot(sigma2), disp=False)
    if not np.isfinite(covmean).all():
        offset = np.eye(sigma1.shape[0]) * eps
        covmean = linalg.sqrtm((sigma1 + offset).dot(sigma2 + offset))
    # Numerical error might give slight imaginary component
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            m = np.max(np.abs(covmean.imag))
            raise ValueError("Imaginary component {}".format(m))
        covmean = covmean.real
    tr_covmean = np.trace(covmean)
    return float(diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * tr_covmean)


W2 = {"cholesky": w2_cholesky, "scipy-sqrtm": calculate_frechet_distance}
W2_CODE = {
    "cholesky": "L = np.linalg.cholesky(S1); ev = np.linalg.eigvalsh(L.T @ S2 @ L); "
                "tr = np.sqrt(np.clip(ev, 0, None)).sum(); d.dot(d) + np.trace(S1) + np.trace(S2) - 2 * tr",
    "scipy-sqrtm": "pytorch-fid calculate_frechet_distance: covmean, _ = scipy.linalg.sqrtm(S1.dot(S2), disp=False); "
                   "covmean = covmean.real; d.dot(d) + np.trace(S1) + np.trace(S2) - 2 * np.trace(covmean)",
}


# Each op: (route, folder, n) -> (code, fn, check); check(result) -> (ok, extra fields for the JSON).
def w2(route, folder, n):
    if route == "scipy-sqrtm":
        need_scipy()
    load = lambda name: np.load(os.path.join(folder, "%s-%d.npy" % (name, n)))
    mu1, s1, mu2, s2 = load("mu1"), load("s1"), load("mu2"), load("s2")
    assert s1.shape == (n, n) and s1.dtype == np.float64
    f = W2[route]

    def check(v):
        return bool(np.isfinite(v)), {"value": v}

    return W2_CODE[route], lambda: f(mu1, s1, mu2, s2), check


def sqrtm(route, folder, n):
    a = np.load(os.path.join(folder, "s1-%d.npy" % n))
    if route == "scipy":
        _, linalg = need_scipy()

        def fn():
            x, _ = linalg.sqrtm(a, disp=False)
            return x.real if np.iscomplexobj(x) else x
        code = "x, _ = scipy.linalg.sqrtm(A, disp=False); x.real"
    else:
        def fn():
            w, v = np.linalg.eigh(a)
            return (v * np.sqrt(np.clip(w, 0, None))) @ v.T
        code = "w, V = np.linalg.eigh(A); (V * np.sqrt(np.clip(w, 0, None))) @ V.T"

    def check(x):
        np.save(os.path.join(folder, "out-sqrtm-%s-%d.npy" % (route, n)), np.ascontiguousarray(x, dtype=np.float64))
        res = float(np.linalg.norm(x @ x - a) / np.linalg.norm(a))
        return bool(np.all(np.isfinite(x))), {"residual": res}

    return code, fn, check


def fid(route, folder, n):
    if route == "scipy-sqrtm":
        need_scipy()
    f = W2[route]
    files = [os.path.join(folder, "fid-%s.npy" % k) for k in "ab"]

    def fn():
        stats = []
        for p in files:
            act = np.load(p)
            stats += [np.mean(act, axis=0), np.cov(act, rowvar=False)]
        return f(*stats)

    def check(v):
        return bool(np.isfinite(v)), {"value": v}

    code = ("act = np.load(path); mu = np.mean(act, axis=0); sigma = np.cov(act, rowvar=False) (per set); then " + W2_CODE[route])
    return code, fn, check


def dgemm(route, folder, n):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n))
    b = rng.standard_normal((n, n))

    def check(c):
        ref = a[:2] @ b
        return bool(np.allclose(c[:2], ref)), {"flops": 2 * n ** 3}

    return "a @ b  # float64 [n, n]", lambda: a @ b, check


OPS = {"w2": w2, "sqrtm": sqrtm, "fid": fid, "dgemm": dgemm}


def blas_info():
    try:
        with open("/proc/self/maps") as f:  # the BLAS actually loaded (Debian: an alternatives symlink)
            loaded = sorted({line.split()[-1] for line in f if "blas" in line.lower() and "/" in line})
        return {"loaded": loaded, "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS")}
    except Exception as e:  # informational only
        return {"error": str(e)}


def main():
    op, route, folder, n, target_ms, max_reps = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
    code, fn, check = OPS[op](route, folder, n)
    t0 = time.perf_counter()
    r = fn()
    first = (time.perf_counter() - t0) * 1e3
    ok, extra = check(r)
    del r
    times = []
    if first > target_ms:
        times = [first]  # slow: the checked call is the only sample
    else:
        for _ in range(0 if first > 1000 else 1 if first > 100 else 2):
            fn()
        reps = max(3, min(max_reps, -(-int(target_ms) // max(1, int(first)))))
        for _ in range(reps):
            t0 = time.perf_counter()
            r = fn()
            times.append((time.perf_counter() - t0) * 1e3)
            del r
    scipy_version = None
    try:
        import scipy
        scipy_version = scipy.__version__
    except ImportError:
        pass
    print(json.dumps({
        "numpy": np.__version__,
        "scipy": scipy_version,
        "blas": blas_info(),
        "python": platform.python_version(),
        "code": code,
        "sane": ok,
        **extra,
        "firstCallMs": first,
        "firstCallIsSample": first > target_ms,
        "samplesMs": times,
        "medianMs": statistics.median(times),
        "minMs": min(times),
    }))


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # e.g. pytorch-fid's "Imaginary component": reported, not a crash
        print(json.dumps({"error": "%s: %s" % (type(e).__name__, e)}))
