// Matrix square roots and Gaussian distances (techniques.md section 3): Cholesky, symmetric
// eigendecomposition, log-determinants, solves, sqrtm (eigh / Newton-Schulz / Denman-Beavers), KL,
// Bhattacharyya, Hellinger, W2 and the Frechet distance from mergeable feature statistics.
// This module runs the float64 reference (lib/backends/js/linalg.ts); the native and wasm kernels
// of issue 4 will plug in beneath the same functions.
import { KexueError } from '../errors.js';
import { Tensor, describe, dtypeOf, type FloatArray } from '../tensor.js';
import { cholesky as chol, eighSym, frobenius, logdetFromCholesky, luFactor, luSolve, matmul, solveLower } from '../backends/js/linalg.js';
import { backendOpt, options, type OpOptions } from './args.js';
import { runOp } from '../backends/dispatch.js';
import type { BackendChoice } from '../backends/types.js';

// ---- argument helpers ---------------------------------------------------------------------------

/** A float tensor (or typed array) as float64 data plus shape; NaN and Infinity are refused. */
function floatArg(v: unknown, what: string, op: string): { data: Float64Array; shape: number[] } {
  let t: Tensor;
  if (v instanceof Tensor) t = v;
  else if (v instanceof Float32Array || v instanceof Float64Array) t = new Tensor(v, [v.length]);
  else throw new KexueError('E_DTYPE', `${op}: ${what} must be a float32 or float64 Tensor; got ${describe(v)}`);
  if (t.dtype !== 'float32' && t.dtype !== 'float64') throw new KexueError('E_DTYPE', `${op}: ${what} must be float32 or float64; got ${t.dtype}`);
  const data = t.data instanceof Float64Array ? t.data : Float64Array.from(t.data);
  for (let i = 0; i < data.length; i++)
    if (!Number.isFinite(data[i])) throw new KexueError('E_RANGE', `${op}: ${what} has a non-finite entry (${data[i]}) at flat index ${i}`);
  return { data, shape: [...t.shape] };
}

/** A square matrix [n, n] (or a batch [count, n, n]). */
function squareArg(v: unknown, what: string, op: string, batched = false) {
  const { data, shape } = floatArg(v, what, op);
  const ok = shape.length === 2 || (batched && shape.length === 3);
  if (!ok || shape[shape.length - 1] !== shape[shape.length - 2])
    throw new KexueError('E_SHAPE', `${op}: ${what} must be square [n, n]${batched ? ' or [count, n, n]' : ''}; got [${shape.join(', ')}]`);
  const n = shape[shape.length - 1];
  return { data, shape, n, count: shape.length === 3 ? shape[0] : 1 };
}

/** Relative tolerance for symmetry checks: |A - A^T| <= SYM_TOL * max|A| (entrywise). */
export const SYM_TOL = 1e-10;

function checkSymmetric(a: Float64Array, n: number, count: number, what: string, op: string): void {
  for (let c = 0; c < count; c++) {
    const o = c * n * n;
    let mx = 0;
    for (let i = 0; i < n * n; i++) mx = Math.max(mx, Math.abs(a[o + i]));
    for (let i = 0; i < n; i++)
      for (let j = 0; j < i; j++) {
        const d = Math.abs(a[o + i * n + j] - a[o + j * n + i]);
        if (d > SYM_TOL * mx)
          throw new KexueError('E_RANGE', `${op}: ${what} must be symmetric (|A - A^T| <= ${SYM_TOL} max|A|); entry (${i}, ${j}) differs from (${j}, ${i}) by ${d.toExponential(3)}`);
      }
  }
}

function notSpd(op: string, what: string, at: number): KexueError {
  return new KexueError('E_NOT_SPD', `${op}: ${what} is not positive definite (Cholesky pivot ${at} is not positive)`);
}

function out<T extends FloatArray>(like: 'float32' | 'float64', data: Float64Array, shape: number[]): Tensor<T> {
  return new Tensor((like === 'float32' ? Float32Array.from(data) : data) as T, shape);
}

