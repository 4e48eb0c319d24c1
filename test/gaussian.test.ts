// Matrix square roots and Gaussian distances on the default backend (every backend in
// gaussian_backends.test.ts). Random SPD matrices come from fresh seeds printed on failure.
import { describe, expect, it } from 'vitest';
import { GaussianStats, cholesky, eigh, frechetDistance, gaussian, logdet, normal, solve, sqrtm, tensor } from '../dist/index.js';
import { matmul, transpose } from '../dist/backends/js/linalg.js';
import { errorCode, fastBackends, freshSeed, relFro, spd } from './helpers.js';

const t64 = (a: ArrayLike<number>, shape: number[]) => tensor(Float64Array.from(a), shape);

describe('sqrtm', () => {
  it('known answers: sqrtm([[4, 0], [0, 9]]) = [[2, 0], [0, 3]], the identity, 1 x 1', () => {
    expect([...sqrtm(t64([4, 0, 0, 9], [2, 2])).sqrt.data]).toEqual([2, 0, 0, 3]);
    for (const method of ['eigh', 'newtonSchulz', 'denmanBeavers'] as const) {
      const r = sqrtm(t64([4, 0, 0, 9], [2, 2]), { method });
      expect(relFro(r.sqrt.data, [2, 0, 0, 3]), method).toBeLessThan(1e-14);
    }
    expect([...sqrtm(t64([1, 0, 0, 0, 1, 0, 0, 0, 1], [3, 3])).sqrt.data]).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 1]);
    expect([...sqrtm(t64([6.25], [1, 1])).sqrt.data]).toEqual([2.5]);
  });

  it('residual below 1e-10 (float64) on random SPD matrices of sizes 1..100, every method', () => {
    const seed = freshSeed();
    for (const n of [1, 2, 3, 7, 20, 64, 100]) {
      const A = t64(spd(n, seed + n), [n, n]);
      for (const method of ['eigh', 'newtonSchulz', 'denmanBeavers'] as const) {
        const r = sqrtm(A, { method });
        expect(r.residual, `seed=${seed} n=${n} ${method}`).toBeLessThan(1e-10);
        const inv = sqrtm(A, { method, inverse: true });
        expect(inv.residual, `seed=${seed} n=${n} ${method} inverse`).toBeLessThan(1e-10);
      }
    }
  });

  it('badly conditioned (cond 1e8), singular, repeated eigenvalues, diagonal and float32', () => {
    const seed = freshSeed();
    const n = 30;
    const lams = Array.from({ length: n }, (_, i) => 10 ** (-8 * (i / (n - 1))));
    expect(sqrtm(t64(spd(n, seed, lams), [n, n])).residual, `seed=${seed} cond 1e8`).toBeLessThan(1e-10);
    const sing = spd(n, seed + 1, Array.from({ length: n }, (_, i) => (i < 10 ? 0 : 1 + i)));
    const rs = sqrtm(t64(sing, [n, n]));
    expect(rs.residual, `seed=${seed} singular`).toBeLessThan(1e-10);
    expect(rs.sqrt.data.every(Number.isFinite)).toBe(true);
    const rep = spd(n, seed + 2, Array.from({ length: n }, (_, i) => (i % 3) + 1));
    expect(sqrtm(t64(rep, [n, n])).residual, `seed=${seed} repeated`).toBeLessThan(1e-10);
    const diag = new Float64Array(n * n);
    for (let i = 0; i < n; i++) diag[i * n + i] = (i + 1) ** 2;
    const rd = sqrtm(t64(diag, [n, n])).sqrt.data;
    for (let i = 0; i < n; i++) expect(rd[i * n + i]).toBeCloseTo(i + 1, 12);
    const f32 = sqrtm(tensor(Float32Array.from(spd(20, seed + 3)), [20, 20]));
    expect(f32.sqrt.dtype).toBe('float32');
    expect(f32.residual, `seed=${seed} float32`).toBeLessThan(1e-5);
  });

  it('a non-symmetric matrix with positive eigenvalues (Denman-Beavers, Newton-Schulz) and batches', () => {
    const A = t64([4, 1, 0, 9], [2, 2]); // triangular: eigenvalues 4 and 9
    const r = sqrtm(A);
    expect(r.residual).toBeLessThan(1e-12);
    expect(r.iterations).toBeGreaterThan(0);
    expect(sqrtm(A, { method: 'newtonSchulz' }).residual).toBeLessThan(1e-12);
    const batch = sqrtm(t64([4, 0, 0, 9, 1, 0, 0, 16], [2, 2, 2]));
    expect([...batch.sqrt.data]).toEqual([2, 0, 0, 3, 1, 0, 0, 4]);
  });
});

