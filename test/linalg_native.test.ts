// The native float64 kernels of the W2 route (native/core/linalg.cc, bound in
// native/napi/ops_linalg.cc) against the float64 js reference (lib/backends/js/linalg.ts) on fresh
// random SPD matrices, bit-identity across thread counts, Cholesky failure reporting, and (print
// only) timings of the W2 trace at n = 1024 and 2048.
// Tolerances: gemm and cholesky max |got - ref| <= 1e-13 max |ref|; eigenvalues <= 1e-12 max |lambda|;
// w2 trace relative 1e-12.
import { afterAll, describe, expect, it } from 'vitest';
import { getNumThreads, setNumThreads } from '../dist/index.js';
import { loadNative } from '../dist/backends/native.js';
import { cholesky, eighSym, matmul, transpose } from '../dist/backends/js/linalg.js';
import { firstBitMismatch, freshSeed } from './helpers.js';

type Addon = Record<string, any>;
const addon = loadNative().addon as Addon | undefined;
const has = addon !== undefined && typeof addon.linalgGemm === 'function';

/** mulberry32: a small deterministic generator of uniforms in [-1, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  };
}

function randMat(r: () => number, rows: number, cols: number): Float64Array {
  const a = new Float64Array(rows * cols);
  for (let i = 0; i < a.length; i++) a[i] = r();
  return a;
}

/** G G^T / n + 0.1 I: symmetric positive definite, condition number a few hundred at most. */
function randSpd(r: () => number, n: number): Float64Array {
  const g = randMat(r, n, n);
  const a = matmul(g, transpose(g, n, n), n, n, n);
  for (let i = 0; i < n * n; i++) a[i] /= n;
  for (let i = 0; i < n; i++) a[i * n + i] += 0.1;
  return a;
}

function relErr(got: ArrayLike<number>, ref: ArrayLike<number>): number {
  let err = 0, mag = 0;
  for (let i = 0; i < ref.length; i++) {
    if (Number.isNaN(got[i])) return Infinity;
    err = Math.max(err, Math.abs(got[i] - ref[i]));
    mag = Math.max(mag, Math.abs(ref[i]));
  }
  return err / (mag || 1);
}

function refTrace(s1: Float64Array, s2: Float64Array, n: number): number {
  const L = cholesky(s1, n).L!;
  const M = matmul(matmul(transpose(L, n, n), s2, n, n, n), L, n, n, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) M[i * n + j] = M[j * n + i] = 0.5 * (M[i * n + j] + M[j * n + i]);
  let s = 0;
  for (const lam of eighSym(M, n, false)!.values) s += Math.sqrt(Math.max(lam, 0));
  return s;
}

function nativeTrace(s1: Float64Array, s2: Float64Array, n: number): Float64Array {
  const out = new Float64Array(2);
  addon!.linalgW2Trace(n, s1, s2, out);
  return out;
}

const SIZES = [1, 2, 7, 64, 200];