function dtypeOfArg(v: unknown): 'float32' | 'float64' {
  const d = v instanceof Tensor ? v.dtype : dtypeOf(v);
  return d === 'float32' ? 'float32' : 'float64';
}

// ---- building blocks ----------------------------------------------------------------------------

/** Lower Cholesky factor L with A = L L^T (A symmetric positive definite; E_NOT_SPD otherwise). */
export function cholesky<T extends FloatArray>(A: Tensor<T>): Tensor<T> {
  const op = 'cholesky';
  const { data, shape, n, count } = squareArg(A, 'A', op, true);
  checkSymmetric(data, n, count, 'A', op);
  const L = new Float64Array(data.length);
  for (let c = 0; c < count; c++) {
    const r = chol(data.subarray(c * n * n, (c + 1) * n * n), n);
    if (!r.L) throw notSpd(op, count > 1 ? `A[${c}]` : 'A', r.failedAt);
    L.set(r.L, c * n * n);
  }
  return out<T>(dtypeOfArg(A), L, shape);
}

/** log det A of a symmetric positive definite matrix, from its Cholesky factor (no overflow). */
export function logdet(A: Tensor): number {
  const op = 'logdet';
  const { data, n } = squareArg(A, 'A', op);
  checkSymmetric(data, n, 1, 'A', op);
  const r = chol(data, n);
  if (!r.L) throw notSpd(op, 'A', r.failedAt);
  return logdetFromCholesky(r.L, n);
}

/** X with A X = B (A [n, n] general, LU with partial pivoting; B [n] or [n, m]). */
export function solve<T extends FloatArray>(A: Tensor<T>, B: Tensor<T>): Tensor<T> {
  const op = 'solve';
  const { data, n } = squareArg(A, 'A', op);
  const b = floatArg(B, 'B', op);
  if (b.shape[0] !== n || b.shape.length > 2) throw new KexueError('E_SHAPE', `${op}: B must be [${n}] or [${n}, m]; got [${b.shape.join(', ')}]`);
  const m = b.shape.length === 2 ? b.shape[1] : 1;
  const lu = data.slice();
  const piv = luFactor(lu, n);
  if (!piv) throw new KexueError('E_RANGE', `${op}: A is singular`);
  return out<T>(dtypeOfArg(A), luSolve(lu, piv, b.data.slice(), n, m), b.shape);
}

export interface EighResult<T extends FloatArray> {
  /** Ascending. */
  values: Tensor<T>;
  /** Columns are the eigenvectors (A = V diag(values) V^T). */
  vectors?: Tensor<T>;
}

/** Eigenvalues (ascending) and, unless { vectors: false }, eigenvectors of a symmetric matrix. */
export function eigh<T extends FloatArray>(A: Tensor<T>, opts: { vectors?: boolean } = {}): EighResult<T> {
  const op = 'eigh';
  const o = options<{ vectors?: boolean }>(opts, op);
  const { data, n } = squareArg(A, 'A', op);
  checkSymmetric(data, n, 1, 'A', op);
  const r = eighSym(data, n, o.vectors !== false);
  if (!r) throw new KexueError('E_NO_CONVERGENCE', `${op}: the QL iteration did not converge`);
  const dt = dtypeOfArg(A);
  return { values: out<T>(dt, r.values, [n]), ...(r.vectors ? { vectors: out<T>(dt, r.vectors, [n, n]) } : {}) };
}

// ---- sqrtm ---------------------------------------------------------------------------------------

export type SqrtmMethod = 'auto' | 'eigh' | 'newtonSchulz' | 'denmanBeavers';

export interface SqrtmOptions {
  /** 'auto' (default): eigh for symmetric input, Denman-Beavers otherwise. */
  method?: SqrtmMethod;
  /** Return A^{-1/2} instead (eigh only for symmetric A; the iterations give it as a by-product). */
  inverse?: boolean;
  /** Stop the iterations when the relative residual is below this. Default 1e-13 (float64), 1e-6 (float32). */
  tol?: number;
  /** Iteration cap: past it the result is E_NO_CONVERGENCE, never a silent wrong answer. Default 100. */
  maxIterations?: number;
}

