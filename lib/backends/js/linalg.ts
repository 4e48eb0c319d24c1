// Dense float64 linear algebra for the Gaussian distances (techniques.md section 3), in plain
// TypeScript: the reference the native kernels will be tested against. Row-major n x n arrays.
// Our own code, because the reference must be exact about what it computes (clamping, failure
// on non-SPD input) and have no dependencies; the algorithms are the textbook ones
// (Cholesky-Banachiewicz, Householder tridiagonalisation + implicit QL as in EISPACK's tred2/tql2,
// LU with partial pivoting).

import type { FloatArray } from '../../tensor.js';

/** C = A B for A [n x k], B [k x m] (row-major). */
export function matmul(a: Float64Array, b: Float64Array, n: number, k: number, m: number): Float64Array {
  const c = new Float64Array(n * m);
  for (let i = 0; i < n; i++)
    for (let p = 0; p < k; p++) {
      const aip = a[i * k + p];
      if (aip === 0) continue;
      const bo = p * m;
      const co = i * m;
      for (let j = 0; j < m; j++) c[co + j] += aip * b[bo + j];
    }
  return c;
}

export function transpose(a: Float64Array, n: number, m: number): Float64Array {
  const t = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) t[j * n + i] = a[i * m + j];
  return t;
}

export function frobenius(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s);
}

/**
 * Lower Cholesky factor L (A = L L^T) of a symmetric matrix, reading its lower triangle.
 * Returns { L } or { failedAt } (the first pivot that is not positive: A is not positive definite).
 */
export function cholesky(a: Float64Array, n: number): { L: Float64Array; failedAt: -1 } | { L: null; failedAt: number } {
  const L = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j];
    for (let k = 0; k < j; k++) d -= L[j * n + k] * L[j * n + k];
    if (!(d > 0)) return { L: null, failedAt: j };
    const ljj = Math.sqrt(d);
    L[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j];
      for (let k = 0; k < j; k++) s -= L[i * n + k] * L[j * n + k];
      L[i * n + j] = s / ljj;
    }
  }
  return { L, failedAt: -1 };
}

/** Solves L X = B (L lower triangular [n x n], B [n x m]) in place in B. */
export function solveLower(L: Float64Array, b: Float64Array, n: number, m: number): Float64Array {
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < i; k++) {
      const l = L[i * n + k];
      if (l === 0) continue;
      for (let j = 0; j < m; j++) b[i * m + j] -= l * b[k * m + j];
    }
    const d = L[i * n + i];
    for (let j = 0; j < m; j++) b[i * m + j] /= d;
  }
  return b;
}

/** 2 sum log L_ii: log det A from its Cholesky factor (never from a determinant, which over- or underflows). */
export function logdetFromCholesky(L: Float64Array, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.log(L[i * n + i]);
  return 2 * s;
}

/**
 * LU with partial pivoting, in place: returns the pivot rows, or null when a pivot is exactly 0
 * (A singular).
 */
export function luFactor(a: Float64Array, n: number): Int32Array | null {
  const piv = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    let p = k;
    let best = Math.abs(a[k * n + k]);
    for (let i = k + 1; i < n; i++) {
      const v = Math.abs(a[i * n + k]);
      if (v > best) {
        best = v;
        p = i;
      }
    }
    piv[k] = p;
    if (best === 0) return null;
    if (p !== k)
      for (let j = 0; j < n; j++) {
        const t = a[k * n + j];
        a[k * n + j] = a[p * n + j];
        a[p * n + j] = t;
      }
    const d = a[k * n + k];
    for (let i = k + 1; i < n; i++) {
      const f = (a[i * n + k] /= d);
      if (f === 0) continue;
      for (let j = k + 1; j < n; j++) a[i * n + j] -= f * a[k * n + j];
    }
  }
  return piv;
}

/** Solves A X = B with A's LU factors (luFactor), B [n x m] in place. */
export function luSolve(lu: Float64Array, piv: Int32Array, b: Float64Array, n: number, m: number): Float64Array {
  for (let k = 0; k < n; k++)
    if (piv[k] !== k)
      for (let j = 0; j < m; j++) {
        const t = b[k * m + j];
        b[k * m + j] = b[piv[k] * m + j];
        b[piv[k] * m + j] = t;
      }
  for (let i = 0; i < n; i++)
    for (let k = 0; k < i; k++) {
      const l = lu[i * n + k];
      if (l !== 0) for (let j = 0; j < m; j++) b[i * m + j] -= l * b[k * m + j];
    }
  for (let i = n - 1; i >= 0; i--) {
    for (let k = i + 1; k < n; k++) {
      const u = lu[i * n + k];
      if (u !== 0) for (let j = 0; j < m; j++) b[i * m + j] -= u * b[k * m + j];
    }
    const d = lu[i * n + i];
    for (let j = 0; j < m; j++) b[i * m + j] /= d;
  }
  return b;
}