describe.runIf(has)('native float64 linalg vs the js reference', () => {
  const threads0 = has ? getNumThreads() : 1;
  afterAll(() => setNumThreads(threads0));

  it('gemm: all four transpositions, alpha/beta, odd sizes and leading dimensions', () => {
    const seed = freshSeed();
    const r = rng(seed);
    const shapes: [number, number, number][] = [[1, 1, 1], [2, 7, 3], [7, 7, 7], [64, 64, 64], [131, 277, 300], [200, 200, 200], [5, 0, 3], [3, 4, 0]];
    for (const [m, n, k] of shapes)
      for (const ta of [false, true])
        for (const tb of [false, true]) {
          const pad = 3;
          const ar = ta ? k : m, ac = ta ? m : k, br = tb ? n : k, bc = tb ? k : n;
          const lda = ac + pad, ldb = bc + 1, ldc = n + 2;
          const a = randMat(r, ar, lda), b = randMat(r, br, ldb), c0 = randMat(r, m, ldc);
          const alpha = r() * 2, beta = [0, 1, r()][Math.floor((r() + 1) * 1.5) % 3];
          const dense = (x: Float64Array, rows: number, cols: number, ld: number) => {
            const d = new Float64Array(rows * cols);
            for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) d[i * cols + j] = x[i * ld + j];
            return d;
          };
          let A = dense(a, ar, ac, lda), B = dense(b, br, bc, ldb);
          if (ta) A = transpose(A, ar, ac);
          if (tb) B = transpose(B, br, bc);
          const AB = matmul(A, B, m, k, n);
          const ref = c0.slice();
          for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) ref[i * ldc + j] = alpha * AB[i * n + j] + (beta === 0 ? 0 : beta * c0[i * ldc + j]);
          const c = c0.slice();
          addon!.linalgGemm(m, n, k, a, lda, ta, b, ldb, tb, c, ldc, alpha, beta);
          expect(relErr(c, ref), `seed ${seed}: m=${m} n=${n} k=${k} ta=${ta} tb=${tb} beta=${beta}`).toBeLessThanOrEqual(1e-13);
        }
  });

  it('cholesky, eigenvalues and the w2 trace on random SPD matrices', async () => {
    const seed = freshSeed();
    const r = rng(seed);
    for (const n of SIZES) {
      const s1 = randSpd(r, n), s2 = randSpd(r, n);
      const msg = `seed ${seed}, n=${n}`;
      const L = new Float64Array(n * n), info = new Float64Array(1);
      addon!.linalgCholesky(n, s1, L, info);
      expect(info[0], msg).toBe(-1);
      expect(relErr(L, cholesky(s1, n).L!), msg).toBeLessThanOrEqual(1e-13);
      // a symmetric, indefinite matrix for the eigenvalues
      const sym = randMat(r, n, n);
      for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) sym[j * n + i] = sym[i * n + j];
      for (const m of [s1, sym]) {
        const vals = new Float64Array(n);
        addon!.linalgEigvals(n, m, vals);
        const ref = eighSym(m, n, false)!.values;
        const mx = Math.max(...ref.map(Math.abs));
        for (let i = 0; i < n; i++) expect(Math.abs(vals[i] - ref[i]), `${msg}, eigenvalue ${i}`).toBeLessThanOrEqual(1e-12 * mx);
      }
      const tr = refTrace(s1, s2, n);
      const got = nativeTrace(s1, s2, n);
      expect(got[1], msg).toBe(-1);
      expect(Math.abs(got[0] - tr), msg).toBeLessThanOrEqual(1e-12 * Math.abs(tr));
      const out = new Float64Array(2);
      await addon!.linalgW2TraceAsync(n, s1, s2, out);
      expect(firstBitMismatch(out, got), msg).toBe(-1);
    }
  });

  it('bit-identical results with 1 and 2 threads', () => {
    const seed = freshSeed();
    const r = rng(seed);
    const n = 200;
    const s1 = randSpd(r, 333), s2 = randSpd(r, n), s3 = randSpd(r, n);
    const run = (t: number) => {
      setNumThreads(t);
      const c = new Float64Array(333 * 333);
      addon!.linalgGemm(333, 333, 333, s1, 333, true, s1, 333, false, c, 333, 1.5, 0);
      const L = new Float64Array(333 * 333), info = new Float64Array(1);
      addon!.linalgCholesky(333, s1, L, info);
      const v = new Float64Array(n);
      addon!.linalgEigvals(n, s2, v);
      return [c, L, v, nativeTrace(s2, s3, n)];
    };
    const one = run(1), two = run(2);
    for (let i = 0; i < one.length; i++) expect(firstBitMismatch(one[i], two[i]), `seed ${seed}, output ${i}`).toBe(-1);
  });

  it('a failing Cholesky reports the pivot', async () => {
    const seed = freshSeed();
    const r = rng(seed);
    for (const [n, bad] of [[1, 0], [7, 3], [200, 150]] as const) {
      const a = randSpd(r, n);
      // make the leading (bad+1) x (bad+1) block singular in its last pivot: row/col bad = row/col 0 scaled
      for (let j = 0; j < n; j++) {
        a[bad * n + j] = bad === 0 ? -a[j] : a[j];
        a[j * n + bad] = a[bad * n + j];
      }
      if (bad === 0) a[0] = -1;
      else a[bad * n + bad] = a[0] * 0.5;
      const ref = cholesky(a, n);
      const L = new Float64Array(n * n), info = new Float64Array(1);
      let code = '';
      try {
        addon!.linalgCholesky(n, a, L, info);
      } catch (e) {
        code = (e as { code: string }).code;
      }
      expect(code, `seed ${seed}, n=${n}`).toBe('E_RANGE');
      expect(info[0], `seed ${seed}, n=${n}`).toBe(ref.failedAt);
      const out = new Float64Array(2);
      await expect(addon!.linalgW2TraceAsync(n, a, randSpd(r, n), out)).rejects.toMatchObject({ code: 'E_RANGE' });
      expect(out[1], `seed ${seed}, n=${n}`).toBe(ref.failedAt);
    }
  });

  it('degenerate inputs: zero, diagonal and identity matrices; non-finite entries', () => {
    for (const n of [1, 3, 70]) {
      const z = new Float64Array(n * n), vals = new Float64Array(n);
      addon!.linalgEigvals(n, z, vals);
      expect(Array.from(vals)).toEqual(new Array(n).fill(0));
      const dg = new Float64Array(n * n);
      for (let i = 0; i < n; i++) dg[i * n + i] = n - i;
      addon!.linalgEigvals(n, dg, vals);
      expect(Array.from(vals)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
      const id = new Float64Array(n * n);
      for (let i = 0; i < n; i++) id[i * n + i] = 1;
      expect(nativeTrace(id, dg, n)[0]).toBeCloseTo(Array.from({ length: n }, (_, i) => Math.sqrt(i + 1)).reduce((a, b) => a + b), 12);
      const bad = id.slice();
      bad[n * n - 1] = NaN;
      expect(() => addon!.linalgEigvals(n, bad, vals)).toThrow(expect.objectContaining({ code: 'E_RANGE' }));
      const out = new Float64Array(2);
      expect(() => addon!.linalgW2Trace(n, id, bad, out)).toThrow(expect.objectContaining({ code: 'E_RANGE' }));
      expect(out[1]).toBe(-1);
    }
  });

  it('rejects sizes that do not match the arrays', () => {
    expect(() => addon!.linalgGemm(2, 2, 2, new Float64Array(3), 2, false, new Float64Array(4), 2, false, new Float64Array(4), 2, 1, 0)).toThrow(/a has 3/);
    expect(() => addon!.linalgCholesky(3, new Float64Array(9), new Float64Array(8), new Float64Array(1))).toThrow(/L has 8/);
    expect(() => addon!.linalgEigvals(3, new Float64Array(9), new Float64Array(2))).toThrow(/values has 2/);
    expect(() => addon!.linalgW2Trace(2, new Float64Array(4), new Float64Array(4), new Float64Array(1))).toThrow(/out must be/);
    expect(() => addon!.linalgGemm(2, 2, 2, new Float32Array(4), 2, false, new Float64Array(4), 2, false, new Float64Array(4), 2, 1, 0)).toThrow(/Float64Array/);
  });

  it('timing: w2 trace at n = 1024 and 2048 (printed, not asserted)', () => {
    const r = rng(12345);
    for (const n of [1024, 2048]) {
      const s1 = new Float64Array(n * n), s2 = new Float64Array(n * n);
      // cheaper SPD matrices than G G^T: diagonally dominant symmetric
      for (const s of [s1, s2]) {
        for (let i = 0; i < n; i++)
          for (let j = 0; j <= i; j++) s[i * n + j] = s[j * n + i] = r() / n;
        for (let i = 0; i < n; i++) s[i * n + i] += 2;
      }
      const t0 = performance.now();
      const out = nativeTrace(s1, s2, n);
      const ms = performance.now() - t0;
      console.log(`linalgW2Trace n=${n}: ${ms.toFixed(0)} ms with ${getNumThreads()} threads (trace ${out[0]})`);
      expect(out[1]).toBe(-1);
    }
  });
});
