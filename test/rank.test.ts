// singularValues (one-sided Jacobi) and attentionRank: matrices built with known singular values
// (tiny ones included, where A^T A would lose them), rectangular shapes, and the decoder-only
// argument of techniques.md section 2: a causal attention matrix always has full numerical rank,
// while a bidirectional one with identical keys has rank 1.
import { describe, expect, it } from 'vitest';
import { attention, attentionRank, normal, singularValues, tensor } from '../dist/index.js';
import { matmul, transpose } from '../dist/backends/js/linalg.js';
import { errorCode, freshSeed, orthogonal } from './helpers.js';

describe('singularValues', () => {
  it('returns known singular values, the tiny ones too (relative 1e-12 of the largest)', () => {
    const seed = freshSeed();
    for (const [m, n] of [[12, 12], [15, 9], [7, 11]]) {
      const k = Math.min(m, n);
      const s = Array.from({ length: k }, (_, i) => 10 ** (-10 * (i / (k - 1))));
      const U = orthogonal(m, seed), V = orthogonal(n, seed + 1);
      const S = new Float64Array(m * n);
      for (let i = 0; i < k; i++) S[i * n + i] = s[i];
      const A = matmul(matmul(U, S, m, m, n), transpose(V, n, n), m, n, n);
      const got = singularValues(tensor(A, [m, n]));
      expect(got.length).toBe(k);
      s.forEach((v, i) => expect(Math.abs(got[i] - v), `seed=${seed} ${m}x${n} sigma_${i}`).toBeLessThan(1e-13));
      for (let i = 1; i < k; i++) expect(got[i]).toBeLessThanOrEqual(got[i - 1]);
    }
    expect([...singularValues(tensor(Float64Array.of(3, 0, 0, -4), [2, 2]))]).toEqual([4, 3]);
    expect(errorCode(() => singularValues(tensor(Float64Array.of(1, NaN), [1, 2])))).toBe('E_RANGE');
  });
});

describe('attentionRank', () => {
  it('a causal attention matrix has full numerical rank; identical keys without a mask give rank 1', () => {
    const seed = freshSeed();
    const N = 48, D = 8;
    const q = normal([1, 1, N, D], { seed, dtype: 'float64' });
    const k = normal([1, 1, N, D], { seed: seed + 1, dtype: 'float64' });
    // moderate scores (scale 0.1): the triangle's diagonal (its eigenvalues) stays well above rounding
    const causal = attention(q, k, k, { mask: 'causal', returnProbs: true, scale: 0.1 }).probs!;
    const rc = attentionRank(tensor(causal.data as Float64Array, [N, N]));
    expect(rc.rank, `seed=${seed}`).toBe(N);
    const same = tensor(Float64Array.from({ length: N * D }, (_, i) => k.data[i % D]), [1, 1, N, D]);
    const bi = attention(q, same, same, { mask: 'none', returnProbs: true }).probs!;
    const rb = attentionRank(tensor(bi.data as Float64Array, [N, N]));
    expect(rb.rank, `seed=${seed}`).toBe(1);
    expect(rb.effectiveRank).toBeCloseTo(1, 6);
    expect(rc.effectiveRank).toBeGreaterThan(rb.effectiveRank);
  });
});
