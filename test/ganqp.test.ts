// GAN-QP and BiGAN-QP: the losses on hand-computed cases, their gradients against central finite
// differences, batching (a batch's loss is the mean of its elements' losses), the d = 0 guard,
// errors, the empirical W2 measure against brute force, and short fixed-seed training runs of
// both models whose W2 to the data falls (plus the tour section's quick run).
// Tolerances: hand-computed answers to 1e-15 (a few roundings); finite differences 1e-7
// relative (the losses are quadratic in the scores, so central differences are exact up to
// rounding ~1e-16 / h with h = 1e-6); batching 1e-14 (sums of a few terms in another order).
import { describe, expect, it } from 'vitest';
import { Tensor, biganQp, ganQp, normal } from '../dist/index.js';
import { sampleRing, sampleW2, trainBiganQp, trainGanQp } from '../dist/ops/gan_train.js';
import { section } from '../dist/tour/sections/ganqp.js';
import { errorCode, freshSeed, relFro } from './helpers.js';

const randn = (n: number, seed: number, stream = 0) => normal([n], { seed, stream, dtype: 'float64' }).data as Float64Array;
const close = (a: number, b: number, tol = 1e-15) => expect(Math.abs(a - b)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b)));

/** Central differences of f at v (each entry in turn). */
function fd(f: (v: Float64Array) => number, v: Float64Array, h = 1e-6): Float64Array {
  const g = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const p = v.slice(), m = v.slice();
    p[i] += h;
    m[i] -= h;
    g[i] = (f(p) - f(m)) / (2 * h);
  }
  return g;
}

describe('ganQp: known answers', () => {
  it('distance: L2 and L1 norms of row differences', () => {
    const a = Float64Array.of(0, 0, 1, 1), b = Float64Array.of(3, 4, 1, -1);
    expect([...ganQp.distance(a, b, { dim: 2 })]).toEqual([5, 2]);
    expect([...ganQp.distance(a, b, { dim: 2, norm: 'l1' })]).toEqual([7, 2]);
    expect([...ganQp.distance(a, b, { dim: 4, norm: 'l1' })]).toEqual([9]);
  });

  it('criticLoss: -mean(dT - dT^2 / (2 lambda d)) and its gradients by hand', () => {
    // dT = [1, 0, -2], d = [1, 2, 4], lambda = 1: terms 1 - 1/2, 0, -2 - 4/8 -> mean -2/3; loss 2/3.
    // dL/dtReal_b = -(1 - dT_b / d_b) / 3 = [0, -1/3, -(1 + 1/2)/3 = -1/2]
    const r = ganQp.criticLoss([1, 0, 0], [0, 0, 2], [1, 2, 4], { lambda: 1 });
    close(r.loss, 2 / 3);
    expect([...r.gradReal].map((v) => v + 0)).toEqual([0, -1 / 3, -0.5]);
    expect([...r.gradFake].map((v) => v + 0)).toEqual([0, 1 / 3, 0.5]);
    // lambda scales the quadratic term: lambda = 2 -> terms 1 - 1/4, 0, -2 - 4/16
    close(ganQp.criticLoss([1, 0, 0], [0, 0, 2], [1, 2, 4], { lambda: 2 }).loss, -(0.75 + 0 - 2.25) / 3);
  });

  it('criticLoss: d = 0 counts as eps (identical samples have dT = 0: the term is 0, the gradient -1/B)', () => {
    const r = ganQp.criticLoss([0.5, 1], [0.5, 0], [0, 1], { lambda: 1 });
    close(r.loss, -(0 + 0.5) / 2);
    expect([...r.gradReal].map((v) => v + 0)).toEqual([-0.5, 0]);
    // a pair critic with dT != 0 at d = 0: a large, finite penalty (the limit d -> 0), not a dropped term
    const big = ganQp.criticLoss([1], [0], [0], { lambda: 1, eps: 1e-6 });
    close(big.loss, -(1 - 1 / 2e-6), 1e-15);
    expect(Number.isFinite(big.gradReal[0])).toBe(true);
  });

  it('generatorLoss: mean(tReal - tFake), gradients 1/B and -1/B', () => {
    const r = ganQp.generatorLoss(Float64Array.of(1, 2, 3, 4), Float64Array.of(0, 0, 1, 1));
    close(r.loss, 2);
    expect([...r.gradReal]).toEqual([0.25, 0.25, 0.25, 0.25]);
    expect([...r.gradFake]).toEqual([-0.25, -0.25, -0.25, -0.25]);
  });
});

