// Matrix square roots and Gaussian distances (techniques.md section 3): Cholesky, symmetric
// eigendecomposition, log-determinants, solves, sqrtm (eigh / Newton-Schulz / Denman-Beavers), KL,
// Bhattacharyya, Hellinger, W2 and the Frechet distance from mergeable feature statistics.
// Every op checks its arguments here, then runs the kernels of lib/backends/types.ts (cholesky,
// eigh, sqrtm, solve, gemm, w2Trace, featureStats) on the chosen backend. An op that needs several
// kernels is written once as a plan (a generator yielding kernel calls), which runs synchronously
// or, for the ...Async forms, with every kernel off the event loop.
// float32 inputs are computed in float64 and the results rounded to float32.
import { KexueError } from '../errors.js';
import { Tensor, describe, dtypeOf, type FloatArray } from '../tensor.js';
import { backendOpt, options, type OpOptions } from './args.js';
import { runOp, runOpAsync } from '../backends/dispatch.js';
import { SQRTM_METHODS, type BackendChoice, type Kernels, type OpName } from '../backends/types.js';

// ---- plans: one description, run synchronously or asynchronously --------------------------------

type Step = { [K in OpName]: readonly [K, Parameters<Kernels[K]>] }[OpName];
type Plan<R> = Generator<Step, R, void>;

function step<K extends OpName>(op: K, args: Parameters<Kernels[K]>): Step {
  return [op, args] as unknown as Step;
}

function runPlan<R>(plan: Plan<R>, backend: BackendChoice | undefined): R {
  let r = plan.next();
  while (!r.done) {
    const [op, args] = r.value;
    let failed = false;
    let err: unknown;
    try {
      runOp(op, backend, args as never);
    } catch (e) {
      failed = true;
      err = e;
    }
    r = failed ? plan.throw(err) : plan.next();
  }
  return r.value;
}

async function runPlanAsync<R>(plan: Plan<R>, backend: BackendChoice | undefined): Promise<R> {
  let r = plan.next();
  while (!r.done) {
    const [op, args] = r.value;
    let failed = false;
    let err: unknown;
    try {
      await runOpAsync(op, backend, args as never);
    } catch (e) {
      failed = true;
      err = e;
    }
    r = failed ? plan.throw(err) : plan.next();
  }
  return r.value;
}

/** The sync and async forms of an op whose last argument is its options (with `backend`). */
function planned<A extends unknown[], R>(name: string, plan: (...a: A) => Plan<R>, backendOf: (...a: A) => unknown) {
  const sync = (...a: A): R => runPlan(plan(...a), backendOpt(options<OpOptions>(backendOf(...a), name), name));
  const async = async (...a: A): Promise<R> => runPlanAsync(plan(...a), backendOpt(options<OpOptions>(backendOf(...a), name), name));
  return [sync, async] as const;
}

// ---- argument helpers ---------------------------------------------------------------------------

interface FloatArg {
  /** float64 copy (or the array itself when it is float64) */
  data: Float64Array;
  /** the caller's array */
  raw: FloatArray;
  shape: number[];
}

function tensorArg(v: unknown, what: string, op: string): Tensor {
  let t: Tensor;
  if (v instanceof Tensor) t = v;
  else if (v instanceof Float32Array || v instanceof Float64Array) t = new Tensor(v, [v.length]);
  else throw new KexueError('E_DTYPE', `${op}: ${what} must be a float32 or float64 Tensor; got ${describe(v)}`);
  if (t.dtype !== 'float32' && t.dtype !== 'float64') throw new KexueError('E_DTYPE', `${op}: ${what} must be float32 or float64; got ${t.dtype}`);
  return t;
}

/** A float tensor (or typed array) as float64 data plus shape; NaN and Infinity are refused. */
function floatArg(v: unknown, what: string, op: string): FloatArg {
  const t = tensorArg(v, what, op);
  const raw = t.data as FloatArray;
  const data = raw instanceof Float64Array ? raw : Float64Array.from(raw);
  for (let i = 0; i < data.length; i++)
    if (!Number.isFinite(data[i])) throw new KexueError('E_RANGE', `${op}: ${what} has a non-finite entry (${data[i]}) at flat index ${i}`);
  return { data, raw, shape: [...t.shape] };
}