export interface SqrtmResult<T extends FloatArray> {
  sqrt: Tensor<T>;
  /** ||X X - A||_F / ||A||_F of the returned square root (for inverse: ||X A X - I||_F / sqrt(n)). */
  residual: number;
  iterations?: number;
}

function isSymmetric(a: Float64Array, n: number): boolean {
  let mx = 0;
  for (let i = 0; i < n * n; i++) mx = Math.max(mx, Math.abs(a[i]));
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) if (Math.abs(a[i * n + j] - a[j * n + i]) > SYM_TOL * mx) return false;
  return true;
}

function identity(n: number): Float64Array {
  const I = new Float64Array(n * n);
  for (let i = 0; i < n; i++) I[i * n + i] = 1;
  return I;
}

function residualOf(X: Float64Array, A: Float64Array, n: number, inverse: boolean): number {
  if (inverse) {
    const XAX = matmul(matmul(X, A, n, n, n), X, n, n, n);
    for (let i = 0; i < n; i++) XAX[i * n + i] -= 1;
    return frobenius(XAX) / Math.sqrt(n || 1);
  }
  const XX = matmul(X, X, n, n, n);
  for (let i = 0; i < n * n; i++) XX[i] -= A[i];
  return frobenius(XX) / (frobenius(A) || 1);
}

function sqrtmEigh(a: Float64Array, n: number, inverse: boolean, op: string): Float64Array {
  const r = eighSym(a, n, true);
  if (!r) throw new KexueError('E_NO_CONVERGENCE', `${op}: the QL iteration did not converge`);
  const { values, vectors: V } = r;
  const f = new Float64Array(n);
  const tiny = n * 2 ** -52 * Math.max(Math.abs(values[0] ?? 0), Math.abs(values[n - 1] ?? 0));
  for (let k = 0; k < n; k++) {
    if (values[k] < -tiny) throw new KexueError('E_NOT_SPD', `${op}: A has a negative eigenvalue (${values[k].toExponential(3)}); it is not positive semi-definite`);
    const lam = Math.max(values[k], 0); // clamp rounding negatives to 0
    if (inverse && !(lam > tiny)) throw new KexueError('E_NOT_SPD', `${op}: A is singular (eigenvalue ${values[k].toExponential(3)}); it has no inverse square root`);
    f[k] = inverse ? 1 / Math.sqrt(lam) : Math.sqrt(lam);
  }
  // X = V diag(f) V^T
  const X = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let k = 0; k < n; k++) {
      const vik = V![i * n + k] * f[k];
      if (vik === 0) continue;
      for (let j = 0; j < n; j++) X[i * n + j] += vik * V![j * n + k];
    }
  return X;
}

/** Coupled Newton-Schulz: Y0 = A / c, Z0 = I, T = (3I - Z Y) / 2, Y <- Y T, Z <- T Z. */
function sqrtmNewtonSchulz(a: Float64Array, n: number, inverse: boolean, tol: number, maxIt: number, op: string) {
  const c = frobenius(a);
  if (c === 0) return { X: new Float64Array(n * n), iterations: 0 };
  let Y: Float64Array = a.map((x) => x / c);
  let Z: Float64Array = identity(n);
  let best = Infinity;
  for (let it = 1; it <= maxIt; it++) {
    const T = matmul(Z, Y, n, n, n);
    for (let i = 0; i < n * n; i++) T[i] = -0.5 * T[i];
    for (let i = 0; i < n; i++) T[i * n + i] += 1.5;
    Y = matmul(Y, T, n, n, n);
    Z = matmul(T, Z, n, n, n);
    const X = inverse ? Z.map((z) => z / Math.sqrt(c)) : Y.map((y) => y * Math.sqrt(c));
    const res = residualOf(X, a, n, inverse);
    if (!Number.isFinite(res)) break;
    if (res < tol) return { X, iterations: it };
    if (it > 10 && res > 0.999 * best) break; // stagnated or diverging
    best = Math.min(best, res);
  }
  throw new KexueError('E_NO_CONVERGENCE', `${op}: Newton-Schulz did not reach the residual ${tol} in ${maxIt} iterations (it needs every eigenvalue of A / ||A||_F inside (0, 2); try method 'eigh' or 'denmanBeavers')`);
}

