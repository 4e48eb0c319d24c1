// sqrtm, eigh, cholesky, solve, logdet, the Gaussian distances and GaussianStats on every backend
// (js reference, wasm, cpu native): the correctness cases per backend, agreement with the
// js reference, batches, Async forms, errors with codes, and bit identity across thread counts.
// Tolerances (float64): sqrtm residual < 1e-10 for cond(A) < 1e8 (the bound; observed
// ~1e-15 for well-conditioned A), float32 < 1e-5; eigenvalues within 1e-12 max|lambda| of the
// reference (both backward stable: n eps ||A|| ~ 1e-13 at n = 300); reconstruction
// ||V diag(w) V^T - A|| / ||A|| < 1e-12; distances 1e-12 relative (every backend runs the same
// formulas; the differences are rounding in O(n^3) sums).
import { describe, expect, it } from 'vitest';
import {
  GaussianStats,
  cholesky,
  choleskyAsync,
  eigh,
  eighAsync,
  frechetDistance,
  frechetDistanceAsync,
  gaussian,
  getNumThreads,
  logdet,
  logdetAsync,
  normal,
  setNumThreads,
  solve,
  solveAsync,
  sqrtm,
  sqrtmAsync,
  tensor,
} from '../dist/index.js';
import { matmul, transpose } from '../dist/backends/js/linalg.js';
import { available, errorCode, firstBitMismatch, freshSeed, relFro, spd } from './helpers.js';

const t64 = (a: ArrayLike<number>, shape: number[]) => tensor(Float64Array.from(a), shape);
const METHODS = ['eigh', 'newtonSchulz', 'denmanBeavers'] as const;

const code = errorCode;

