// Statistical checks with fixed seeds. Each bound is set so that a truly random generator would
// fail it with the stated probability (the false-alarm rate, alpha); with fixed seeds a test either
// always passes or always fails, so a failure means a real change in the samples.
// They run on the fastest available backend: the identity tests show the others give the same bits.
import { describe, expect, it } from 'vitest';
import { bernoulli, dropout, dropTokens, getBackend, maeMask, mlmMask, normal, tensor, uniform } from '../dist/index.js';

const N = 1 << 20;

/** Kolmogorov-Smirnov statistic of sorted samples against a CDF. */
function ks(sorted: ArrayLike<number>, cdf: (x: number) => number): number {
  const n = sorted.length;
  let d = 0;
  for (let i = 0; i < n; i++) {
    const f = cdf(sorted[i]);
    d = Math.max(d, (i + 1) / n - f, f - i / n);
  }
  return d;
}

/** Asymptotic KS critical value: P(D > c / sqrt(n)) ~= alpha for c = sqrt(-ln(alpha / 2) / 2). */
const ksCritical = (n: number, alpha: number) => Math.sqrt(-Math.log(alpha / 2) / 2) / Math.sqrt(n);

/** Standard normal CDF via erfc (Numerical Recipes' erfc, relative error < 1.2e-7). */
function normCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? 1 - r / 2 : r / 2;
}

/** Upper critical value of chi-square with k degrees of freedom (Wilson-Hilferty), z = normal quantile. */
const chi2Critical = (k: number, z: number) => k * (1 - 2 / (9 * k) + z * Math.sqrt(2 / (9 * k))) ** 3;
const Z_1E4 = 3.719; // one-sided normal quantile for alpha = 1e-4
const Z_1E6 = 4.753; // for alpha = 1e-6