/** Denman-Beavers: Y0 = A, Z0 = I, Y <- (Y + Z^-1) / 2, Z <- (Z + Y^-1) / 2 (product form not needed for n here). */
function sqrtmDenmanBeavers(a: Float64Array, n: number, inverse: boolean, tol: number, maxIt: number, op: string) {
  let Y: Float64Array = a.slice();
  let Z: Float64Array = identity(n);
  const inv = (M: Float64Array) => {
    const lu = M.slice();
    const piv = luFactor(lu, n);
    if (!piv) throw new KexueError('E_NO_CONVERGENCE', `${op}: Denman-Beavers met a singular iterate (A may be singular or have an eigenvalue on the negative real axis)`);
    return luSolve(lu, piv, identity(n), n, n);
  };
  let best = Infinity;
  for (let it = 1; it <= maxIt; it++) {
    const Yi = inv(Y);
    const Zi = inv(Z);
    Y = Y.map((y, i) => 0.5 * (y + Zi[i]));
    Z = Z.map((z, i) => 0.5 * (z + Yi[i]));
    const X = inverse ? Z : Y;
    const res = residualOf(X, a, n, inverse);
    if (!Number.isFinite(res)) break;
    if (res < tol) return { X, iterations: it };
    if (it > 10 && res > 0.999 * best) break;
    best = Math.min(best, res);
  }
  throw new KexueError('E_NO_CONVERGENCE', `${op}: Denman-Beavers did not reach the residual ${tol} in ${maxIt} iterations (A may have an eigenvalue on the closed negative real axis)`);
}

/**
 * The principal square root of A (or A^{-1/2}): for symmetric positive semi-definite A by
 * eigendecomposition with tiny negative eigenvalues clamped to 0; otherwise by Newton-Schulz or
 * Denman-Beavers iterations that stop on the residual and report non-convergence as
 * E_NO_CONVERGENCE. Batched input [count, n, n] returns the largest residual.
 */
export function sqrtm<T extends FloatArray>(A: Tensor<T>, opts: SqrtmOptions = {}): SqrtmResult<T> {
  const op = 'sqrtm';
  const o = options<SqrtmOptions>(opts, op);
  const { data, shape, n, count } = squareArg(A, 'A', op, true);
  const dt = dtypeOfArg(A);
  const method = o.method ?? 'auto';
  if (!['auto', 'eigh', 'newtonSchulz', 'denmanBeavers'].includes(method))
    throw new KexueError('E_ARG', `${op}: method must be 'auto', 'eigh', 'newtonSchulz' or 'denmanBeavers'; got ${describe(method)}`);
  const tol = o.tol ?? (dt === 'float32' ? 1e-6 : 1e-13);
  if (typeof tol !== 'number' || !(tol > 0)) throw new KexueError('E_RANGE', `${op}: tol must be a positive number; got ${describe(tol)}`);
  const maxIt = o.maxIterations ?? 100;
  if (!Number.isInteger(maxIt) || maxIt < 1) throw new KexueError('E_RANGE', `${op}: maxIterations must be a positive integer; got ${describe(maxIt)}`);
  const inverse = o.inverse === true;
  const X = new Float64Array(data.length);
  let residual = 0;
  let iterations: number | undefined;
  for (let c = 0; c < count; c++) {
    const a = data.subarray(c * n * n, (c + 1) * n * n);
    let m = method;
    if (m === 'auto') m = isSymmetric(a, n) ? 'eigh' : 'denmanBeavers';
    let x: Float64Array;
    if (m === 'eigh') {
      checkSymmetric(a, n, 1, count > 1 ? `A[${c}]` : 'A', op);
      x = sqrtmEigh(a, n, inverse, op);
    } else {
      const r = m === 'newtonSchulz' ? sqrtmNewtonSchulz(a, n, inverse, tol, maxIt, op) : sqrtmDenmanBeavers(a, n, inverse, tol, maxIt, op);
      x = r.X;
      iterations = Math.max(iterations ?? 0, r.iterations);
    }
    X.set(x, c * n * n);
    residual = Math.max(residual, residualOf(x, a, n, inverse));
  }
  return { sqrt: out<T>(dt, X, shape), residual, ...(iterations !== undefined ? { iterations } : {}) };
}