for (const backend of available()) {
  const big = backend === 'js' ? 100 : 300; // the js reference is O(n^3) in plain loops
  describe(`linear algebra on ${backend}`, () => {
    it('sqrtm known answers: [[4, 0], [0, 9]], the identity, 1 x 1, every method', () => {
      for (const method of METHODS) {
        const r = sqrtm(t64([4, 0, 0, 9], [2, 2]), { method, backend });
        expect(relFro(r.sqrt.data, [2, 0, 0, 3]), method).toBeLessThan(1e-14);
        expect(relFro(sqrtm(t64([1, 0, 0, 0, 1, 0, 0, 0, 1], [3, 3]), { method, backend }).sqrt.data, [1, 0, 0, 0, 1, 0, 0, 0, 1])).toBeLessThan(1e-15);
        expect(sqrtm(t64([6.25], [1, 1]), { method, backend }).sqrt.data[0]).toBeCloseTo(2.5, 14);
      }
      expect([...sqrtm(t64([4, 0, 0, 9], [2, 2]), { backend }).sqrt.data]).toEqual([2, 0, 0, 3]);
    });

    it(`sqrtm residual < 1e-10 on random SPD matrices n = 1..${big}, every method, and the inverse`, () => {
      const seed = freshSeed();
      for (const n of [1, 2, 3, 7, 20, 64, big]) {
        const A = t64(spd(n, seed + n), [n, n]);
        for (const method of METHODS) {
          if (method === 'denmanBeavers' && n > 100 && backend !== 'cpu') continue; // 2 LU inverses per step
          const r = sqrtm(A, { method, backend });
          expect(r.residual, `seed=${seed} n=${n} ${method}`).toBeLessThan(1e-10);
          const inv = sqrtm(A, { method, backend, inverse: true });
          expect(inv.residual, `seed=${seed} n=${n} ${method} inverse`).toBeLessThan(1e-10);
        }
      }
    });

    it('sqrtm: cond 1e8, singular, repeated eigenvalues, diagonal, identity, float32', () => {
      const seed = freshSeed();
      const n = 40;
      const cond = (c: number) => t64(spd(n, seed, Array.from({ length: n }, (_, i) => c ** -(i / (n - 1)))), [n, n]);
      for (const method of ['eigh', 'newtonSchulz'] as const)
        expect(sqrtm(cond(1e8), { method, backend }).residual, `seed=${seed} cond 1e8 ${method}`).toBeLessThan(1e-10);
      // Denman-Beavers' limiting accuracy is about 1e-17 cond(A) (README): 1e-10 up to cond 1e6,
      // and at cond 1e8 it reaches a looser tol (never claims what it did not reach)
      expect(sqrtm(cond(1e6), { method: 'denmanBeavers', backend }).residual, `seed=${seed} cond 1e6 DB`).toBeLessThan(1e-10);
      const db8 = sqrtm(cond(1e8), { method: 'denmanBeavers', backend, tol: 1e-8 });
      expect(db8.residual, `seed=${seed} cond 1e8 DB`).toBeLessThan(1e-8);
      expect(code(() => sqrtm(cond(1e8), { method: 'denmanBeavers', backend, tol: 1e-13 }))).toBe('E_NO_CONVERGENCE');
      const sing = spd(n, seed + 1, Array.from({ length: n }, (_, i) => (i < 10 ? 0 : 1 + i)));
      const rs = sqrtm(t64(sing, [n, n]), { backend });
      expect(rs.residual, `seed=${seed} singular`).toBeLessThan(1e-10);
      expect(rs.sqrt.data.every(Number.isFinite)).toBe(true);
      const rep = spd(n, seed + 2, Array.from({ length: n }, (_, i) => (i % 3) + 1));
      for (const method of METHODS) expect(sqrtm(t64(rep, [n, n]), { method, backend }).residual, `seed=${seed} repeated ${method}`).toBeLessThan(1e-10);
      const diag = new Float64Array(n * n);
      for (let i = 0; i < n; i++) diag[i * n + i] = (i + 1) ** 2;
      const rd = sqrtm(t64(diag, [n, n]), { backend }).sqrt.data;
      for (let i = 0; i < n; i++) expect(rd[i * n + i]).toBeCloseTo(i + 1, 12);
      const I = new Float64Array(n * n);
      for (let i = 0; i < n; i++) I[i * n + i] = 1;
      expect([...sqrtm(t64(I, [n, n]), { backend }).sqrt.data]).toEqual([...I]);
      for (const method of METHODS) {
        const f32 = sqrtm(tensor(Float32Array.from(spd(20, seed + 3)), [20, 20]), { method, backend });
        expect(f32.sqrt.dtype).toBe('float32');
        expect(f32.residual, `seed=${seed} float32 ${method}`).toBeLessThan(1e-5);
      }
    });

    it('batches [count, n, n] equal the matrices one by one (sqrtm, cholesky, eigh)', () => {
      const seed = freshSeed();
      for (const n of [3, 17]) {
        const count = 5;
        const mats = Array.from({ length: count }, (_, c) => spd(n, seed + 7 * c));
        const all = new Float64Array(count * n * n);
        mats.forEach((m, c) => all.set(m, c * n * n));
        const A = t64(all, [count, n, n]);
        const r = sqrtm(A, { backend });
        const L = cholesky(A, { backend });
        const e = eigh(A, { backend });
        expect(e.values.shape).toEqual([count, n]);
        for (let c = 0; c < count; c++) {
          const one = t64(mats[c], [n, n]);
          expect([...r.sqrt.data.subarray(c * n * n, (c + 1) * n * n)], `seed=${seed} c=${c}`).toEqual([...sqrtm(one, { backend }).sqrt.data]);
          expect([...L.data.subarray(c * n * n, (c + 1) * n * n)]).toEqual([...cholesky(one, { backend }).data]);
          expect([...e.values.data.subarray(c * n, (c + 1) * n)]).toEqual([...eigh(one, { backend }).values.data]);
        }
        const ns = sqrtm(A, { backend, method: 'newtonSchulz' });
        expect(ns.residual, `seed=${seed}`).toBeLessThan(1e-10);
        expect(ns.iterations).toBeGreaterThan(0);
      }
    });

    it(`eigh, cholesky, logdet and solve reconstruct their input (n up to ${big}) and agree with the js reference`, () => {
      const seed = freshSeed();
      for (const n of [1, 2, 5, 33, 64, big]) {
        const A = spd(n, seed + n);
        const T = t64(A, [n, n]);
        const { values, vectors } = eigh(T, { backend });
        const V = vectors!.data;
        const VD = V.map((v, i) => v * values.data[i % n]);
        expect(relFro(matmul(VD, transpose(V, n, n), n, n, n), A), `seed=${seed} n=${n}`).toBeLessThan(1e-12);
        const VtV = matmul(transpose(V, n, n), V, n, n, n);
        for (let i = 0; i < n; i++) VtV[i * n + i] -= 1;
        expect(Math.sqrt(VtV.reduce((s, x) => s + x * x, 0)), `seed=${seed} n=${n} orthogonality`).toBeLessThan(1e-13 * n + 1e-14);
        for (let i = 1; i < n; i++) expect(values.data[i]).toBeGreaterThanOrEqual(values.data[i - 1]);
        if (backend !== 'js' && n <= 100) {
          const ref = eigh(T, { backend: 'js', vectors: false }).values.data;
          const mx = Math.max(...ref.map(Math.abs));
          ref.forEach((l, i) => expect(Math.abs(values.data[i] - l), `seed=${seed} n=${n} lambda ${i}`).toBeLessThan(1e-12 * mx));
        }
        const vonly = eigh(T, { backend, vectors: false });
        expect(vonly.vectors).toBeUndefined();
        expect(relFro(vonly.values.data, values.data)).toBeLessThan(1e-13);
        const L = cholesky(T, { backend }).data;
        expect(relFro(matmul(L, transpose(L, n, n), n, n, n), A), `seed=${seed} n=${n}`).toBeLessThan(1e-14);
        const ld = values.data.reduce((s, l) => s + Math.log(l), 0);
        expect(Math.abs(logdet(T, { backend }) - ld), `seed=${seed} n=${n}`).toBeLessThan(1e-11 * Math.max(1, Math.abs(ld)));
        const b = normal([n, 3], { seed: seed + 5, dtype: 'float64' });
        const x = solve(T, b, { backend });
        expect(relFro(matmul(A, x.data, n, n, 3), b.data), `seed=${seed} n=${n}`).toBeLessThan(1e-12);
      }
    });

    it('distances and FID agree with the js reference to 1e-12 (full, diagonal, singular S1, singular both)', () => {
      const s = freshSeed();
      for (const dim of [1, 6, 40]) {
        const m1 = normal([dim], { seed: s, dtype: 'float64' });
        const m2 = normal([dim], { seed: s + 9, dtype: 'float64' });
        const A = t64(spd(dim, s + 1), [dim, dim]);
        const B = t64(spd(dim, s + 2), [dim, dim]);
        for (const f of ['w2', 'kl', 'bhattacharyya', 'hellinger'] as const) {
          const ref = gaussian[f](m1, A, m2, B, { backend: 'js' });
          expect(Math.abs(gaussian[f](m1, A, m2, B, { backend }) - ref) / ref, `seed=${s} n=${dim} ${f}`).toBeLessThan(1e-12);
        }
      }
      // fewer samples than dimensions: singular covariances (one side, then both). The trace term
      // takes square roots of eigenvalues that are zero in exact arithmetic and ~eps ||S|| after
      // rounding, so each such eigenvalue moves the result by up to sqrt(eps ||S||) ~ 1e-8 ||S||^1/2
      // on any backend: agreement to 1e-6 relative is what the problem allows (full-rank cases
      // above agree to 1e-12).
      const x = normal([4, 10], { seed: s, dtype: 'float64' });
      const y = normal([30, 10], { seed: s + 1, dtype: 'float64' });
      const z = normal([6, 10], { seed: s + 2, dtype: 'float64', mean: 0.3 });
      for (const [a, b] of [[x, y], [y, x], [x, z]]) {
        const ref = frechetDistance(a, b, { backend: 'js' });
        const got = frechetDistance(a, b, { backend });
        expect(got >= 0 && Number.isFinite(got)).toBe(true);
        expect(Math.abs(got - ref) / ref, `seed=${s}`).toBeLessThan(1e-6);
      }
    });

    it('GaussianStats.update takes float32 and float64 features and equals the js reference', () => {
      const s = freshSeed();
      for (const dtype of ['float32', 'float64'] as const) {
        const x = normal([300, 17], { seed: s, dtype, mean: 5, std: 3 });
        const got = new GaussianStats(17).update(x, { backend });
        const ref = new GaussianStats(17).update(x, { backend: 'js' });
        expect(relFro(got.mean.data, ref.mean.data), `seed=${s} ${dtype}`).toBeLessThan(1e-14);
        expect(relFro(got.covariance.data, ref.covariance.data), `seed=${s} ${dtype}`).toBeLessThan(1e-13);
      }
      const bad = normal([5, 3], { seed: s, dtype: 'float32' });
      bad.data[7] = NaN;
      const kept = new GaussianStats(3).update(normal([4, 3], { seed: s, dtype: 'float32' }), { backend });
      const before = JSON.stringify(kept);
      expect(code(() => kept.update(bad, { backend }))).toBe('E_RANGE');
      expect(JSON.stringify(kept), 'statistics unchanged after E_RANGE').toBe(before);
    });

    it('updateAsync calls in flight apply in order; reading meanwhile is E_ARG', async () => {
      const s = freshSeed();
      const chunks = [0, 1, 2].map((k) => normal([40 + k, 6], { seed: s + k, dtype: 'float64', mean: k }));
      const seq = new GaussianStats(6);
      for (const c of chunks) seq.update(c, { backend });
      const par = new GaussianStats(6);
      const ps = chunks.map((c) => par.updateAsync(c, { backend }));
      expect(code(() => par.covariance)).toBe('E_ARG');
      expect(code(() => par.update(chunks[0], { backend }))).toBe('E_ARG');
      await Promise.all(ps);
      expect(par.count).toBe(seq.count);
      expect([...par.covariance.data], `seed=${s}`).toEqual([...seq.covariance.data]);
      await expect(par.updateAsync(chunks[0], { backend: 'nope' as never })).rejects.toMatchObject({ code: 'E_BACKEND' });
    });

    it('Async forms equal the sync ones', async () => {
      const s = freshSeed();
      const n = 24;
      const A = t64(spd(n, s), [n, n]);
      const B = t64(spd(n, s + 1), [n, n]);
      const mu = normal([n], { seed: s, dtype: 'float64' });
      expect([...(await sqrtmAsync(A, { backend, method: 'newtonSchulz' })).sqrt.data]).toEqual([...sqrtm(A, { backend, method: 'newtonSchulz' }).sqrt.data]);
      expect([...(await eighAsync(A, { backend })).values.data]).toEqual([...eigh(A, { backend }).values.data]);
      expect([...(await choleskyAsync(A, { backend })).data]).toEqual([...cholesky(A, { backend }).data]);
      expect(await logdetAsync(A, { backend })).toBe(logdet(A, { backend }));
      expect([...(await solveAsync(A, B, { backend })).data]).toEqual([...solve(A, B, { backend }).data]);
      for (const f of ['w2', 'kl', 'bhattacharyya', 'hellinger'] as const)
        expect(await gaussian[`${f}Async`](mu, A, mu, B, { backend })).toBe(gaussian[f](mu, A, mu, B, { backend }));
      const x = normal([50, 8], { seed: s, dtype: 'float32' });
      const y = normal([3, 8], { seed: s + 1, dtype: 'float32' });
      expect(await frechetDistanceAsync(x, y, { backend })).toBe(frechetDistance(x, y, { backend }));
      await expect(sqrtmAsync(t64([1, 0, 0, -4], [2, 2]), { backend })).rejects.toMatchObject({ code: 'E_NOT_SPD' });
    });

    it('bad input gives KexueErrors with codes', () => {
      expect(code(() => sqrtm(t64([1, 2, 3, 4, 5, 6], [2, 3]), { backend }))).toBe('E_SHAPE');
      expect(code(() => cholesky(t64([1, 2, 0, 1], [2, 2]), { backend }))).toBe('E_RANGE'); // not symmetric
      expect(code(() => sqrtm(t64([1, NaN, NaN, 1], [2, 2]), { backend }))).toBe('E_RANGE');
      expect(code(() => cholesky(t64([1, 2, 2, 1], [2, 2]), { backend }))).toBe('E_NOT_SPD');
      expect(code(() => cholesky(t64([1, 0, 0, 1, 1, 2, 2, 1], [2, 2, 2]), { backend }))).toBe('E_NOT_SPD');
      expect(code(() => logdet(t64([0, 0, 0, 0], [2, 2]), { backend }))).toBe('E_NOT_SPD');
      expect(code(() => sqrtm(t64([1, 0, 0, -4], [2, 2]), { backend }))).toBe('E_NOT_SPD');
      expect(code(() => sqrtm(t64([1, 0, 0, 0], [2, 2]), { backend, inverse: true }))).toBe('E_NOT_SPD');
      expect(code(() => sqrtm(t64([1, 0, 0, -4], [2, 2]), { backend, method: 'newtonSchulz' }))).toBe('E_NO_CONVERGENCE');
      expect(code(() => sqrtm(t64([-1, 0, 0, -4], [2, 2]), { backend, method: 'denmanBeavers' }))).toBe('E_NO_CONVERGENCE');
      expect(code(() => sqrtm(t64([4, 0, 0, 9], [2, 2]), { backend, method: 'newtonSchulz', maxIterations: 2 }))).toBe('E_NO_CONVERGENCE');
      expect(code(() => solve(t64([1, 2, 2, 4], [2, 2]), t64([1, 1], [2]), { backend }))).toBe('E_RANGE'); // singular
      expect(code(() => solve(t64([1, 0, 0, 1], [2, 2]), t64([1, 1, 1], [3]), { backend }))).toBe('E_SHAPE');
    });
  });
}