describe('building blocks', () => {
  it('cholesky, eigh, logdet and solve reconstruct their input', () => {
    const seed = freshSeed();
    const n = 25;
    const A = spd(n, seed);
    const L = cholesky(t64(A, [n, n])).data;
    expect(relFro(matmul(L, transpose(L, n, n), n, n, n), A), `seed=${seed}`).toBeLessThan(1e-14);
    const { values, vectors } = eigh(t64(A, [n, n]));
    const V = vectors!.data;
    const VD = V.map((v, i) => v * values.data[i % n]);
    expect(relFro(matmul(VD, transpose(V, n, n), n, n, n), A), `seed=${seed}`).toBeLessThan(1e-13);
    for (let i = 1; i < n; i++) expect(values.data[i]).toBeGreaterThanOrEqual(values.data[i - 1]);
    const ld = values.data.reduce((s, l) => s + Math.log(l), 0);
    expect(Math.abs(logdet(t64(A, [n, n])) - ld)).toBeLessThan(1e-12 * Math.max(1, Math.abs(ld)));
    const b = normal([n, 3], { seed: seed + 5, dtype: 'float64' });
    const x = solve(t64(A, [n, n]), b);
    expect(relFro(matmul(A, x.data, n, n, 3), b.data), `seed=${seed}`).toBeLessThan(1e-13);
    expect(eigh(t64(A, [n, n]), { vectors: false }).vectors).toBeUndefined();
  });

  it('log-determinants of large matrices do not overflow', () => {
    const n = 400;
    const A = new Float64Array(n * n);
    for (let i = 0; i < n; i++) A[i * n + i] = 1e3; // det = 1e1200
    expect(logdet(t64(A, [n, n]))).toBeCloseTo(n * Math.log(1e3), 9);
  });
});