// ---- Gaussian distances --------------------------------------------------------------------------

interface Gauss {
  mu: Float64Array;
  /** [n, n], or null when diagonal */
  S: Float64Array | null;
  /** the diagonal when diagonal */
  diag: Float64Array | null;
  n: number;
}

function gaussArgs(op: string, mu1: unknown, S1: unknown, mu2: unknown, S2: unknown): [Gauss, Gauss] {
  const one = (mu: unknown, S: unknown, k: number): Gauss => {
    const m = floatArg(mu, `mu${k}`, op);
    if (m.shape.length !== 1) throw new KexueError('E_SHAPE', `${op}: mu${k} must be a vector [n]; got [${m.shape.join(', ')}]`);
    const n = m.shape[0];
    const s = floatArg(S, `S${k}`, op);
    if (s.shape.length === 1) {
      if (s.shape[0] !== n) throw new KexueError('E_SHAPE', `${op}: diagonal S${k} must have ${n} entries; got ${s.shape[0]}`);
      for (let i = 0; i < n; i++) if (s.data[i] < 0) throw new KexueError('E_NOT_SPD', `${op}: diagonal S${k} has a negative entry at ${i}`);
      return { mu: m.data, S: null, diag: s.data, n };
    }
    if (s.shape.length !== 2 || s.shape[0] !== n || s.shape[1] !== n)
      throw new KexueError('E_SHAPE', `${op}: S${k} must be [${n}, ${n}] (or a diagonal [${n}]); got [${s.shape.join(', ')}]`);
    checkSymmetric(s.data, n, 1, `S${k}`, op);
    return { mu: m.data, S: s.data, diag: null, n };
  };
  const g1 = one(mu1, S1, 1);
  const g2 = one(mu2, S2, 2);
  if (g1.n !== g2.n) throw new KexueError('E_SHAPE', `${op}: the two Gaussians have dimensions ${g1.n} and ${g2.n}`);
  return [g1, g2];
}

function full(g: Gauss): Float64Array {
  if (g.S) return g.S;
  const S = new Float64Array(g.n * g.n);
  for (let i = 0; i < g.n; i++) S[i * g.n + i] = g.diag![i];
  return S;
}

function cholOrThrow(S: Float64Array, n: number, op: string, what: string): Float64Array {
  const r = chol(S, n);
  if (!r.L) throw notSpd(op, what, r.failedAt);
  return r.L;
}

function diff(a: Float64Array, b: Float64Array): Float64Array {
  return a.map((x, i) => x - b[i]);
}

/** KL(N1 || N2) = 1/2 [tr(S2^-1 S1) + d^T S2^-1 d - n + ln det S2 - ln det S1], d = mu2 - mu1. */
function klOf(g1: Gauss, g2: Gauss, op: string): number {
  const n = g1.n;
  const d = diff(g2.mu, g1.mu);
  if (g1.diag && g2.diag) {
    let s = 0;
    for (let i = 0; i < n; i++) {
      const a = g1.diag[i], b = g2.diag[i];
      if (!(a > 0) || !(b > 0)) throw new KexueError('E_NOT_SPD', `${op}: diagonal covariance entry ${i} is not positive`);
      s += a / b + (d[i] * d[i]) / b - 1 + Math.log(b) - Math.log(a);
    }
    return 0.5 * s;
  }
  const S1 = full(g1), S2 = full(g2);
  const L1 = cholOrThrow(S1, n, op, 'S1');
  const L2 = cholOrThrow(S2, n, op, 'S2');
  // tr(S2^-1 S1) = ||L2^-1 L1||_F^2; d^T S2^-1 d = ||L2^-1 d||^2
  const M = solveLower(L2, L1.slice(), n, n);
  const y = solveLower(L2, d.slice(), n, 1);
  return 0.5 * (frobenius(M) ** 2 + frobenius(y) ** 2 - n + logdetFromCholesky(L2, n) - logdetFromCholesky(L1, n));
}