describe('gradients against central finite differences', () => {
  it('criticLoss and generatorLoss', () => {
    const seed = freshSeed();
    const B = 7;
    const tr = randn(B, seed, 1), tf = randn(B, seed, 2), d = randn(B, seed, 3).map((v) => 0.1 + Math.abs(v));
    const lambda = 0.7;
    const c = ganQp.criticLoss(tr, tf, d, { lambda });
    expect(relFro(c.gradReal, fd((v) => ganQp.criticLoss(v, tf, d, { lambda }).loss, tr)), `seed ${seed}`).toBeLessThan(1e-7);
    expect(relFro(c.gradFake, fd((v) => ganQp.criticLoss(tr, v, d, { lambda }).loss, tf)), `seed ${seed}`).toBeLessThan(1e-7);
    const g = ganQp.generatorLoss(tr, tf);
    expect(relFro(g.gradReal, fd((v) => ganQp.generatorLoss(v, tf).loss, tr)), `seed ${seed}`).toBeLessThan(1e-7);
    expect(relFro(g.gradFake, fd((v) => ganQp.generatorLoss(tr, v).loss, tf)), `seed ${seed}`).toBeLessThan(1e-7);
  });

  it('biganQp.losses: every gradient of both losses', () => {
    const seed = freshSeed();
    const B = 5, dx = 3, dz = 2;
    const base = {
      tReal: randn(B, seed, 1),
      tFake: randn(B, seed, 2),
      dist: randn(B, seed, 3).map((v) => 0.2 + Math.abs(v)),
      lambda: 1.3,
      z: randn(B * dz, seed, 4),
      zRec: randn(B * dz, seed, 5),
      x: randn(B * dx, seed, 6),
      xRec: randn(B * dx, seed, 7),
      beta1: 0.7,
      beta2: 2.5,
    };
    const L = biganQp.losses(base);
    const gen = (k: 'tReal' | 'tFake' | 'zRec' | 'xRec') => (v: Float64Array) => biganQp.losses({ ...base, [k]: v }).generator.loss;
    const crit = (k: 'tReal' | 'tFake') => (v: Float64Array) => biganQp.losses({ ...base, [k]: v }).critic.loss;
    expect(relFro(L.generator.gradReal, fd(gen('tReal'), base.tReal)), `seed ${seed}`).toBeLessThan(1e-7);
    expect(relFro(L.generator.gradFake, fd(gen('tFake'), base.tFake)), `seed ${seed}`).toBeLessThan(1e-7);
    expect(relFro(L.generator.gradZRec, fd(gen('zRec'), base.zRec)), `seed ${seed}`).toBeLessThan(1e-7);
    expect(relFro(L.generator.gradXRec, fd(gen('xRec'), base.xRec)), `seed ${seed}`).toBeLessThan(1e-7);
    expect(relFro(L.critic.gradReal, fd(crit('tReal'), base.tReal)), `seed ${seed}`).toBeLessThan(1e-7);
    expect(relFro(L.critic.gradFake, fd(crit('tFake'), base.tFake)), `seed ${seed}`).toBeLessThan(1e-7);
    // the parts add up, and the critic part is ganQp.criticLoss on the same scores
    close(L.generator.loss, L.generator.adversarial + 0.7 * L.generator.zReconstruction + 2.5 * L.generator.xReconstruction, 1e-14);
    const c = ganQp.criticLoss(base.tReal, base.tFake, base.dist, { lambda: 1.3 });
    expect(L.critic.loss).toBe(c.loss);
  });
});