/**
 * Symmetric eigendecomposition (the lower triangle of A is read): eigenvalues ascending and, when
 * asked, the eigenvectors as the columns of V (A = V diag(values) V^T). Householder reduction to
 * tridiagonal form, then the implicit QL algorithm with Wilkinson-style shifts (EISPACK tred2 /
 * tql2). Returns null if QL fails to converge (never seen for finite input).
 */
export function eighSym(a: Float64Array, n: number, wantVectors: boolean): { values: Float64Array; vectors: Float64Array | null } | null {
  // V starts as A (symmetrised from the lower triangle), row-major V[i][j] = V[i * n + j].
  const V = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j <= i; j++) {
      V[i * n + j] = a[i * n + j];
      V[j * n + i] = a[i * n + j];
    }
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  if (n === 0) return { values: d, vectors: wantVectors ? V : null };
  // ---- tred2 ----
  for (let j = 0; j < n; j++) d[j] = V[(n - 1) * n + j];
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]);
    if (scale === 0) {
      e[i] = d[i - 1];
      for (let j = 0; j < i; j++) {
        d[j] = V[(i - 1) * n + j];
        V[i * n + j] = 0;
        V[j * n + i] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k] /= scale;
        h += d[k] * d[k];
      }
      let f = d[i - 1];
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        f = d[j];
        V[j * n + i] = f;
        g = e[j] + V[j * n + j] * f;
        for (let k = j + 1; k <= i - 1; k++) {
          g += V[k * n + j] * d[k];
          e[k] += V[k * n + j] * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] /= h;
        f += e[j] * d[j];
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] -= hh * d[j];
      for (let j = 0; j < i; j++) {
        f = d[j];
        g = e[j];
        for (let k = j; k <= i - 1; k++) V[k * n + j] -= f * e[k] + g * d[k];
        d[j] = V[(i - 1) * n + j];
        V[i * n + j] = 0;
      }
    }
    d[i] = h;
  }
  for (let i = 0; i < n - 1; i++) {
    V[(n - 1) * n + i] = V[i * n + i];
    V[i * n + i] = 1;
    const h = d[i + 1];
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = V[k * n + i + 1] / h;
      for (let j = 0; j <= i; j++) {
        let g = 0;
        for (let k = 0; k <= i; k++) g += V[k * n + i + 1] * V[k * n + j];
        for (let k = 0; k <= i; k++) V[k * n + j] -= g * d[k];
      }
    }
    for (let k = 0; k <= i; k++) V[k * n + i + 1] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = V[(n - 1) * n + j];
    V[(n - 1) * n + j] = 0;
  }
  V[(n - 1) * n + n - 1] = 1;
  e[0] = 0;
  // ---- tql2 ----
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n) {
      if (Math.abs(e[m]) <= eps * tst1) break;
      m++;
    }
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > 60) return null;
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        p = d[m];
        let c = 1, c2 = c, c3 = c;
        const el1 = e[l + 1];
        let s = 0, s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = Math.hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          if (wantVectors)
            for (let k = 0; k < n; k++) {
              h = V[k * n + i + 1];
              V[k * n + i + 1] = s * V[k * n + i] + c * h;
              V[k * n + i] = c * V[k * n + i] - s * h;
            }
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]) > eps * tst1);
    }
    d[l] += f;
    e[l] = 0;
  }
  // ascending order (selection sort keeps the vectors with their values)
  for (let i = 0; i < n - 1; i++) {
    let k = i;
    let p = d[i];
    for (let j = i + 1; j < n; j++)
      if (d[j] < p) {
        k = j;
        p = d[j];
      }
    if (k !== i) {
      d[k] = d[i];
      d[i] = p;
      if (wantVectors)
        for (let j = 0; j < n; j++) {
          const t = V[j * n + i];
          V[j * n + i] = V[j * n + k];
          V[j * n + k] = t;
        }
    }
  }
  return { values: d, vectors: wantVectors ? V : null };
}

