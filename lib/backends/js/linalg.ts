// Dense float64 linear algebra for the Gaussian distances (techniques.md section 3), in plain
// TypeScript: the reference the native kernels will be tested against. Row-major n x n arrays.
// Our own code, because the reference must be exact about what it computes (clamping, failure
// on non-SPD input) and have no dependencies; the algorithms are the textbook ones
// (Cholesky-Banachiewicz, Householder tridiagonalisation + implicit QL as in EISPACK's tred2/tql2,
// LU with partial pivoting).

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