describe('biganQp: known answers', () => {
  it('losses by hand and the joint distance', () => {
    // B = 2, dz = 1, dx = 2; tReal - tFake = [1, -1] -> adversarial 0
    // ||z - zRec||^2 = [1, 4] -> mean 2.5; ||x - xRec||^2 = [2, 0] -> mean 1
    const L = biganQp.losses({
      tReal: [1, 0],
      tFake: [0, 1],
      dist: [1, 1],
      lambda: 1,
      z: [0, 0],
      zRec: [1, -2],
      x: [1, 1, 0, 0],
      xRec: [0, 0, 0, 0],
      beta1: 2,
      beta2: 3,
    });
    expect(L.generator.adversarial).toBe(0);
    expect(L.generator.zReconstruction).toBe(2.5);
    expect(L.generator.xReconstruction).toBe(1);
    expect(L.generator.loss).toBe(0 + 2 * 2.5 + 3 * 1);
    // 2 beta (rec - target) / B
    expect([...L.generator.gradZRec]).toEqual([2, -4]);
    expect([...L.generator.gradXRec]).toEqual([-3, -3, 0, 0]);
    // joint distance of (x, z) pairs: rows [0, 0 | 0] vs [3, 0 | 4] and [1, 1 | 1] vs [1, 1 | 1]
    const d = biganQp.jointDistance([0, 0, 1, 1], [0, 1], [3, 0, 1, 1], [4, 1], { dimX: 2, dimZ: 1 });
    expect([...d]).toEqual([5, 0]);
    expect([...biganQp.jointDistance([0, 0, 1, 1], [0, 1], [3, 0, 1, 1], [4, 1], { dimX: 2, dimZ: 1, norm: 'l1' })]).toEqual([7, 0]);
  });
});

describe('batching', () => {
  it('a batch loss is the mean of the single-element losses; the gradients are theirs divided by B', () => {
    const seed = freshSeed();
    const B = 9;
    const tr = randn(B, seed, 1), tf = randn(B, seed, 2), d = randn(B, seed, 3).map((v) => 0.1 + Math.abs(v));
    const all = ganQp.criticLoss(tr, tf, d, { lambda: 0.5 });
    let s = 0;
    for (let b = 0; b < B; b++) {
      const one = ganQp.criticLoss([tr[b]], [tf[b]], [d[b]], { lambda: 0.5 });
      s += one.loss;
      close(all.gradReal[b], one.gradReal[0] / B, 1e-15);
    }
    close(all.loss, s / B, 1e-14);
  });
});