function bhattacharyyaOf(g1: Gauss, g2: Gauss, op: string): number {
  const n = g1.n;
  const d = diff(g1.mu, g2.mu);
  if (g1.diag && g2.diag) {
    let s = 0;
    for (let i = 0; i < n; i++) {
      const a = g1.diag[i], b = g2.diag[i], m = (a + b) / 2;
      if (!(a > 0) || !(b > 0)) throw new KexueError('E_NOT_SPD', `${op}: diagonal covariance entry ${i} is not positive`);
      s += (d[i] * d[i]) / (8 * m) + 0.5 * (Math.log(m) - 0.5 * (Math.log(a) + Math.log(b)));
    }
    return s;
  }
  const S1 = full(g1), S2 = full(g2);
  const S = S1.map((x, i) => (x + S2[i]) / 2);
  const L = cholOrThrow(S, n, op, '(S1 + S2) / 2');
  const y = solveLower(L, d.slice(), n, 1);
  const ld1 = logdetFromCholesky(cholOrThrow(S1, n, op, 'S1'), n);
  const ld2 = logdetFromCholesky(cholOrThrow(S2, n, op, 'S2'), n);
  return frobenius(y) ** 2 / 8 + 0.5 * (logdetFromCholesky(L, n) - 0.5 * (ld1 + ld2));
}

/**
 * tr (S1^1/2 S2 S1^1/2)^1/2: the w2Trace kernel (Cholesky S1 = L L^T, eigenvalues of L^T S2 L) on
 * the chosen backend, or, when S1 is singular, the eigh route (S1^1/2 with clamped eigenvalues).
 */
function traceSqrtProduct(S1: Float64Array, S2: Float64Array, n: number, op: string, backend?: BackendChoice): number {
  const out = new Float64Array([0, -1]);
  try {
    runOp('w2Trace', backend, [n, S1, S2, out]);
    return out[0];
  } catch (e) {
    if (!(e instanceof KexueError && e.code === 'E_RANGE' && out[1] >= 0)) throw e;
  }
  const R = sqrtmEigh(S1, n, false, op);
  const M = matmul(matmul(R, S2, n, n, n), R, n, n, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) M[i * n + j] = M[j * n + i] = 0.5 * (M[i * n + j] + M[j * n + i]);
  const ev = eighSym(M, n, false);
  if (!ev) throw new KexueError('E_NO_CONVERGENCE', `${op}: the QL iteration did not converge`);
  let s = 0;
  for (const lam of ev.values) s += Math.sqrt(Math.max(lam, 0)); // clamp rounding negatives
  return s;
}

function w2Of(g1: Gauss, g2: Gauss, op: string, backend?: BackendChoice): number {
  const n = g1.n;
  let dd = 0;
  for (let i = 0; i < n; i++) dd += (g1.mu[i] - g2.mu[i]) ** 2;
  if (g1.diag && g2.diag) {
    let s = 0;
    for (let i = 0; i < n; i++) s += (Math.sqrt(g1.diag[i]) - Math.sqrt(g2.diag[i])) ** 2;
    return dd + s;
  }
  const S1 = full(g1), S2 = full(g2);
  let tr = 0;
  for (let i = 0; i < n; i++) tr += S1[i * n + i] + S2[i * n + i];
  return Math.max(0, dd + tr - 2 * traceSqrtProduct(S1, S2, n, op, backend));
}

type G = Tensor | Float32Array | Float64Array;