/** The w2Trace kernel (see Kernels.w2Trace in lib/backends/types.ts). */
export function w2TraceReference(n: number, s1: Float64Array, s2: Float64Array, out: Float64Array): void {
  const r = cholesky(s1, n);
  out[1] = r.failedAt;
  if (!r.L) throw Object.assign(new Error(`S1 is not positive definite (pivot ${r.failedAt})`), { code: 'E_RANGE' });
  const L = r.L;
  const M = matmul(matmul(transpose(L, n, n), s2, n, n, n), L, n, n, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) M[i * n + j] = M[j * n + i] = 0.5 * (M[i * n + j] + M[j * n + i]);
  const e = eighSym(M, n, false);
  if (!e) throw Object.assign(new Error('the QL iteration did not converge'), { code: 'E_INTERNAL' });
  let t = 0;
  for (const lam of e.values) t += Math.sqrt(Math.max(lam, 0));
  out[0] = t;
}

// ---- the batched kernels of the Kernels interface (lib/backends/types.ts) ------------------------

function kernelError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

function identity(n: number): Float64Array {
  const I = new Float64Array(n * n);
  for (let i = 0; i < n; i++) I[i * n + i] = 1;
  return I;
}

/** The full symmetric matrix its lower triangle describes. */
function symmetricFromLower(a: Float64Array, n: number): Float64Array {
  const s = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j <= i; j++) s[i * n + j] = s[j * n + i] = a[i * n + j];
  return s;
}

/** The cholesky kernel (Kernels.cholesky). */
export function choleskyKernel(count: number, n: number, a: Float64Array, L: Float64Array, info: Float64Array): void {
  for (let c = 0; c < count; c++) {
    const r = cholesky(symmetricFromLower(a.subarray(c * n * n, (c + 1) * n * n), n), n);
    info[c] = r.failedAt;
    if (r.L) L.set(r.L, c * n * n);
    else L.fill(0, c * n * n, (c + 1) * n * n);
  }
}

/** The eigh kernel (Kernels.eigh). */
export function eighKernel(count: number, n: number, a: Float64Array, values: Float64Array, vectors: Float64Array | null): void {
  for (let c = 0; c < count; c++) {
    const r = eighSym(symmetricFromLower(a.subarray(c * n * n, (c + 1) * n * n), n), n, vectors !== null);
    if (!r) throw kernelError('E_INTERNAL', `the QL iteration did not converge (matrix ${c})`);
    values.set(r.values, c * n);
    if (vectors) vectors.set(r.vectors!, c * n * n);
  }
}

/** ||X X - A||_F / ||A||_F, or for inverse ||X A X - I||_F / sqrt(n). */
export function sqrtmResidual(X: Float64Array, A: Float64Array, n: number, inverse: boolean): number {
  if (inverse) {
    const XAX = matmul(matmul(X, A, n, n, n), X, n, n, n);
    for (let i = 0; i < n; i++) XAX[i * n + i] -= 1;
    return frobenius(XAX) / Math.sqrt(n || 1);
  }
  const XX = matmul(X, X, n, n, n);
  for (let i = 0; i < n * n; i++) XX[i] -= A[i];
  return frobenius(XX) / (frobenius(A) || 1);
}

const OK = 0, E_RANGE = 1, E_NOT_SPD = 7, E_NO_CONVERGENCE = 8;
type SqrtmOut = { status: number; X?: Float64Array; iterations: number };

function sqrtmEighRef(a: Float64Array, n: number, inverse: boolean): SqrtmOut {
  const r = eighSym(a, n, true);
  if (!r) throw kernelError('E_INTERNAL', 'the QL iteration did not converge');
  const { values, vectors: V } = r;
  const tiny = n * 2 ** -52 * Math.max(Math.abs(values[0] ?? 0), Math.abs(values[n - 1] ?? 0));
  const f = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    if (values[k] < -tiny) return { status: E_NOT_SPD, iterations: 0 };
    const lam = Math.max(values[k], 0); // rounding negatives clamp to 0
    if (inverse && !(lam > tiny)) return { status: E_NOT_SPD, iterations: 0 };
    f[k] = inverse ? 1 / Math.sqrt(lam) : Math.sqrt(lam);
  }
  // X = (V diag(f)) V^T, then (X + X^T) / 2: exactly symmetric, and exact where V is (diagonal A).
  const W = V!.map((v, i) => v * f[i % n]);
  const X = matmul(W, transpose(V!, n, n), n, n, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) X[i * n + j] = X[j * n + i] = 0.5 * (X[i * n + j] + X[j * n + i]);
  return { status: OK, X, iterations: 0 };
}