describe(`sampling statistics (on the ${getBackend()} backend)`, () => {
  it('uniform float32 and float64 pass Kolmogorov-Smirnov (alpha = 1e-4 each)', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const u = uniform([N], { seed: 20261129, dtype }).data.slice().sort();
      expect(u[0]).toBeGreaterThanOrEqual(0);
      expect(u[N - 1]).toBeLessThan(1);
      expect(ks(u, (x) => x), dtype).toBeLessThan(ksCritical(N, 1e-4));
    }
  });

  it('normal has the right moments (alpha = 1e-6 each) and passes KS (alpha = 1e-4)', () => {
    const z = normal([N], { seed: 7, dtype: 'float64' }).data;
    let m1 = 0;
    for (const v of z) m1 += v;
    m1 /= N;
    let m2 = 0, m3 = 0, m4 = 0;
    for (const v of z) {
      const d = v - m1;
      m2 += d * d;
      m3 += d * d * d;
      m4 += d * d * d * d;
    }
    m2 /= N;
    const skew = m3 / N / m2 ** 1.5;
    const exKurt = m4 / N / (m2 * m2) - 3;
    // Standard errors for N(0, 1): mean 1/sqrt(N), variance sqrt(2/N), skewness sqrt(6/N), kurtosis sqrt(24/N).
    const zz = 4.892; // two-sided alpha = 1e-6
    expect(Math.abs(m1)).toBeLessThan(zz / Math.sqrt(N));
    expect(Math.abs(m2 - 1)).toBeLessThan(zz * Math.sqrt(2 / N));
    expect(Math.abs(skew)).toBeLessThan(zz * Math.sqrt(6 / N));
    expect(Math.abs(exKurt)).toBeLessThan(zz * Math.sqrt(24 / N));
    expect(ks(z.slice().sort(), normCdf)).toBeLessThan(ksCritical(N, 1e-4) + 2e-7);
    // mean and std are applied as mean + std * z
    const y = normal([8], { seed: 7, dtype: 'float64', mean: 3, std: 0.5 }).data;
    y.forEach((v, i) => expect(v).toBe(3 + 0.5 * z[i]));
  });

  it('bernoulli(p) equals uniform < p and has mean p (alpha = 1e-6)', () => {
    const p = 0.3;
    const b = bernoulli([N], { p, seed: 11 }).data;
    const u = uniform([N], { seed: 11 }).data;
    let ones = 0, bad = -1;
    for (let i = 0; i < N; i++) {
      if (bad < 0 && b[i] !== (u[i] < p ? 1 : 0)) bad = i;
      ones += b[i];
    }
    expect(bad, 'first element where bernoulli != (uniform < p)').toBe(-1);
    expect(Math.abs(ones / N - p)).toBeLessThan(4.892 * Math.sqrt((p * (1 - p)) / N));
    expect(bernoulli([100], { p: 0, seed: 1 }).data.every((v) => v === 0)).toBe(true);
    expect(bernoulli([100], { p: 1, seed: 1 }).data.every((v) => v === 1)).toBe(true);
  });

  it('dropout keeps 1 - p of the elements, scales them by 1 / (1 - p), and E[output] = x (alpha = 1e-6)', () => {
    const p = 0.1;
    const x = tensor(new Float32Array(N).fill(1.5));
    const { output, mask } = dropout(x, { p, seed: 3 });
    const u = uniform([N], { seed: 3 }).data;
    let kept = 0, sum = 0, bad = -1;
    const scaled = Math.fround(1.5 * Math.fround(1 / (1 - p)));
    for (let i = 0; i < N; i++) {
      if (bad < 0 && (mask.data[i] !== (u[i] >= p ? 1 : 0) || !Object.is(output.data[i], mask.data[i] ? scaled : 0))) bad = i;
      kept += mask.data[i];
      sum += output.data[i];
    }
    expect(bad, 'first element where mask != (uniform >= p) or output != x * mask / (1 - p)').toBe(-1);
    const sd = Math.sqrt((p * (1 - p)) / N);
    expect(Math.abs(kept / N - (1 - p))).toBeLessThan(4.892 * sd);
    // E[output] = x: mean(output) / 1.5 - 1 has standard deviation sqrt(p / ((1 - p) N))
    expect(Math.abs(sum / N / 1.5 - 1)).toBeLessThan(4.892 * Math.sqrt(p / ((1 - p) * N)));
    // outside training, the identity
    const ev = dropout(x, { p, seed: 3, training: false });
    expect(ev.output.data).toEqual(x.data);
    expect(ev.output.data).not.toBe(x.data);
    expect(ev.mask.data.every((v) => v === 1)).toBe(true);
  });

  it('mlmMask selects maskProb of the non-special tokens and splits them 80/10/10 (chi-square, alpha = 1e-4 each)', () => {
    const vocab = 64;
    const special = [0, 1, 2, 3]; // PAD, CLS, SEP, MASK
    const MASK = 3;
    const n = N;
    const ids = new Int32Array(n);
    const u = uniform([n], { seed: 99 }).data;
    for (let i = 0; i < n; i++) ids[i] = Math.floor(u[i] * vocab); // ~1/16 special
    const { inputIds, labels } = mlmMask(tensor(ids, [1024, 1024]), { vocabSize: vocab, maskTokenId: MASK, specialTokenIds: special, seed: 5 });
    expect(inputIds.shape).toEqual([1024, 1024]);
    let eligible = 0, selected = 0;
    const counts = [0, 0, 0]; // mask, random, keep
    const randomIds = new Float64Array(vocab);
    const problems: string[] = [];
    for (let i = 0; i < n; i++) {
      const isSpecial = special.includes(ids[i]);
      if (isSpecial) {
        if (labels.data[i] !== -100 || inputIds.data[i] !== ids[i]) problems.push(`special token changed at ${i}`);
        continue;
      }
      eligible++;
      if (labels.data[i] === -100) {
        if (inputIds.data[i] !== ids[i]) problems.push(`unselected token changed at ${i}`);
        continue;
      }
      if (labels.data[i] !== ids[i]) problems.push(`label != original id at ${i}`);
      selected++;
      const out = inputIds.data[i];
      if (out === MASK) counts[0]++;
      else if (out === ids[i]) counts[2]++; // kept (a random draw equal to the original also lands here)
      else {
        counts[1]++;
        if (special.includes(out)) problems.push(`random replacement ${out} is special at ${i}`);
        randomIds[out]++;
      }
    }
    expect(problems.slice(0, 5)).toEqual([]);
    const pSel = 0.15;
    expect(Math.abs(selected / eligible - pSel)).toBeLessThan(4.892 * Math.sqrt((pSel * (1 - pSel)) / eligible));
    // A random replacement equal to the original id counts as "keep": 1/60 of the random branch.
    const pSame = 1 / (vocab - special.length);
    const expected = [0.8, 0.1 * (1 - pSame), 0.1 + 0.1 * pSame].map((q) => q * selected);
    const chi2 = counts.reduce((s, c, k) => s + (c - expected[k]) ** 2 / expected[k], 0);
    expect(chi2).toBeLessThan(chi2Critical(2, Z_1E4));
    // the random replacements are uniform over the 60 non-special ids (given != original, each
    // id's probability is proportional to how often it is not the original)
    const nonSpecial = [...Array(vocab).keys()].filter((v) => !special.includes(v));
    const total = nonSpecial.reduce((s, v) => s + randomIds[v], 0);
    const chiIds = nonSpecial.reduce((s, v) => s + (randomIds[v] - total / nonSpecial.length) ** 2 / (total / nonSpecial.length), 0);
    expect(chiIds).toBeLessThan(chi2Critical(nonSpecial.length - 1, Z_1E6));
  });

  it('maeMask keeps round(N (1 - r)) tokens per sample, idsRestore inverts the shuffle, and the noise is uniform()', () => {
    const batch = 16, tokens = 196, ratio = 0.75;
    const { idsKeep, idsRestore, mask } = maeMask({ batch, tokens, ratio, seed: 21, stream: 2 });
    const keep = Math.round(tokens * (1 - ratio));
    expect(idsKeep.shape).toEqual([batch, keep]);
    const noise = uniform([batch, tokens], { seed: 21, stream: 2 }).data;
    for (let b = 0; b < batch; b++) {
      const restore = idsRestore.data.subarray(b * tokens, (b + 1) * tokens);
      // the shuffle is argsort(noise) (stable); idsRestore is its inverse permutation
      const shuffle = Array.from({ length: tokens }, (_, i) => i).sort((i, j) => noise[b * tokens + i] - noise[b * tokens + j] || i - j);
      for (let r = 0; r < tokens; r++) expect(restore[shuffle[r]]).toBe(r);
      expect(Array.from(idsKeep.data.subarray(b * keep, (b + 1) * keep))).toEqual(shuffle.slice(0, keep));
      let dropped = 0;
      for (let t = 0; t < tokens; t++) {
        expect(mask.data[b * tokens + t]).toBe(restore[t] >= keep ? 1 : 0);
        dropped += mask.data[b * tokens + t];
      }
      expect(dropped).toBe(tokens - keep);
    }
  });

  it('dropTokens keeps the rows maeMask keeps, in order, with their positions', () => {
    const batch = 4, tokens = 50, dim = 3;
    const x = uniform([batch, tokens, dim], { seed: 1 });
    const { output, positions } = dropTokens(x, { ratio: 0.15, seed: 8 });
    const keep = Math.round(tokens * 0.85);
    expect(output.shape).toEqual([batch, keep, dim]);
    const { idsKeep } = maeMask({ batch, tokens, ratio: 0.15, seed: 8 });
    for (let b = 0; b < batch; b++) {
      const pos = Array.from(positions.data.subarray(b * keep, (b + 1) * keep));
      expect(pos).toEqual(Array.from(idsKeep.data.subarray(b * keep, (b + 1) * keep)).sort((a, c) => a - c));
      pos.forEach((t, k) => {
        for (let j = 0; j < dim; j++) expect(output.data[(b * keep + k) * dim + j]).toBe(x.data[(b * tokens + t) * dim + j]);
      });
    }
  });
});
