// sectorProbability (techniques.md section 7): the stated exact cases, the closed form against a
// direct double-precision sum where that sum is accurate (small n), monotonicity and range for
// n up to 1000, and a Monte-Carlo check on Philox angles. The Monte-Carlo test uses a z = 4.5
// interval on 12 grid points: a false alarm has probability below 1e-4 per run.
import { describe, expect, it } from 'vitest';
import { sectorProbability, uniform } from '../dist/index.js';
import { errorCode, freshSeed } from './helpers.js';

const TWO_PI = 2 * Math.PI;

/** The alternating sum in plain doubles: accurate while its terms stay small (n <= 12). */
function direct(n: number, theta: number): number {
  const x = theta / TWO_PI;
  let s = 0, binom = n;
  for (let k = 1; k * (1 - x) < 1; k++) {
    s += (k % 2 ? 1 : -1) * binom * (1 - k * (1 - x)) ** (n - 1);
    binom = (binom * (n - k)) / (k + 1);
  }
  return s;
}

describe('sectorProbability', () => {
  it('the stated cases: 3 points in a half-disc 3/4, 4 points 1/2, n = 2 beyond pi 1, 1 from 2 pi (1 - 1/n)', () => {
    expect(sectorProbability(3, Math.PI)).toBe(0.75);
    expect(sectorProbability(4, Math.PI)).toBe(0.5);
    expect(sectorProbability(2, 3.5)).toBe(1);
    for (const n of [2, 3, 7, 100, 1000]) {
      expect(sectorProbability(n, TWO_PI * (1 - 1 / n))).toBe(1);
      expect(sectorProbability(n, TWO_PI)).toBe(1);
      expect(sectorProbability(n, 0)).toBe(0);
    }
    expect(sectorProbability(1, 0.1)).toBe(1);
  });

  it('equals the direct sum for small n (1e-12), and 3/16 for 3 points in a quarter disc', () => {
    for (let n = 2; n <= 12; n++)
      for (let i = 1; i < 40; i++) {
        const theta = (TWO_PI * i) / 40;
        expect(Math.abs(sectorProbability(n, theta) - direct(n, theta)), `n=${n} theta=${theta}`).toBeLessThan(1e-12);
      }
    // theta <= pi: only k = 1, so P = n x^(n-1); at n = 3 and theta = pi / 2 that is 3/16
    expect(sectorProbability(3, Math.PI / 2)).toBe(3 / 16);
  });

  it('stays in [0, 1] and grows with theta for n up to 1000 (no cancellation blow-up)', () => {
    for (const n of [5, 50, 300, 1000]) {
      let prev = 0;
      for (let i = 1; i <= 200; i++) {
        const p = sectorProbability(n, (TWO_PI * i) / 200);
        expect(p >= 0 && p <= 1, `n=${n} i=${i} p=${p}`).toBe(true);
        expect(p, `n=${n} i=${i}`).toBeGreaterThanOrEqual(prev - 1e-15);
        prev = p;
      }
    }
    // a value checked with exact rational arithmetic (Python fractions on the same doubles)
    expect(sectorProbability(1000, TWO_PI * 0.995)).toBeCloseTo(0.9993736088703836, 15);
    expect(sectorProbability(300, TWO_PI * 0.98)).toBeCloseTo(0.5263018481380382, 15);
  });

  it('agrees with Monte Carlo on Philox angles (largest circular gap >= 2 pi - theta)', () => {
    const seed = freshSeed();
    const trials = 20000;
    const grid: [number, number][] = [[3, 2], [3, 4], [5, 3.5], [5, 5], [10, 4.5], [10, 5.5], [20, 5.2], [20, 5.8], [50, 5.9], [50, 6.1], [4, Math.PI], [7, 4.8]];
    grid.forEach(([n, theta], g) => {
      const u = uniform([trials * n], { seed, stream: g, dtype: 'float64' }).data;
      let hits = 0;
      const a = new Float64Array(n);
      for (let t = 0; t < trials; t++) {
        for (let i = 0; i < n; i++) a[i] = TWO_PI * u[t * n + i];
        a.sort();
        let gap = TWO_PI - a[n - 1] + a[0];
        for (let i = 1; i < n; i++) gap = Math.max(gap, a[i] - a[i - 1]);
        if (gap >= TWO_PI - theta) hits++;
      }
      const p = sectorProbability(n, theta);
      const est = hits / trials;
      const sd = Math.sqrt(Math.max(p * (1 - p), 1e-12) / trials);
      expect(Math.abs(est - p), `seed=${seed} n=${n} theta=${theta} estimate ${est} closed form ${p}`).toBeLessThan(4.5 * sd + 1e-12);
    });
  });

  it('bad input', () => {
    expect(errorCode(() => sectorProbability(0, 1))).toBe('E_RANGE');
    expect(errorCode(() => sectorProbability(2.5, 1))).toBe('E_RANGE');
    expect(errorCode(() => sectorProbability(3, NaN))).toBe('E_RANGE');
  });
});