/**
 * The stopping rule of both iterations (as native/core/linalg.cc): stop at once below
 * stopTol = min(tol, max(10 n eps, 1e-14)); stop when the residual stalls (after 10 iterations,
 * no 0.1% gain), grows tenfold or at the cap, keeping the best iterate: the answer when its
 * residual is below tol, else no convergence.
 */
class Tracker {
  best = Infinity;
  bestIt = 0;
  X: Float64Array | undefined;
  readonly stopTol: number;
  constructor(readonly tol: number, n: number) {
    this.stopTol = Math.min(tol, Math.max(10 * n * 2 ** -52, 1e-14));
  }
  /** 1: stop with success, -1: stop with failure, 0: go on. */
  see(it: number, X: Float64Array, res: number, last: boolean): number {
    const prev = this.best;
    if (res < this.best) {
      this.best = res;
      this.bestIt = it;
      this.X = X.slice();
    }
    const stop = res < this.stopTol || last || (it > 10 && res > 0.999 * prev) || res > 10 * prev || !Number.isFinite(res);
    if (!stop) return 0;
    return this.best < this.tol ? 1 : -1;
  }
  result(r: number): SqrtmOut {
    return r > 0 ? { status: OK, X: this.X, iterations: this.bestIt } : { status: E_NO_CONVERGENCE, iterations: this.bestIt };
  }
}

/** Coupled Newton-Schulz on A / ||A||_F (the same steps and stopping rule as native/core/linalg.cc). */
function sqrtmNewtonSchulzRef(a: Float64Array, n: number, inverse: boolean, tol: number, maxIt: number): SqrtmOut {
  const c = frobenius(a);
  if (c === 0) return inverse ? { status: E_NOT_SPD, iterations: 0 } : { status: OK, X: new Float64Array(n * n), iterations: 0 };
  let Y: Float64Array = a.map((x) => x / c);
  let Z: Float64Array = identity(n);
  const sc = Math.sqrt(c);
  const tr = new Tracker(tol, n);
  let bestProxy = Infinity;
  for (let it = 1; it <= maxIt; it++) {
    const T = matmul(Z, Y, n, n, n);
    for (let i = 0; i < n * n; i++) T[i] *= -0.5;
    for (let i = 0; i < n; i++) T[i * n + i] += 0.5;
    const proxy = 2 * frobenius(T);
    for (let i = 0; i < n; i++) T[i * n + i] += 1;
    if (!Number.isFinite(proxy) || proxy > 1e6) break;
    const Yn = matmul(Y, T, n, n, n);
    Z = matmul(T, Z, n, n, n);
    Y = Yn;
    if (proxy < 1e-2) {
      const X = inverse ? Z.map((z) => z / sc) : Y.map((y) => y * sc);
      const r = tr.see(it, X, sqrtmResidual(X, a, n, inverse), it === maxIt);
      if (r !== 0) return tr.result(r);
    } else if (it > 10 && proxy > 0.999 * bestProxy) {
      break;
    }
    bestProxy = Math.min(bestProxy, proxy);
  }
  return { status: E_NO_CONVERGENCE, iterations: maxIt };
}

/** Denman-Beavers: Y0 = A, Z0 = I, Y <- (Y + Z^-1) / 2, Z <- (Z + Y^-1) / 2. */
function sqrtmDenmanBeaversRef(a: Float64Array, n: number, inverse: boolean, tol: number, maxIt: number): SqrtmOut {
  let Y: Float64Array = a.slice();
  let Z: Float64Array = identity(n);
  const inv = (M: Float64Array) => {
    const lu = M.slice();
    const piv = luFactor(lu, n);
    return piv ? luSolve(lu, piv, identity(n), n, n) : null;
  };
  const tr = new Tracker(tol, n);
  for (let it = 1; it <= maxIt; it++) {
    const Yi = inv(Y);
    const Zi = inv(Z);
    if (!Yi || !Zi) break;
    Y = Y.map((y, i) => 0.5 * (y + Zi[i]));
    Z = Z.map((z, i) => 0.5 * (z + Yi[i]));
    const X = inverse ? Z : Y;
    const r = tr.see(it, X, sqrtmResidual(X, a, n, inverse), it === maxIt);
    if (r !== 0) return tr.result(r);
  }
  return { status: E_NO_CONVERGENCE, iterations: maxIt };
}