/** Distances between N(mu1, S1) and N(mu2, S2); covariances [n, n] or diagonal [n]. float64 throughout. */
export const gaussian = {
  /** KL(N1 || N2) (nats). S1 and S2 must be positive definite. */
  kl(mu1: G, S1: G, mu2: G, S2: G): number {
    const [a, b] = gaussArgs('gaussian.kl', mu1, S1, mu2, S2);
    return klOf(a, b, 'gaussian.kl');
  },
  /** Bhattacharyya distance. */
  bhattacharyya(mu1: G, S1: G, mu2: G, S2: G): number {
    const [a, b] = gaussArgs('gaussian.bhattacharyya', mu1, S1, mu2, S2);
    return bhattacharyyaOf(a, b, 'gaussian.bhattacharyya');
  },
  /** Squared Hellinger distance, 1 - exp(-Bhattacharyya). */
  hellinger(mu1: G, S1: G, mu2: G, S2: G): number {
    const [a, b] = gaussArgs('gaussian.hellinger', mu1, S1, mu2, S2);
    return -Math.expm1(-bhattacharyyaOf(a, b, 'gaussian.hellinger'));
  },
  /**
   * Squared 2-Wasserstein distance (or W2 itself with { root: true }): ||mu1 - mu2||^2 + tr S1 +
   * tr S2 - 2 tr (S1^1/2 S2 S1^1/2)^1/2, the trace from the eigenvalues of L^T S2 L (S1 = L L^T),
   * clamped so the result is never negative. S1 and S2 need only be positive semi-definite.
   */
  w2(mu1: G, S1: G, mu2: G, S2: G, opts: { root?: boolean } & OpOptions = {}): number {
    const o = options<{ root?: boolean } & OpOptions>(opts, 'gaussian.w2');
    const [a, b] = gaussArgs('gaussian.w2', mu1, S1, mu2, S2);
    const w = w2Of(a, b, 'gaussian.w2', backendOpt(o, 'gaussian.w2'));
    return o.root ? Math.sqrt(w) : w;
  },
};

// ---- feature statistics and FID ----------------------------------------------------------------

/**
 * Mean and co-moment of feature vectors, accumulated in float64 chunk by chunk and mergeable
 * exactly (Chan, Golub and LeVeque's parallel update), so statistics computed in chunks, in
 * worker threads or on other machines combine to the one-pass result.
 */
export class GaussianStats {
  readonly n: number;
  #count = 0;
  #mean: Float64Array;
  /** sum over samples of (x - mean)(x - mean)^T, [n, n] */
  #comoment: Float64Array;

  constructor(n: number) {
    if (!Number.isInteger(n) || n < 1) throw new KexueError('E_RANGE', `GaussianStats: n must be a positive integer; got ${describe(n)}`);
    this.n = n;
    this.#mean = new Float64Array(n);
    this.#comoment = new Float64Array(n * n);
  }

  get count(): number {
    return this.#count;
  }