describe('Gaussian distances', () => {
  const seed = freshSeed();
  const n = 12;
  const mu1 = normal([n], { seed, dtype: 'float64' });
  const mu2 = normal([n], { seed: seed + 1, dtype: 'float64' });
  const S1 = t64(spd(n, seed + 2), [n, n]);
  const S2 = t64(spd(n, seed + 3), [n, n]);

  it('W2 equals the closed form computed through explicit square roots', () => {
    const R = sqrtm(S1).sqrt.data;
    const inner = sqrtm(t64(matmul(matmul(R, S2.data, n, n, n), R, n, n, n), [n, n])).sqrt.data;
    let tr = 0, dd = 0;
    for (let i = 0; i < n; i++) {
      tr += S1.data[i * n + i] + S2.data[i * n + i] - 2 * inner[i * n + i];
      dd += (mu1.data[i] - mu2.data[i]) ** 2;
    }
    const w = gaussian.w2(mu1, S1, mu2, S2);
    expect(Math.abs(w - (dd + tr)) / (dd + tr), `seed=${seed}`).toBeLessThan(1e-12);
    expect(gaussian.w2(mu1, S1, mu2, S2, { root: true })).toBeCloseTo(Math.sqrt(w), 12);
  });

  for (const backend of fastBackends()) {
    it(`W2 on ${backend} equals the js reference to 1e-12, and a singular S1 takes the eigh route`, () => {
      const s = freshSeed();
      for (const dim of [1, 5, 60, 150]) {
        const m1 = normal([dim], { seed: s, dtype: 'float64' });
        const A = t64(spd(dim, s + 1), [dim, dim]);
        const B = t64(spd(dim, s + 2), [dim, dim]);
        const ref = gaussian.w2(m1, A, m1, B, { backend: 'js' });
        expect(Math.abs(gaussian.w2(m1, A, m1, B, { backend }) - ref) / ref, `seed=${s} n=${dim} ${backend}`).toBeLessThan(1e-12);
      }
      const x = normal([4, 10], { seed: s, dtype: 'float64' });
      const y = normal([30, 10], { seed: s + 1, dtype: 'float64' });
      const fidJs = frechetDistance(x, y, { backend: 'js' });
      // singular covariance: sqrt of rounding-level eigenvalues bounds the agreement (see gaussian_backends.test.ts)
      expect(Math.abs(frechetDistance(x, y, { backend }) - fidJs) / fidJs, `seed=${s}`).toBeLessThan(1e-6);
    });
  }

  it('KL and Bhattacharyya equal their closed forms through eigh and explicit inverses; Hellinger = 1 - exp(-B)', () => {
    const inv = (A: Float64Array) => solve(t64(A, [n, n]), t64(Array.from({ length: n * n }, (_, i) => (i % (n + 1) === 0 ? 1 : 0)), [n, n])).data;
    const ldet = (A: Float64Array) => eigh(t64(A, [n, n]), { vectors: false }).values.data.reduce((s, l) => s + Math.log(l), 0);
    const S2i = inv(S2.data);
    const d = mu2.data.map((m, i) => m - mu1.data[i]);
    let tr = 0, q = 0;
    const P = matmul(S2i, S1.data, n, n, n);
    for (let i = 0; i < n; i++) tr += P[i * n + i];
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) q += d[i] * S2i[i * n + j] * d[j];
    const kl = 0.5 * (tr + q - n + ldet(S2.data) - ldet(S1.data));
    expect(Math.abs(gaussian.kl(mu1, S1, mu2, S2) - kl) / kl, `seed=${seed}`).toBeLessThan(1e-12);
    const S = S1.data.map((x, i) => (x + S2.data[i]) / 2);
    const Si = inv(S);
    let qb = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) qb += d[i] * Si[i * n + j] * d[j];
    const bh = qb / 8 + 0.5 * (ldet(S) - 0.5 * (ldet(S1.data) + ldet(S2.data)));
    expect(Math.abs(gaussian.bhattacharyya(mu1, S1, mu2, S2) - bh) / bh, `seed=${seed}`).toBeLessThan(1e-12);
    expect(gaussian.hellinger(mu1, S1, mu2, S2)).toBeCloseTo(1 - Math.exp(-bh), 14);
  });

  it('known answers: 1-D W2 = (mu1 - mu2)^2 + (s1 - s2)^2, KL of identical Gaussians = 0, commuting and diagonal cases', () => {
    expect(gaussian.w2(t64([1], [1]), t64([4], [1, 1]), t64([3], [1]), t64([9], [1, 1]))).toBeCloseTo(5, 14);
    expect(gaussian.kl(mu1, S1, mu1, S1)).toBeCloseTo(0, 12);
    expect(gaussian.w2(mu1, S1, mu1, S1)).toBeCloseTo(0, 10);
    const a = Array.from({ length: n }, (_, i) => 1 + i), b = Array.from({ length: n }, (_, i) => 2 + (i % 4));
    const diag = (v: number[]) => t64(Array.from({ length: n * n }, (_, k) => (k % (n + 1) === 0 ? v[k / (n + 1)] : 0)), [n, n]);
    for (const f of ['w2', 'kl', 'bhattacharyya', 'hellinger'] as const) {
      const viaDiag = gaussian[f](mu1, t64(a, [n]), mu2, t64(b, [n]));
      const viaFull = gaussian[f](mu1, diag(a), mu2, diag(b));
      expect(Math.abs(viaDiag - viaFull) / Math.abs(viaFull), f).toBeLessThan(1e-12);
    }
    // commuting full covariances: W2 trace term = ||S1^1/2 - S2^1/2||_F^2
    const C1 = t64(spd(n, seed + 9, a), [n, n]);
    const C2 = t64(spd(n, seed + 9, b), [n, n]); // same eigenvectors
    const R1 = sqrtm(C1).sqrt.data, R2 = sqrtm(C2).sqrt.data;
    const fro = R1.reduce((s, x, i) => s + (x - R2[i]) ** 2, 0);
    expect(Math.abs(gaussian.w2(mu1, C1, mu1, C2) - fro) / fro, `seed=${seed}`).toBeLessThan(1e-10);
  });

  it('FID is never negative or NaN, also with fewer samples than dimensions; identical sets give 0', () => {
    const s = freshSeed();
    for (const [m, dim] of [[5, 20], [3, 50], [100, 10]]) {
      const x = normal([m, dim], { seed: s, dtype: 'float64' });
      const y = normal([m + 2, dim], { seed: s + 1, dtype: 'float64', mean: 0.1 });
      const fid = frechetDistance(x, y);
      expect(Number.isFinite(fid) && fid >= 0, `seed=${s} m=${m} n=${dim} fid=${fid}`).toBe(true);
      expect(frechetDistance(x, x)).toBeGreaterThanOrEqual(0);
      expect(frechetDistance(x, x)).toBeLessThan(1e-8);
    }
  });

  it('GaussianStats merged in any order equals the one-pass statistics to 1e-12 relative; JSON round trip', () => {
    const s = freshSeed();
    const dim = 9;
    const x = normal([200, dim], { seed: s, dtype: 'float64', mean: 3, std: 2 });
    const one = new GaussianStats(dim).update(x);
    const parts = [0, 7, 50, 51, 130, 200];
    const chunks = parts.slice(1).map((end, i) => new GaussianStats(dim).update(tensor(x.data.slice(parts[i] * dim, end * dim), [end - parts[i], dim])));
    for (const order of [[0, 1, 2, 3, 4], [4, 3, 2, 1, 0], [2, 0, 4, 1, 3]]) {
      const m = new GaussianStats(dim);
      for (const k of order) m.merge(chunks[k]);
      expect(m.count).toBe(200);
      expect(relFro(m.mean.data, one.mean.data), `seed=${s}`).toBeLessThan(1e-12);
      expect(relFro(m.covariance.data, one.covariance.data), `seed=${s}`).toBeLessThan(1e-12);
    }
    const back = GaussianStats.fromJSON(JSON.parse(JSON.stringify(one)));
    expect([...back.covariance.data]).toEqual([...one.covariance.data]);
    expect(frechetDistance(one, back)).toBeLessThan(1e-10);
  });
});