/** The sqrtm kernel (Kernels.sqrtm). */
export function sqrtmKernel(count: number, n: number, a: FloatArray, x: FloatArray, params: Float64Array, info: Float64Array): void {
  const [method, inv, tol, maxIt] = params;
  const inverse = inv !== 0;
  for (let c = 0; c < count; c++) {
    const ac = Float64Array.from(a.subarray(c * n * n, (c + 1) * n * n));
    let r: SqrtmOut;
    if (!ac.every(Number.isFinite)) r = { status: E_RANGE, iterations: 0 };
    else if (method === 0) r = sqrtmEighRef(symmetricFromLower(ac, n), n, inverse);
    else if (method === 1) r = sqrtmNewtonSchulzRef(ac, n, inverse, tol, maxIt);
    else r = sqrtmDenmanBeaversRef(ac, n, inverse, tol, maxIt);
    info[3 * c] = r.status;
    info[3 * c + 1] = r.iterations;
    info[3 * c + 2] = 0;
    if (r.X) {
      x.set(r.X, c * n * n);
      info[3 * c + 2] = sqrtmResidual(r.X, method === 0 ? symmetricFromLower(ac, n) : ac, n, inverse);
    }
  }
}

/** The solve kernel (Kernels.solve). */
export function solveKernel(n: number, m: number, a: Float64Array, b: Float64Array, x: Float64Array, info: Float64Array): void {
  const lu = a.slice();
  const piv = luFactor(lu, n);
  info[0] = piv ? 0 : 1;
  if (piv) x.set(luSolve(lu, piv, b.slice(), n, m));
}

/** The featureStats kernel (Kernels.featureStats): the chunk's mean, then its co-moment, merged by Chan's update. */
export function featureStatsKernel(m: number, n: number, x: FloatArray, count: Float64Array, mean: Float64Array, comoment: Float64Array): void {
  if (m === 0) return;
  const mc = new Float64Array(n);
  for (let r = 0; r < m; r++) for (let j = 0; j < n; j++) mc[j] += x[r * n + j];
  for (let j = 0; j < n; j++) {
    if (!Number.isFinite(mc[j])) throw kernelError('E_RANGE', `the features have non-finite entries (column ${j})`);
    mc[j] /= m;
  }
  const d = new Float64Array(n);
  for (let r = 0; r < m; r++) {
    for (let j = 0; j < n; j++) d[j] = x[r * n + j] - mc[j];
    for (let i = 0; i < n; i++) {
      const di = d[i];
      if (di === 0) continue;
      for (let j = 0; j <= i; j++) comoment[i * n + j] += di * d[j];
    }
  }
  const na = count[0], tot = na + m, f = (na * m) / tot;
  const delta = mc.map((v, j) => v - mean[j]);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) comoment[i * n + j] += delta[i] * f * delta[j];
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) comoment[j * n + i] = comoment[i * n + j];
  for (let j = 0; j < n; j++) mean[j] += delta[j] * (m / tot);
  count[0] = tot;
}

/** The gemm kernel (Kernels.gemm): c = alpha op(a) op(b) + beta c, row-major with leading dimensions. */
export function gemmKernel(m: number, n: number, k: number, a: Float64Array, lda: number, transA: boolean, b: Float64Array, ldb: number, transB: boolean, c: Float64Array, ldc: number, alpha: number, beta: number): void {
  const row = new Float64Array(n);
  for (let i = 0; i < m; i++) {
    row.fill(0);
    for (let p = 0; p < k; p++) {
      const aip = transA ? a[p * lda + i] : a[i * lda + p];
      if (aip === 0) continue;
      if (transB) for (let j = 0; j < n; j++) row[j] += aip * b[j * ldb + p];
      else for (let j = 0; j < n; j++) row[j] += aip * b[p * ldb + j];
    }
    for (let j = 0; j < n; j++) c[i * ldc + j] = beta === 0 ? alpha * row[j] : beta * c[i * ldc + j] + alpha * row[j];
  }
}