/** A square matrix [n, n] (or a batch [count, n, n]). */
function squareArg(v: unknown, what: string, op: string, batched = false) {
  const a = floatArg(v, what, op);
  const { shape } = a;
  const ok = shape.length === 2 || (batched && shape.length === 3);
  if (!ok || shape[shape.length - 1] !== shape[shape.length - 2])
    throw new KexueError('E_SHAPE', `${op}: ${what} must be square [n, n]${batched ? ' or [count, n, n]' : ''}; got [${shape.join(', ')}]`);
  const n = shape[shape.length - 1];
  return { ...a, n, count: shape.length === 3 ? shape[0] : 1 };
}

/** Relative tolerance for symmetry checks: |A - A^T| <= SYM_TOL * max|A| (entrywise). */
export const SYM_TOL = 1e-10;

function asymmetry(a: Float64Array, n: number, o: number): { i: number; j: number; d: number } | null {
  let mx = 0;
  for (let i = 0; i < n * n; i++) mx = Math.max(mx, Math.abs(a[o + i]));
  for (let i = 0; i < n; i++)
    for (let j = 0; j < i; j++) {
      const d = Math.abs(a[o + i * n + j] - a[o + j * n + i]);
      if (d > SYM_TOL * mx) return { i, j, d };
    }
  return null;
}