describe('bad input', () => {
  const code = errorCode;
  it('non-square, non-symmetric, non-finite, not SPD, no convergence, mismatched dimensions', () => {
    expect(code(() => sqrtm(t64([1, 2, 3, 4, 5, 6], [2, 3])))).toBe('E_SHAPE');
    expect(code(() => cholesky(t64([1, 2, 0, 1], [2, 2])))).toBe('E_RANGE'); // not symmetric
    expect(code(() => eigh(t64([1, 2, 3, 1], [2, 2])))).toBe('E_RANGE');
    expect(code(() => sqrtm(t64([1, NaN, NaN, 1], [2, 2])))).toBe('E_RANGE');
    expect(code(() => sqrtm(t64([1, 0, 0, Infinity], [2, 2])))).toBe('E_RANGE');
    expect(code(() => cholesky(t64([1, 2, 2, 1], [2, 2])))).toBe('E_NOT_SPD');
    expect(code(() => logdet(t64([0, 0, 0, 0], [2, 2])))).toBe('E_NOT_SPD');
    expect(code(() => sqrtm(t64([1, 0, 0, -4], [2, 2])))).toBe('E_NOT_SPD');
    expect(code(() => sqrtm(t64([1, 0, 0, -4], [2, 2]), { method: 'newtonSchulz' }))).toBe('E_NO_CONVERGENCE');
    expect(code(() => sqrtm(t64([-1, 0, 0, -4], [2, 2]), { method: 'denmanBeavers' }))).toBe('E_NO_CONVERGENCE'); // no real square root
    expect(sqrtm(t64([0, 1, -1, 0], [2, 2])).residual).toBeLessThan(1e-14); // a rotation has one: the half rotation
    expect(code(() => sqrtm(t64([1, 0, 0, 1], [2, 2]), { method: 'magic' as never }))).toBe('E_ARG');
    expect(code(() => gaussian.w2(t64([0, 0], [2]), t64([1, 0, 0, 1], [2, 2]), t64([0, 0, 0], [3]), t64([1, 0, 0, 0, 1, 0, 0, 0, 1], [3, 3])))).toBe('E_SHAPE');
    expect(code(() => gaussian.kl(t64([0, 0], [2]), t64([1, 0, 0, 0], [2, 2]), t64([0, 0], [2]), t64([1, 0, 0, 1], [2, 2])))).toBe('E_NOT_SPD');
    expect(code(() => frechetDistance(normal([4, 3], { seed: 1 }), normal([4, 5], { seed: 1 })))).toBe('E_SHAPE');
    expect(code(() => new GaussianStats(3).update(normal([4, 5], { seed: 1 })))).toBe('E_SHAPE');
    expect(code(() => GaussianStats.fromJSON({ kexue: 'nope' }))).toBe('E_ARG');
  });
});