  get mean(): Tensor<Float64Array> {
    return new Tensor(this.#mean.slice(), [this.n]);
  }

  /** The sample covariance (divisor count - 1). */
  get covariance(): Tensor<Float64Array> {
    if (this.#count < 2) throw new KexueError('E_RANGE', `GaussianStats: a covariance needs at least 2 samples; have ${this.#count}`);
    return new Tensor(this.#comoment.map((c) => c / (this.#count - 1)), [this.n, this.n]);
  }

  /** Adds the rows of features [m, n] (float32 or float64). */
  update(features: Tensor | Float32Array | Float64Array): this {
    const op = 'GaussianStats.update';
    const { data, shape } = floatArg(features, 'features', op);
    const rows = shape.length === 1 ? 1 : shape[0];
    if (shape.length > 2 || shape[shape.length - 1] !== this.n)
      throw new KexueError('E_SHAPE', `${op}: features must be [m, ${this.n}]; got [${shape.join(', ')}]`);
    if (rows === 0) return this;
    const n = this.n;
    const mean = new Float64Array(n);
    for (let r = 0; r < rows; r++) for (let j = 0; j < n; j++) mean[j] += data[r * n + j];
    for (let j = 0; j < n; j++) mean[j] /= rows;
    const C = new Float64Array(n * n);
    const x = new Float64Array(n);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < n; j++) x[j] = data[r * n + j] - mean[j];
      for (let i = 0; i < n; i++) {
        const xi = x[i];
        if (xi === 0) continue;
        for (let j = 0; j < n; j++) C[i * n + j] += xi * x[j];
      }
    }
    this.#combine(rows, mean, C);
    return this;
  }

  /** Adds another statistics object's samples (same n). */
  merge(other: GaussianStats): this {
    if (!(other instanceof GaussianStats)) throw new KexueError('E_ARG', `GaussianStats.merge: expected GaussianStats; got ${describe(other)}`);
    if (other.n !== this.n) throw new KexueError('E_SHAPE', `GaussianStats.merge: dimensions differ (${this.n} and ${other.n})`);
    if (other.#count > 0) this.#combine(other.#count, other.#mean, other.#comoment);
    return this;
  }

  #combine(nb: number, meanB: Float64Array, CB: Float64Array): void {
    const na = this.#count;
    const n = this.n;
    const tot = na + nb;
    const delta = meanB.map((m, j) => m - this.#mean[j]);
    const f = (na * nb) / tot;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) this.#comoment[i * n + j] += CB[i * n + j] + delta[i] * delta[j] * f;
    for (let j = 0; j < n; j++) this.#mean[j] += (delta[j] * nb) / tot;
    this.#count = tot;
  }

  toJSON(): { kexue: 'GaussianStats'; version: 1; n: number; count: number; mean: number[]; comoment: number[] } {
    return { kexue: 'GaussianStats', version: 1, n: this.n, count: this.#count, mean: [...this.#mean], comoment: [...this.#comoment] };
  }

  static fromJSON(j: unknown): GaussianStats {
    const o = j as { kexue?: unknown; n?: unknown; count?: unknown; mean?: unknown; comoment?: unknown };
    if (o === null || typeof o !== 'object' || o.kexue !== 'GaussianStats' || typeof o.n !== 'number')
      throw new KexueError('E_ARG', 'GaussianStats.fromJSON: not a kexue GaussianStats object');
    const s = new GaussianStats(o.n);
    if (!Number.isInteger(o.count) || (o.count as number) < 0 || !Array.isArray(o.mean) || o.mean.length !== s.n || !Array.isArray(o.comoment) || o.comoment.length !== s.n * s.n)
      throw new KexueError('E_ARG', 'GaussianStats.fromJSON: count, mean or comoment is malformed');
    s.#count = o.count as number;
    s.#mean = Float64Array.from(o.mean as number[]);
    s.#comoment = Float64Array.from(o.comoment as number[]);
    if (![...s.#mean, ...s.#comoment].every(Number.isFinite)) throw new KexueError('E_ARG', 'GaussianStats.fromJSON: non-finite values');
    return s;
  }
}

function statsOf(v: unknown, what: string): GaussianStats {
  if (v instanceof GaussianStats) return v;
  const { shape } = floatArg(v, what, 'frechetDistance');
  if (shape.length !== 2) throw new KexueError('E_SHAPE', `frechetDistance: ${what} must be features [m, n] or GaussianStats; got [${shape.join(', ')}]`);
  return new GaussianStats(shape[1]).update(v as Tensor);
}

/**
 * The Frechet distance (FID when the features come from Inception): W2^2 between Gaussians fitted
 * to two feature sets (mean and covariance with divisor m - 1). Never negative, NaN or complex,
 * also with fewer samples than dimensions (singular covariances take the eigh route).
 */
export function frechetDistance(a: Tensor | GaussianStats, b: Tensor | GaussianStats, opts: OpOptions = {}): number {
  const sa = statsOf(a, 'a');
  const sb = statsOf(b, 'b');
  if (sa.n !== sb.n) throw new KexueError('E_SHAPE', `frechetDistance: feature dimensions differ (${sa.n} and ${sb.n})`);
  return gaussian.w2(sa.mean, sa.covariance, sb.mean, sb.covariance, opts);
}