describe('cpu: results do not depend on the thread count', () => {
  const has = available().includes('cpu');
  it.skipIf(!has)('sqrtm (every method), eigh, cholesky, solve, featureStats and w2: identical bits with 1 and 2 threads', () => {
    const seed = freshSeed();
    const n = 200;
    const A = t64(spd(n, seed), [n, n]);
    const B = t64(spd(n, seed + 1), [n, n]);
    const x = normal([700, 130], { seed, dtype: 'float32' });
    const run = () => [
      ...METHODS.map((method) => sqrtm(A, { backend: 'cpu', method }).sqrt.data),
      eigh(A, { backend: 'cpu' }).vectors!.data,
      eigh(A, { backend: 'cpu', vectors: false }).values.data,
      cholesky(A, { backend: 'cpu' }).data,
      solve(A, B, { backend: 'cpu' }).data,
      new GaussianStats(130).update(x, { backend: 'cpu' }).covariance.data,
      Float64Array.of(gaussian.w2(A.data.subarray(0, n) as Float64Array, A, B.data.subarray(0, n) as Float64Array, B, { backend: 'cpu' })),
    ];
    const before = getNumThreads();
    try {
      setNumThreads(1);
      const one = run();
      setNumThreads(2);
      const two = run();
      one.forEach((a, i) => expect(firstBitMismatch(a, two[i]), `seed=${seed} output ${i}`).toBe(-1));
    } finally {
      setNumThreads(before);
    }
  });
});