describe('errors', () => {
  it('rejects bad shapes and values', () => {
    expect(errorCode(() => ganQp.distance([1, 2], [1], { dim: 1 }))).toBe('E_SHAPE');
    expect(errorCode(() => ganQp.distance([1, 2, 3], [1, 2, 3], { dim: 2 }))).toBe('E_SHAPE');
    expect(errorCode(() => ganQp.distance([1, 2], [1, 2], { dim: 0 }))).toBe('E_RANGE');
    expect(errorCode(() => ganQp.distance([1, 2], [1, 2], { dim: 1, norm: 'linf' as 'l1' }))).toBe('E_ARG');
    expect(errorCode(() => ganQp.distance([1, NaN], [1, 2], { dim: 1 }))).toBe('E_RANGE');
    expect(errorCode(() => ganQp.distance('ab' as unknown as number[], [1, 2], { dim: 1 }))).toBe('E_DTYPE');
    expect(errorCode(() => ganQp.criticLoss([1], [0], [1], { lambda: 0 }))).toBe('E_RANGE');
    expect(errorCode(() => ganQp.criticLoss([1], [0], [-1], { lambda: 1 }))).toBe('E_RANGE');
    expect(errorCode(() => ganQp.criticLoss([1, 2], [0], [1, 1], { lambda: 1 }))).toBe('E_SHAPE');
    expect(errorCode(() => ganQp.criticLoss([1], [0], [1, 1], { lambda: 1 }))).toBe('E_SHAPE');
    expect(errorCode(() => ganQp.criticLoss([], [], [], { lambda: 1 }))).toBe('E_SHAPE');
    expect(errorCode(() => ganQp.generatorLoss([1], [0, 1]))).toBe('E_SHAPE');
    const ok = { tReal: [1, 0], tFake: [0, 1], dist: [1, 1], lambda: 1, z: [0, 0], zRec: [1, 2], x: [1, 1], xRec: [0, 0], beta1: 1, beta2: 1 };
    expect(errorCode(() => biganQp.losses(ok))).toBe('no error');
    expect(errorCode(() => biganQp.losses({ ...ok, zRec: [1] }))).toBe('E_SHAPE');
    expect(errorCode(() => biganQp.losses({ ...ok, x: [1, 1, 1], xRec: [0, 0, 0] }))).toBe('E_SHAPE');
    expect(errorCode(() => biganQp.losses({ ...ok, beta1: -1 }))).toBe('E_RANGE');
    expect(errorCode(() => biganQp.losses(null as unknown as typeof ok))).toBe('E_ARG');
    expect(errorCode(() => biganQp.jointDistance([1, 2], [1], [1, 2], [1, 2], { dimX: 2, dimZ: 1 }))).toBe('E_SHAPE');
    expect(errorCode(() => trainGanQp({ seed: 1, steps: 0 }))).toBe('E_RANGE');
  });

  it('reads Tensor arguments by their shape and plain arrays as numbers only', () => {
    // [2, 3] with dim 2 was read as 3 rows of 2
    const a = new Tensor(Float64Array.of(0, 0, 0, 1, 1, 1), [2, 3]), b = new Tensor(new Float64Array(6), [2, 3]);
    expect(errorCode(() => ganQp.distance(a, b, { dim: 2 }))).toBe('E_SHAPE');
    expect(() => ganQp.distance(a, b, { dim: 2 })).toThrow(/xReal must be flat or \[rows, dim\] = \[rows, 2\]; got a Tensor \[2, 3\]/);
    expect(Array.from(ganQp.distance(a, b, { dim: 3 }))).toEqual([0, Math.sqrt(3)]);
    expect(Array.from(ganQp.distance(a.reshape([6]), b.reshape([6]), { dim: 3 }))).toEqual([0, Math.sqrt(3)]);
    expect(errorCode(() => ganQp.distance(a.reshape([1, 2, 3]), b, { dim: 3 }))).toBe('E_SHAPE');
    expect(errorCode(() => ganQp.criticLoss(new Tensor(Float64Array.of(1, 2), [1, 2]), [0, 0], [1, 1], { lambda: 1 }))).toBe('E_SHAPE');
    expect(errorCode(() => ganQp.criticLoss(new Tensor(Float64Array.of(1, 2), [2, 1]), [0, 0], [1, 1], { lambda: 1 }))).toBe('no error');
    expect(errorCode(() => ganQp.generatorLoss([1, 2], new Tensor(Float64Array.of(1, 2), [1, 2])))).toBe('E_SHAPE');
    expect(errorCode(() => biganQp.jointDistance(new Tensor(new Float64Array(4), [1, 4]), [1, 2], [0, 0, 0, 0], [0, 0], { dimX: 2, dimZ: 1 }))).toBe('E_SHAPE');
    const ok = { tReal: [1, 0], tFake: [0, 1], dist: [1, 1], lambda: 1, z: [0, 0], zRec: [1, 2], x: [1, 1, 2, 2], xRec: [0, 0, 0, 0], beta1: 1, beta2: 1 };
    expect(errorCode(() => biganQp.losses({ ...ok, x: new Tensor(Float64Array.of(1, 1, 2, 2), [2, 2]) }))).toBe('no error');
    expect(errorCode(() => biganQp.losses({ ...ok, x: new Tensor(Float64Array.of(1, 1, 2, 2), [4, 1]) }))).toBe('E_SHAPE');
    // strings and booleans were coerced by Float64Array.from ('3' -> 3, true -> 1)
    expect(errorCode(() => ganQp.distance(['3', 1] as unknown as number[], [1, 2], { dim: 1 }))).toBe('E_DTYPE');
    expect(() => ganQp.distance(['3', 1] as unknown as number[], [1, 2], { dim: 1 })).toThrow(/xReal\[0\] must be a number/);
    expect(errorCode(() => ganQp.generatorLoss([true, 0] as unknown as number[], [0, 0]))).toBe('E_DTYPE');
    expect(errorCode(() => biganQp.losses({ ...ok, z: [0, null] as unknown as number[] }))).toBe('E_DTYPE');
  });

  it('sampleW2 refuses NaN and infinite entries (the assignment never ended on them)', () => {
    expect(errorCode(() => sampleW2(Float64Array.of(NaN, 0, 1, 1), Float64Array.of(0, 0, 1, 1), 2))).toBe('E_RANGE');
    expect(() => sampleW2(Float64Array.of(NaN, 0, 1, 1), Float64Array.of(0, 0, 1, 1), 2)).toThrow(/^sampleW2: a must be finite; element 0 is NaN$/);
    expect(errorCode(() => sampleW2(Float64Array.of(0, 0, 1, 1), Float64Array.of(0, 0, Infinity, 1), 2))).toBe('E_RANGE');
    expect(errorCode(() => sampleW2(Float64Array.of(0, 0, 1, 1), Float64Array.of(0, 0, 1, -Infinity), 2))).toBe('E_RANGE');
  });

  it('the trainers check every option before running a step', () => {
    const base = { seed: 1, steps: 2, batch: 4, hidden: 4, evalSamples: 4 };
    let calls = 0;
    const progress = () => void calls++;
    const bad: [string, () => unknown, string, RegExp][] = [
      ['onProgress', () => trainGanQp({ ...base, onProgress: 1 as never }), 'E_ARG', /^trainGanQp: onProgress must be a function/],
      ['norm', () => trainGanQp({ ...base, norm: 'l3' as never, onProgress: progress }), 'E_ARG', /^trainGanQp: norm must be 'l1' or 'l2'; got .*l3/],
      ['latent 0', () => trainGanQp({ ...base, latent: 0, onProgress: progress }), 'E_RANGE', /^trainGanQp: latent must be an integer in \[1, 1024\]; got 0/],
      ['latent 1.5', () => trainGanQp({ ...base, latent: 1.5, onProgress: progress }), 'E_RANGE', /latent.*1\.5/],
      ['modes', () => trainGanQp({ ...base, data: { modes: 0 }, onProgress: progress }), 'E_RANGE', /^trainGanQp: data\.modes/],
      ['std', () => trainGanQp({ ...base, data: { std: -1 }, onProgress: progress }), 'E_RANGE', /^trainGanQp: data\.std must be a finite number >= 0; got -1/],
      ['radius', () => trainGanQp({ ...base, data: { radius: NaN }, onProgress: progress }), 'E_RANGE', /^trainGanQp: data\.radius/],
      ['data', () => trainGanQp({ ...base, data: 3 as never, onProgress: progress }), 'E_ARG', /^trainGanQp: data must be an object/],
      ['adamBeta1', () => trainGanQp({ ...base, adamBeta1: 2, onProgress: progress }), 'E_RANGE', /^trainGanQp: adamBeta1/],
      ['snapshot 1.5', () => trainGanQp({ ...base, snapshotSteps: [1.5], onProgress: progress }), 'E_RANGE', /^trainGanQp: snapshotSteps\[0\] must be an integer in \[0, 2\]; got 1\.5/],
      ['snapshot 7', () => trainGanQp({ ...base, snapshotSteps: [1, 7], onProgress: progress }), 'E_RANGE', /snapshotSteps\[1\]/],
      ['snapshot not array', () => trainGanQp({ ...base, snapshotSteps: 1 as never, onProgress: progress }), 'E_ARG', /snapshotSteps must be an array/],
      ['seed', () => trainGanQp({ ...base, seed: -1, onProgress: progress }), 'E_RANGE', /^trainGanQp: seed/],
      ['backend', () => trainGanQp({ ...base, backend: 'tpu' as never, onProgress: progress }), 'E_BACKEND', /^trainGanQp: backend/],
      ['batch', () => trainGanQp({ ...base, batch: 1, onProgress: progress }), 'E_RANGE', /^trainGanQp: batch/],
      ['bigan beta1', () => trainBiganQp({ ...base, beta1: -1, onProgress: progress }), 'E_RANGE', /^trainBiganQp: beta1 must be a finite number >= 0; got -1/],
      ['bigan beta2', () => trainBiganQp({ ...base, beta2: Infinity, onProgress: progress }), 'E_RANGE', /^trainBiganQp: beta2/],
      ['bigan std', () => trainBiganQp({ ...base, std: NaN, onProgress: progress }), 'E_RANGE', /^trainBiganQp: std must be a finite number >= 0; got NaN/],
      ['bigan norm', () => trainBiganQp({ ...base, norm: 'linf' as never, onProgress: progress }), 'E_ARG', /^trainBiganQp: norm/],
    ];
    for (const [what, run, code, msg] of bad) {
      expect(errorCode(run), what).toBe(code);
      expect(run, what).toThrow(msg);
    }
    expect(calls).toBe(0);
    // the same options with good values run (and call onProgress once per step)
    const r = trainGanQp({ ...base, seed: 1n, snapshotSteps: [1], onProgress: progress });
    expect(calls).toBe(2);
    expect(r.snapshots.map((x) => x.step)).toEqual([0, 1, 2]);
  });
});