function checkSymmetric(a: Float64Array, n: number, count: number, what: string, op: string): void {
  for (let c = 0; c < count; c++) {
    const bad = asymmetry(a, n, c * n * n);
    if (bad)
      throw new KexueError('E_RANGE', `${op}: ${count > 1 ? `${what}[${c}]` : what} must be symmetric (|A - A^T| <= ${SYM_TOL} max|A|); entry (${bad.i}, ${bad.j}) differs from (${bad.j}, ${bad.i}) by ${bad.d.toExponential(3)}`);
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

function logdetOfFactor(L: Float64Array, n: number, o = 0): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.log(L[o + i * n + i]);
  return 2 * s;
}

/** Cholesky factors of count matrices (a kernel call); E_NOT_SPD naming `whats[c]` on failure. */
function* choleskyPlan(a: Float64Array, count: number, n: number, op: string, whats: string[]): Plan<Float64Array> {
  const L = new Float64Array(count * n * n);
  const info = new Float64Array(count);
  yield step('cholesky', [count, n, a, L, info]);
  for (let c = 0; c < count; c++) if (info[c] >= 0) throw notSpd(op, whats[c], info[c]);
  return L;
}

// ---- building blocks ----------------------------------------------------------------------------

function* choleskyOp<T extends FloatArray>(A: Tensor<T>, _opts?: OpOptions): Plan<Tensor<T>> {
  const op = 'cholesky';
  const { data, shape, n, count } = squareArg(A, 'A', op, true);
  checkSymmetric(data, n, count, 'A', op);
  const whats = Array.from({ length: count }, (_, c) => (count > 1 ? `A[${c}]` : 'A'));
  const L = yield* choleskyPlan(data, count, n, op, whats);
  return out<T>(dtypeOfArg(A), L, shape);
}

function* logdetOp(A: Tensor, _opts?: OpOptions): Plan<number> {
  const op = 'logdet';
  const { data, n } = squareArg(A, 'A', op);
  checkSymmetric(data, n, 1, 'A', op);
  const L = yield* choleskyPlan(data, 1, n, op, ['A']);
  return logdetOfFactor(L, n);
}

function* solveOp<T extends FloatArray>(A: Tensor<T>, B: Tensor<T>, _opts?: OpOptions): Plan<Tensor<T>> {
  const op = 'solve';
  const { data, n } = squareArg(A, 'A', op);
  const b = floatArg(B, 'B', op);
  if (b.shape[0] !== n || b.shape.length > 2) throw new KexueError('E_SHAPE', `${op}: B must be [${n}] or [${n}, m]; got [${b.shape.join(', ')}]`);
  const m = b.shape.length === 2 ? b.shape[1] : 1;
  const x = new Float64Array(n * m);
  const info = new Float64Array(1);
  yield step('solve', [n, m, data, b.data, x, info]);
  if (info[0] !== 0) throw new KexueError('E_RANGE', `${op}: A is singular (an exactly zero pivot in LU with partial pivoting)`);
  return out<T>(dtypeOfArg(A), x, b.shape);
}

export interface EighOptions extends OpOptions {
  /** Compute the eigenvectors too (default true). */
  vectors?: boolean;
}

export interface EighResult<T extends FloatArray> {
  /** Ascending; [n], or [count, n] for a batch. */
  values: Tensor<T>;
  /** Columns are the eigenvectors (A = V diag(values) V^T); [n, n] or [count, n, n]. */
  vectors?: Tensor<T>;
}

function* eighOp<T extends FloatArray>(A: Tensor<T>, opts: EighOptions = {}): Plan<EighResult<T>> {
  const op = 'eigh';
  const o = options<EighOptions>(opts, op);
  if (o.vectors !== undefined && typeof o.vectors !== 'boolean') throw new KexueError('E_ARG', `${op}: vectors must be a boolean; got ${describe(o.vectors)}`);
  const { data, shape, n, count } = squareArg(A, 'A', op, true);
  checkSymmetric(data, n, count, 'A', op);
  const values = new Float64Array(count * n);
  const vectors = o.vectors !== false ? new Float64Array(count * n * n) : null;
  yield step('eigh', [count, n, data, values, vectors]);
  const dt = dtypeOfArg(A);
  return {
    values: out<T>(dt, values, shape.length === 3 ? [count, n] : [n]),
    ...(vectors ? { vectors: out<T>(dt, vectors, shape) } : {}),
  };
}

// ---- sqrtm ---------------------------------------------------------------------------------------

export type SqrtmMethod = 'auto' | 'eigh' | 'newtonSchulz' | 'denmanBeavers';

export interface SqrtmOptions extends OpOptions {
  /** 'auto' (default): eigh when every matrix is symmetric, Denman-Beavers otherwise. */
  method?: SqrtmMethod;
  /** Return A^{-1/2} instead. */
  inverse?: boolean;
  /**
   * The residual the iterative methods must reach, else E_NO_CONVERGENCE. Default 1e-10 (float64),
   * max(1e-5, 1e-7 n) (float32: the GPU's float32 Newton-Schulz residual grows like n u, u = 2^-24;
   * 1.7e-4 was measured at n = 4096 on an H200). They iterate on to rounding level (residual below min(tol, 10 n eps)) or
   * until the residual stops falling, and return the best iterate.
   */
  tol?: number;
  /** Iteration cap: past it the result is E_NO_CONVERGENCE, never a silent wrong answer. Default 100. */
  maxIterations?: number;
}

export interface SqrtmResult<T extends FloatArray> {
  sqrt: Tensor<T>;
  /**
   * ||X X - A||_F / ||A||_F of the returned square root, computed in float64 before rounding (for
   * inverse: ||X A X - I||_F / sqrt(n)); the largest over a batch.
   */
  residual: number;
  /** Iterations taken (the most over a batch); only for the iterative methods. */
  iterations?: number;
}

function isSymmetric(a: Float64Array, n: number, count: number): boolean {
  for (let c = 0; c < count; c++) if (asymmetry(a, n, c * n * n)) return false;
  return true;
}

function* sqrtmOp<T extends FloatArray>(A: Tensor<T>, opts: SqrtmOptions = {}): Plan<SqrtmResult<T>> {
  const op = 'sqrtm';
  const o = options<SqrtmOptions>(opts, op);
  const { data, raw, shape, n, count } = squareArg(A, 'A', op, true);
  const dt = dtypeOfArg(A);
  const method = o.method ?? 'auto';
  if (!['auto', 'eigh', 'newtonSchulz', 'denmanBeavers'].includes(method))
    throw new KexueError('E_ARG', `${op}: method must be 'auto', 'eigh', 'newtonSchulz' or 'denmanBeavers'; got ${describe(method)}`);
  const tol = o.tol ?? (dt === 'float32' ? Math.max(1e-5, 1e-7 * n) : 1e-10);
  if (typeof tol !== 'number' || !(tol > 0)) throw new KexueError('E_RANGE', `${op}: tol must be a positive number; got ${describe(tol)}`);
  const maxIt = o.maxIterations ?? 100;
  if (!Number.isInteger(maxIt) || maxIt < 1 || maxIt > 1e6) throw new KexueError('E_RANGE', `${op}: maxIterations must be an integer in [1, 1e6]; got ${describe(maxIt)}`);
  if (o.inverse !== undefined && typeof o.inverse !== 'boolean') throw new KexueError('E_ARG', `${op}: inverse must be a boolean; got ${describe(o.inverse)}`);
  const inverse = o.inverse === true;
  const m = method === 'auto' ? (isSymmetric(data, n, count) ? 'eigh' : 'denmanBeavers') : method;
  if (m === 'eigh') checkSymmetric(data, n, count, 'A', op);
  const x = dt === 'float32' ? new Float32Array(count * n * n) : new Float64Array(count * n * n);
  const params = new Float64Array([SQRTM_METHODS.indexOf(m), inverse ? 1 : 0, tol, maxIt]);
  const info = new Float64Array(3 * count);
  yield step('sqrtm', [count, n, raw, x, params, info]);
  let residual = 0;
  let iterations = 0;
  for (let c = 0; c < count; c++) {
    const status = info[3 * c];
    const which = count > 1 ? `A[${c}]` : 'A';
    if (status === 7)
      throw new KexueError('E_NOT_SPD', inverse
        ? `${op}: ${which} is not positive definite (an eigenvalue is negative or zero), so it has no inverse square root`
        : `${op}: ${which} has a negative eigenvalue beyond rounding (below -n eps max|lambda|); it is not positive semi-definite`);
    if (status === 8)
      throw new KexueError('E_NO_CONVERGENCE', m === 'newtonSchulz'
        ? `${op}: Newton-Schulz did not reach the residual ${tol} for ${which} within ${maxIt} iterations (it needs every eigenvalue of A / ||A||_F in (0, 2), e.g. A positive definite and not too badly conditioned); try method 'eigh' or 'denmanBeavers'`
        : `${op}: Denman-Beavers did not reach the residual ${tol} for ${which} within ${maxIt} iterations (A may be singular or have an eigenvalue on the closed negative real axis)`);
    if (status !== 0) throw new KexueError('E_RANGE', `${op}: ${which} has non-finite entries`);
    iterations = Math.max(iterations, info[3 * c + 1]);
    residual = Math.max(residual, info[3 * c + 2]);
  }
  return { sqrt: new Tensor(x as T, shape), residual, ...(m !== 'eigh' ? { iterations } : {}) };
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

function concat(...parts: Float64Array[]): Float64Array {
  const r = new Float64Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) r.set(p, o), (o += p.length);
  return r;
}

function sumSquares(a: Float64Array): number {
  let s = 0;
  for (const v of a) s += v * v;
  return s;
}

/** KL(N1 || N2) = 1/2 [tr(S2^-1 S1) + d^T S2^-1 d - n + ln det S2 - ln det S1], d = mu2 - mu1. */
function* klPlan(g1: Gauss, g2: Gauss, op: string): Plan<number> {
  const n = g1.n;
  const d = g2.mu.map((x, i) => x - g1.mu[i]);
  if (g1.diag && g2.diag) {
    let s = 0;
    for (let i = 0; i < n; i++) {
      const a = g1.diag[i], b = g2.diag[i];
      if (!(a > 0) || !(b > 0)) throw new KexueError('E_NOT_SPD', `${op}: diagonal covariance entry ${i} is not positive`);
      s += a / b + (d[i] * d[i]) / b - 1 + Math.log(b) - Math.log(a);
    }
    return 0.5 * s;
  }
  const L = yield* choleskyPlan(concat(full(g1), full(g2)), 2, n, op, ['S1', 'S2']);
  const L1 = L.subarray(0, n * n), L2 = L.subarray(n * n);
  // [M | y] = L2^-1 [L1 | d]: tr(S2^-1 S1) = ||M||_F^2, d^T S2^-1 d = ||y||^2
  const B = new Float64Array(n * (n + 1));
  for (let i = 0; i < n; i++) {
    B.set(L1.subarray(i * n, i * n + n), i * (n + 1));
    B[i * (n + 1) + n] = d[i];
  }
  const X = new Float64Array(n * (n + 1));
  const info = new Float64Array(1);
  yield step('solve', [n, n + 1, L2.slice(), B, X, info]);
  if (info[0] !== 0) throw notSpd(op, 'S2', -1);
  return 0.5 * (sumSquares(X) - n + logdetOfFactor(L2, n) - logdetOfFactor(L1, n));
}

function* bhattacharyyaPlan(g1: Gauss, g2: Gauss, op: string): Plan<number> {
  const n = g1.n;
  const d = g1.mu.map((x, i) => x - g2.mu[i]);
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
  const L = yield* choleskyPlan(concat(S, S1, S2), 3, n, op, ['(S1 + S2) / 2', 'S1', 'S2']);
  const y = new Float64Array(n);
  const info = new Float64Array(1);
  yield step('solve', [n, 1, L.slice(0, n * n), d, y, info]);
  if (info[0] !== 0) throw notSpd(op, '(S1 + S2) / 2', -1);
  return sumSquares(y) / 8 + 0.5 * (logdetOfFactor(L, n) - 0.5 * (logdetOfFactor(L, n, n * n) + logdetOfFactor(L, n, 2 * n * n)));
}

function isRangeError(e: unknown): boolean {
  return e instanceof KexueError && e.code === 'E_RANGE';
}

/**
 * tr (S1^1/2 S2 S1^1/2)^1/2 = sum sqrt(lambda(S1 S2)), symmetric in S1 and S2: the w2Trace kernel
 * (Cholesky S1 = L L^T, eigenvalues of L^T S2 L). When S1 is singular, the same with the roles
 * swapped; when both are, the eigh route (S1^1/2 with clamped eigenvalues, then the eigenvalues
 * of S1^1/2 S2 S1^1/2).
 */
function* traceSqrtProduct(S1: Float64Array, S2: Float64Array, n: number, op: string): Plan<number> {
  for (const [a, b] of [[S1, S2], [S2, S1]]) {
    const o = new Float64Array([0, -1]);
    try {
      yield step('w2Trace', [n, a, b, o]);
      return o[0];
    } catch (e) {
      // inputs are finite (checked), so E_RANGE means: the first matrix is not positive definite
      if (!isRangeError(e)) throw e;
    }
  }
  const R = new Float64Array(n * n);
  const info = new Float64Array(3);
  yield step('sqrtm', [1, n, S1, R, new Float64Array([0, 0, 1, 1]), info]);
  if (info[0] === 7) throw new KexueError('E_NOT_SPD', `${op}: S1 has a negative eigenvalue beyond rounding; it is not positive semi-definite`);
  if (info[0] !== 0) throw new KexueError('E_INTERNAL', `${op}: the square root of S1 failed (status ${info[0]})`);
  const T = new Float64Array(n * n);
  const M = new Float64Array(n * n);
  yield step('gemm', [n, n, n, R, n, false, S2, n, false, T, n, 1, 0]);
  yield step('gemm', [n, n, n, T, n, false, R, n, false, M, n, 1, 0]);
  const lam = new Float64Array(n);
  yield step('eigh', [1, n, M, lam, null]);
  let s = 0;
  for (const l of lam) s += Math.sqrt(Math.max(l, 0)); // clamp rounding negatives
  return s;
}

function* w2Plan(g1: Gauss, g2: Gauss, op: string): Plan<number> {
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
  return Math.max(0, dd + tr - 2 * (yield* traceSqrtProduct(S1, S2, n, op)));
}

type G = Tensor | Float32Array | Float64Array;

export interface W2Options extends OpOptions {
  /** Return W2 itself instead of its square. */
  root?: boolean;
}

function* distancePlan(kind: 'kl' | 'bhattacharyya' | 'hellinger' | 'w2', mu1: G, S1: G, mu2: G, S2: G, opts?: W2Options): Plan<number> {
  const op = `gaussian.${kind}`;
  const o = options<W2Options>(opts, op);
  const [a, b] = gaussArgs(op, mu1, S1, mu2, S2);
  if (kind === 'kl') return yield* klPlan(a, b, op);
  if (kind === 'bhattacharyya') return yield* bhattacharyyaPlan(a, b, op);
  if (kind === 'hellinger') return -Math.expm1(-(yield* bhattacharyyaPlan(a, b, op)));
  const w = yield* w2Plan(a, b, op);
  return o.root ? Math.sqrt(w) : w;
}

const opts5 = (_a: unknown, _b: unknown, _c: unknown, _d: unknown, o?: unknown) => o;

const [choleskySync, choleskyAsyncF] = planned('cholesky', choleskyOp, (_a: unknown, o?: unknown) => o);
const [logdetSync, logdetAsyncF] = planned('logdet', logdetOp, (_a: unknown, o?: unknown) => o);
const [solveSync, solveAsyncF] = planned('solve', solveOp, (_a: unknown, _b: unknown, o?: unknown) => o);
const [eighSync, eighAsyncF] = planned('eigh', eighOp, (_a: unknown, o?: unknown) => o);
const [sqrtmSync, sqrtmAsyncF] = planned('sqrtm', sqrtmOp, (_a: unknown, o?: unknown) => o);

/** Lower Cholesky factor L with A = L L^T (A symmetric positive definite, [n, n] or [count, n, n]; E_NOT_SPD otherwise). */
export function cholesky<T extends FloatArray>(A: Tensor<T>, opts?: OpOptions): Tensor<T> {
  return choleskySync(A, opts) as Tensor<T>;
}
export function choleskyAsync<T extends FloatArray>(A: Tensor<T>, opts?: OpOptions): Promise<Tensor<T>> {
  return choleskyAsyncF(A, opts) as Promise<Tensor<T>>;
}

/** log det A of a symmetric positive definite matrix, from its Cholesky factor (no overflow). */
export function logdet(A: Tensor, opts?: OpOptions): number {
  return logdetSync(A, opts);
}
export function logdetAsync(A: Tensor, opts?: OpOptions): Promise<number> {
  return logdetAsyncF(A, opts);
}

/** X with A X = B (A [n, n] general, LU with partial pivoting; B [n] or [n, m]). */
export function solve<T extends FloatArray>(A: Tensor<T>, B: Tensor<T>, opts?: OpOptions): Tensor<T> {
  return solveSync(A, B, opts) as Tensor<T>;
}
export function solveAsync<T extends FloatArray>(A: Tensor<T>, B: Tensor<T>, opts?: OpOptions): Promise<Tensor<T>> {
  return solveAsyncF(A, B, opts) as Promise<Tensor<T>>;
}

/** Eigenvalues (ascending) and, unless { vectors: false }, eigenvectors of a symmetric matrix (or a batch [count, n, n]). */
export function eigh<T extends FloatArray>(A: Tensor<T>, opts?: EighOptions): EighResult<T> {
  return eighSync(A, opts) as EighResult<T>;
}
export function eighAsync<T extends FloatArray>(A: Tensor<T>, opts?: EighOptions): Promise<EighResult<T>> {
  return eighAsyncF(A, opts) as Promise<EighResult<T>>;
}

/**
 * The principal square root of A (or A^{-1/2}): for symmetric positive semi-definite A by
 * eigendecomposition with rounding-level negative eigenvalues clamped to 0; otherwise by
 * Newton-Schulz or Denman-Beavers iterations that stop on the residual and report
 * non-convergence as E_NO_CONVERGENCE. Batched input [count, n, n] returns the largest residual.
 */
export function sqrtm<T extends FloatArray>(A: Tensor<T>, opts?: SqrtmOptions): SqrtmResult<T> {
  return sqrtmSync(A, opts) as SqrtmResult<T>;
}
export function sqrtmAsync<T extends FloatArray>(A: Tensor<T>, opts?: SqrtmOptions): Promise<SqrtmResult<T>> {
  return sqrtmAsyncF(A, opts) as Promise<SqrtmResult<T>>;
}

const dist = (kind: 'kl' | 'bhattacharyya' | 'hellinger' | 'w2') =>
  planned(`gaussian.${kind}`, (mu1: G, S1: G, mu2: G, S2: G, o?: W2Options) => distancePlan(kind, mu1, S1, mu2, S2, o), opts5);
const [klS, klA] = dist('kl');
const [bhS, bhA] = dist('bhattacharyya');
const [heS, heA] = dist('hellinger');
const [w2S, w2A] = dist('w2');

/** Distances between N(mu1, S1) and N(mu2, S2); covariances [n, n] or diagonal [n]. float64 throughout. */
export const gaussian = {
  /** KL(N1 || N2) (nats). S1 and S2 must be positive definite. */
  kl: (mu1: G, S1: G, mu2: G, S2: G, opts?: OpOptions): number => klS(mu1, S1, mu2, S2, opts),
  klAsync: (mu1: G, S1: G, mu2: G, S2: G, opts?: OpOptions): Promise<number> => klA(mu1, S1, mu2, S2, opts),
  /** Bhattacharyya distance. S1, S2 positive definite. */
  bhattacharyya: (mu1: G, S1: G, mu2: G, S2: G, opts?: OpOptions): number => bhS(mu1, S1, mu2, S2, opts),
  bhattacharyyaAsync: (mu1: G, S1: G, mu2: G, S2: G, opts?: OpOptions): Promise<number> => bhA(mu1, S1, mu2, S2, opts),
  /** Squared Hellinger distance, 1 - exp(-Bhattacharyya). */
  hellinger: (mu1: G, S1: G, mu2: G, S2: G, opts?: OpOptions): number => heS(mu1, S1, mu2, S2, opts),
  hellingerAsync: (mu1: G, S1: G, mu2: G, S2: G, opts?: OpOptions): Promise<number> => heA(mu1, S1, mu2, S2, opts),
  /**
   * Squared 2-Wasserstein distance (or W2 itself with { root: true }): ||mu1 - mu2||^2 + tr S1 +
   * tr S2 - 2 tr (S1^1/2 S2 S1^1/2)^1/2, the trace from the eigenvalues of L^T S2 L (S1 = L L^T),
   * clamped so the result is never negative. S1 and S2 need only be positive semi-definite.
   */
  w2: (mu1: G, S1: G, mu2: G, S2: G, opts?: W2Options): number => w2S(mu1, S1, mu2, S2, opts),
  w2Async: (mu1: G, S1: G, mu2: G, S2: G, opts?: W2Options): Promise<number> => w2A(mu1, S1, mu2, S2, opts),
};

// ---- feature statistics and FID ----------------------------------------------------------------

/**
 * Mean and co-moment of feature vectors, accumulated in float64 chunk by chunk and mergeable
 * exactly (Chan, Golub and LeVeque's parallel update), so statistics computed in chunks, in
 * worker threads or on other machines combine to the one-pass result.
 */
export class GaussianStats {
  readonly n: number;
  /** [count]: a typed array so the kernels update it in place */
  #state = new Float64Array(1);
  #mean: Float64Array;
  /** sum over samples of (x - mean)(x - mean)^T, [n, n] */
  #comoment: Float64Array;
  /** the updateAsync calls in flight, chained so they apply one after another */
  #pending: Promise<unknown> | null = null;

  constructor(n: number) {
    if (!Number.isInteger(n) || n < 1) throw new KexueError('E_RANGE', `GaussianStats: n must be a positive integer; got ${describe(n)}`);
    this.n = n;
    this.#mean = new Float64Array(n);
    this.#comoment = new Float64Array(n * n);
  }

  get #count(): number {
    return this.#state[0];
  }

  /** Samples added so far. */
  get count(): number {
    return this.#count;
  }

  /** The statistics are being changed by an updateAsync: reading or changing them now would race. */
  #idle(op: string): void {
    if (this.#pending) throw new KexueError('E_ARG', `${op}: an updateAsync on these statistics is still running; await it first`);
  }

  get mean(): Tensor<Float64Array> {
    this.#idle('GaussianStats.mean');
    return new Tensor(this.#mean.slice(), [this.n]);
  }

  /** The sample covariance (divisor count - 1). */
  get covariance(): Tensor<Float64Array> {
    this.#idle('GaussianStats.covariance');
    if (this.#count < 2) throw new KexueError('E_RANGE', `GaussianStats: a covariance needs at least 2 samples; have ${this.#count}`);
    const d = this.#count - 1;
    return new Tensor(this.#comoment.map((c) => c / d), [this.n, this.n]);
  }

  #prepare(features: unknown, op: string): { rows: number; x: FloatArray } {
    const t = tensorArg(features, 'features', op);
    const shape = t.shape;
    if (shape.length > 2 || shape[shape.length - 1] !== this.n)
      throw new KexueError('E_SHAPE', `${op}: features must be [m, ${this.n}]; got [${shape.join(', ')}]`);
    return { rows: shape.length === 1 ? 1 : shape[0], x: t.data as FloatArray };
  }

  /**
   * Adds the rows of features [m, n] (float32 or float64, read as they are: no float64 copy) with
   * the featureStats kernel: the chunk's mean and co-moment (two passes in float64, the co-moment
   * on the GEMM) merged in place by Chan's update. Non-finite features: E_RANGE, the statistics
   * unchanged.
   */
  update(features: Tensor | Float32Array | Float64Array, opts?: OpOptions): this {
    const op = 'GaussianStats.update';
    const backend = backendOpt(options<OpOptions>(opts, op), op);
    this.#idle(op);
    const { rows, x } = this.#prepare(features, op);
    if (rows > 0) runOp('featureStats', backend, [rows, this.n, x, this.#state, this.#mean, this.#comoment]);
    return this;
  }

  /**
   * update() with the kernel off the event loop. Calls in flight apply in call order; reading
   * mean or covariance, merge and update throw E_ARG until they settle.
   */
  updateAsync(features: Tensor | Float32Array | Float64Array, opts?: OpOptions): Promise<this> {
    const op = 'GaussianStats.updateAsync';
    let args: { rows: number; x: FloatArray; backend: BackendChoice | undefined };
    try {
      const backend = backendOpt(options<OpOptions>(opts, op), op);
      args = { ...this.#prepare(features, op), backend };
    } catch (e) {
      return Promise.reject(e);
    }
    const run = async (): Promise<this> => {
      if (args.rows > 0) await runOpAsync('featureStats', args.backend, [args.rows, this.n, args.x, this.#state, this.#mean, this.#comoment]);
      return this;
    };
    const p = (this.#pending ?? Promise.resolve()).then(run, run);
    this.#pending = p;
    const clear = () => {
      if (this.#pending === p) this.#pending = null;
    };
    p.then(clear, clear);
    return p;
  }

  /** Adds another statistics object's samples (same n). */
  merge(other: GaussianStats): this {
    if (!(other instanceof GaussianStats)) throw new KexueError('E_ARG', `GaussianStats.merge: expected GaussianStats; got ${describe(other)}`);
    if (other.n !== this.n) throw new KexueError('E_SHAPE', `GaussianStats.merge: dimensions differ (${this.n} and ${other.n})`);
    this.#idle('GaussianStats.merge');
    other.#idle('GaussianStats.merge');
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
    this.#state[0] = tot;
  }

  toJSON(): { kexue: 'GaussianStats'; version: 1; n: number; count: number; mean: number[]; comoment: number[] } {
    this.#idle('GaussianStats.toJSON');
    return { kexue: 'GaussianStats', version: 1, n: this.n, count: this.#count, mean: [...this.#mean], comoment: [...this.#comoment] };
  }

  static fromJSON(j: unknown): GaussianStats {
    const o = j as { kexue?: unknown; n?: unknown; count?: unknown; mean?: unknown; comoment?: unknown };
    if (o === null || typeof o !== 'object' || o.kexue !== 'GaussianStats' || typeof o.n !== 'number')
      throw new KexueError('E_ARG', 'GaussianStats.fromJSON: not a kexue GaussianStats object');
    const s = new GaussianStats(o.n);
    if (!Number.isInteger(o.count) || (o.count as number) < 0 || !Array.isArray(o.mean) || o.mean.length !== s.n || !Array.isArray(o.comoment) || o.comoment.length !== s.n * s.n)
      throw new KexueError('E_ARG', 'GaussianStats.fromJSON: count, mean or comoment is malformed');
    s.#state[0] = o.count as number;
    s.#mean = Float64Array.from(o.mean as number[]);
    s.#comoment = Float64Array.from(o.comoment as number[]);
    if (![...s.#mean, ...s.#comoment].every(Number.isFinite)) throw new KexueError('E_ARG', 'GaussianStats.fromJSON: non-finite values');
    return s;
  }
}

function statsOf(v: unknown, what: string): { stats?: GaussianStats; features?: Tensor } {
  if (v instanceof GaussianStats) return { stats: v };
  const t = tensorArg(v, what, 'frechetDistance');
  if (t.shape.length !== 2) throw new KexueError('E_SHAPE', `frechetDistance: ${what} must be features [m, n] or GaussianStats; got [${t.shape.join(', ')}]`);
  return { features: t };
}

/**
 * The Frechet distance (FID when the features come from Inception): W2^2 between Gaussians fitted
 * to two feature sets (mean and covariance with divisor m - 1). Never negative, NaN or complex,
 * also with fewer samples than dimensions (singular covariances take the routes of gaussian.w2).
 */
export function frechetDistance(a: Tensor | GaussianStats, b: Tensor | GaussianStats, opts: OpOptions = {}): number {
  const [sa, sb] = [statsOf(a, 'a'), statsOf(b, 'b')].map((s) => s.stats ?? new GaussianStats(s.features!.shape[1]).update(s.features!, opts));
  if (sa.n !== sb.n) throw new KexueError('E_SHAPE', `frechetDistance: feature dimensions differ (${sa.n} and ${sb.n})`);
  return gaussian.w2(sa.mean, sa.covariance, sb.mean, sb.covariance, opts);
}

/** frechetDistance with every kernel off the event loop. */
export async function frechetDistanceAsync(a: Tensor | GaussianStats, b: Tensor | GaussianStats, opts: OpOptions = {}): Promise<number> {
  const [sa, sb] = await Promise.all(
    [statsOf(a, 'a'), statsOf(b, 'b')].map((s) => s.stats ?? new GaussianStats(s.features!.shape[1]).updateAsync(s.features!, opts)),
  );
  if (sa.n !== sb.n) throw new KexueError('E_SHAPE', `frechetDistanceAsync: feature dimensions differ (${sa.n} and ${sb.n})`);
  return gaussian.w2Async(sa.mean, sa.covariance, sb.mean, sb.covariance, opts);
}