describe('sampleW2 (exact empirical W2)', () => {
  it('is 0 for a permutation, the shift length for a shifted sample, and the brute-force minimum', () => {
    const seed = freshSeed();
    const n = 6;
    const a = randn(2 * n, seed, 1);
    const perm = [3, 0, 5, 1, 4, 2];
    const pa = new Float64Array(2 * n);
    perm.forEach((p, i) => pa.set(a.subarray(2 * p, 2 * p + 2), 2 * i));
    expect(sampleW2(a, pa, 2)).toBe(0);
    close(sampleW2(a, a.map((v, i) => v + (i % 2 === 0 ? 3 : 4)), 2), 5, 1e-14);
    const b = randn(2 * n, seed, 2);
    let best = Infinity;
    const rec = (i: number, used: number, s: number) => {
      if (i === n) return void (best = Math.min(best, s));
      for (let j = 0; j < n; j++)
        if (!(used & (1 << j))) rec(i + 1, used | (1 << j), s + (a[2 * i] - b[2 * j]) ** 2 + (a[2 * i + 1] - b[2 * j + 1]) ** 2);
    };
    rec(0, 0, 0);
    close(sampleW2(a, b, 2), Math.sqrt(best / n), 1e-14);
  });
});

describe('training (fixed seeds)', () => {
  it('GAN-QP on 8 Gaussians: W2(generated, real) falls below 0.75 of its start in 300 steps', () => {
    const r = trainGanQp({ seed: 7, steps: 300, batch: 64, hidden: 32, lr: 3e-3, evalEvery: 150 });
    const [h0, h1] = [r.history[0], r.history.at(-1)!];
    expect(h1.step).toBe(300);
    expect(h1.w2, JSON.stringify(r.history)).toBeLessThan(0.75 * h0.w2);
    expect(h1.w2Gaussian, JSON.stringify(r.history)).toBeLessThan(h0.w2Gaussian);
    expect(r.snapshots.map((s) => s.step)).toEqual([0, 300]);
    // the real evaluation sample is the ring: radii near 2
    const real = r.real;
    for (let i = 0; i < real.length / 2; i++) expect(Math.abs(Math.hypot(real[2 * i], real[2 * i + 1]) - 2)).toBeLessThan(0.4);
    expect(sampleRing(4, 7, 3)).toEqual(sampleRing(4, 7, 3));
  });

  it('BiGAN-QP on a curve with a 1-D latent: W2 falls below 0.75 of its start and the reconstruction error below 0.3', () => {
    const r = trainBiganQp({ seed: 11, steps: 100, batch: 64, hidden: 32, evalEvery: 50 });
    const [h0, h1] = [r.history[0], r.history.at(-1)!];
    expect(h1.w2, JSON.stringify(r.history)).toBeLessThan(0.75 * h0.w2);
    expect(h1.reconstruction!, JSON.stringify(r.history)).toBeLessThan(0.3 * h0.reconstruction!);
    expect(r.encoder!.dims).toEqual([2, 32, 32, 1]);
  });

  it('the tour section (quick) passes its claims and draws its plots', async () => {
    const plots: string[] = [];
    const rows = await section.run({
      quick: true,
      outDir: '/nonexistent',
      progress: () => {},
      plot: async (file, spec) => {
        expect(spec.data).toBeDefined();
        plots.push(file);
        return file;
      },
      note: () => {},
    });
    expect(rows.length).toBe(3);
    for (const row of rows) expect(row.pass, `${row.claim}: ${row.computed}`).toBe(true);
    expect(plots).toEqual(['ganqp_samples.svg', 'biganqp_samples.svg', 'ganqp_w2.svg']);
  });
});
