// Training kernels of the built-in MLP (mlpForward, mlpBackward, adam) and their public ops:
// a hand-computed network, backward against central finite differences for every activation,
// every available backend against the js reference, batch and thread-count invariance, Adam's
// update rule, mlpInit's distributions, the async forms and argument errors.
// Tolerances: backends vs js 1e-12 relative (float64 everywhere; the kernels may sum in other
// orders within a row or use SIMD, but every sum is of at most a few hundred terms); Adam is
// elementwise with its bias corrections computed once in JS, so it is compared bit for bit;
// finite differences 1e-6 relative (central differences with h = 1e-5 have O(h^2) truncation
// error, ~1e-9 here, plus rounding ~1e-16 / h).
import { describe, expect, it } from 'vitest';
import {
  Adam,
  backends,
  getNumThreads,
  mlp,
  mlpBackward,
  mlpBackwardAsync,
  mlpForward,
  mlpForwardAsync,
  mlpInit,
  normal,
  setNumThreads,
  tensor,
  type MlpActivation,
} from '../dist/index.js';
import { errorCode, firstBitMismatch, freshSeed, relFro } from './helpers.js';

const trainBackends = backends().filter((b) => b.available && b.ops.includes('mlpForward')).map((b) => b.name);
const adamBackends = backends().filter((b) => b.available && b.ops.includes('adam')).map((b) => b.name);
const ACTS: MlpActivation[] = ['identity', 'relu', 'gelu', 'tanh', 'sigmoid'];

function randomNet(seed: number, dims: number[], acts: MlpActivation[]) {
  const m = mlpInit(dims, acts, { seed, init: 'pytorch' });
  // non-zero biases everywhere (pytorch init) and a wider spread than the init for the test
  for (let i = 0; i < m.params.length; i++) m.params[i] *= 1.5;
  return m;
}

const randn = (n: number, seed: number, stream = 0) => normal([n], { seed, stream, dtype: 'float64' }).data as Float64Array;

/** sum(output * r): its gradient with respect to the output is r. */
function lossOf(model: ReturnType<typeof mlpInit>, x: Float64Array, r: Float64Array): number {
  const y = mlpForward(model, x, { backend: 'js' }).output;
  let s = 0;
  for (let i = 0; i < y.length; i++) s += y[i] * r[i];
  return s;
}

describe('mlpForward / mlpBackward: known answers', () => {
  // x = [1, 2]; W1 = [[1, -1], [2, 0.5]], b1 = [0, 1] -> z1 = [-1, 4], a1 = relu = [0, 4];
  // W2 = [[3, 0.5]], b2 = [0.25] -> y = 2.25. With dL/dy = 1: dW2 = a1 = [0, 4], db2 = 1,
  // da1 = [3, 0.5], dz1 = [0, 0.5], dW1 = dz1 x^T = [[0, 0], [0.5, 1]], db1 = [0, 0.5],
  // dx = W1^T dz1 = [1, 0.25].
  const net = mlp({
    layers: [
      { weight: tensor(Float64Array.of(1, -1, 2, 0.5), [2, 2]), bias: tensor(Float64Array.of(0, 1), [2]), activation: 'relu' },
      { weight: tensor(Float64Array.of(3, 0.5), [1, 2]), bias: tensor(Float64Array.of(0.25), [1]) },
    ],
  });
  for (const backend of trainBackends)
    it(`a 2-2-1 relu network by hand (${backend})`, () => {
      const { output, cache } = mlpForward(net, tensor(Float64Array.of(1, 2), [1, 2]), { backend });
      expect([...output]).toEqual([2.25]);
      expect([...cache.acts]).toEqual([-1, 4, 0, 4, 2.25, 2.25]);
      const g = mlpBackward(net, cache, Float64Array.of(1), { inputGrad: true, backend });
      expect([...g.gradParams]).toEqual([0, 0, 0.5, 1, 0, 0.5, 0, 4, 1]);
      expect([...g.gradInput!]).toEqual([1, 0.25]);
    });
});

describe('mlpBackward against central finite differences', () => {
  const cases: [string, MlpActivation[]][] = [
    ...ACTS.map((a) => [a, [a, a, 'identity']] as [string, MlpActivation[]]),
    ['softmax output', ['tanh', 'gelu', 'softmax']],
  ];
  for (const [name, acts] of cases)
    it(`${name}: parameter and input gradients`, () => {
      const seed = freshSeed();
      const dims = [3, 5, 4, 3];
      const net = randomNet(seed, dims, acts);
      const B = 4;
      const x = randn(B * 3, seed, 1), r = randn(B * 3, seed, 2);
      const { cache } = mlpForward(net, x, { backend: 'js' });
      const g = mlpBackward(net, cache, r, { inputGrad: true, backend: 'js' });
      const h = 1e-5;
      const fdP = new Float64Array(net.params.length);
      for (let i = 0; i < net.params.length; i++) {
        const p = net.params[i];
        net.params[i] = p + h;
        const up = lossOf(net, x, r);
        net.params[i] = p - h;
        const dn = lossOf(net, x, r);
        net.params[i] = p;
        fdP[i] = (up - dn) / (2 * h);
      }
      const fdX = new Float64Array(x.length);
      for (let i = 0; i < x.length; i++) {
        const xp = x.slice(), xm = x.slice();
        xp[i] += h;
        xm[i] -= h;
        fdX[i] = (lossOf(net, xp, r) - lossOf(net, xm, r)) / (2 * h);
      }
      expect(relFro(g.gradParams, fdP), `seed ${seed}`).toBeLessThan(1e-6);
      expect(relFro(g.gradInput!, fdX), `seed ${seed}`).toBeLessThan(1e-6);
    });
});

describe('every backend against the js reference', () => {
  const configs: { dims: number[]; acts: MlpActivation[]; B: number }[] = [
    { dims: [2, 64, 64, 1], acts: ['relu', 'relu', 'identity'], B: 128 },
    { dims: [7, 33, 5], acts: ['gelu', 'softmax'], B: 37 },
    { dims: [4, 17, 9, 3], acts: ['tanh', 'sigmoid', 'identity'], B: 1 },
    { dims: [3, 1], acts: ['identity'], B: 300 },
  ];
  for (const backend of trainBackends.filter((b) => b !== 'js'))
    for (const { dims, acts, B } of configs)
      it(`${backend}: [${dims.join(', ')}] ${acts.join('/')} batch ${B}: forward, backward and input gradient within 1e-12`, () => {
        const seed = freshSeed();
        const net = randomNet(seed, dims, acts);
        const x = randn(B * dims[0], seed, 1), go = randn(B * dims.at(-1)!, seed, 2);
        const ref = mlpForward(net, x, { backend: 'js' }), got = mlpForward(net, x, { backend });
        expect(relFro(got.cache.acts, ref.cache.acts), `seed ${seed}`).toBeLessThan(1e-12);
        const gr = mlpBackward(net, ref.cache, go, { inputGrad: true, backend: 'js' });
        const gg = mlpBackward(net, ref.cache, go, { inputGrad: true, backend });
        expect(relFro(gg.gradParams, gr.gradParams), `seed ${seed}`).toBeLessThan(1e-12);
        expect(relFro(gg.gradInput!, gr.gradInput!), `seed ${seed}`).toBeLessThan(1e-12);
        // without the input gradient the parameter gradient is the same bits
        const gp = mlpBackward(net, ref.cache, go, { backend });
        expect(gp.gradInput).toBeUndefined();
        expect(firstBitMismatch(gp.gradParams, gg.gradParams), `seed ${seed}`).toBe(-1);
      });
  for (const backend of adamBackends.filter((b) => b !== 'js'))
    it(`${backend}: 5 Adam(W) steps are bit-identical to js`, () => {
      const seed = freshSeed();
      const n = 1001;
      const p0 = randn(n, seed, 1);
      const pa = p0.slice(), pb = p0.slice();
      const a = new Adam(pa, { lr: 0.01, weightDecay: 0.1 }), b = new Adam(pb, { lr: 0.01, weightDecay: 0.1 });
      for (let s = 0; s < 5; s++) {
        const g = randn(n, seed, 10 + s);
        if (s === 2) g.fill(0, 0, 100); // zero gradients too
        a.step(g, { backend: 'js' });
        b.step(g, { backend });
      }
      expect(firstBitMismatch(pb, pa), `seed ${seed}`).toBe(-1);
    });
});

describe('invariances', () => {
  it('a batch equals its rows one by one (forward bits) and its gradient is the sum of theirs (1e-12)', () => {
    const seed = freshSeed();
    const net = randomNet(seed, [3, 8, 2], ['gelu', 'identity']);
    const B = 5;
    const x = randn(B * 3, seed, 1), go = randn(B * 2, seed, 2);
    for (const backend of trainBackends) {
      const all = mlpForward(net, x, { backend });
      const sum = new Float64Array(net.params.length);
      for (let b = 0; b < B; b++) {
        const one = mlpForward(net, x.subarray(b * 3, b * 3 + 3), { backend });
        expect(firstBitMismatch(one.output, all.output.subarray(b * 2, b * 2 + 2)), `${backend} seed ${seed}`).toBe(-1);
        const g = mlpBackward(net, one.cache, go.subarray(b * 2, b * 2 + 2), { backend }).gradParams;
        for (let i = 0; i < sum.length; i++) sum[i] += g[i];
      }
      expect(relFro(mlpBackward(net, all.cache, go, { backend }).gradParams, sum), `${backend} seed ${seed}`).toBeLessThan(1e-12);
    }
  });

  if (trainBackends.includes('cpu'))
    it('cpu: 1 and 2 threads give the same bits (forward, backward)', () => {
      const seed = freshSeed();
      const net = randomNet(seed, [2, 64, 64, 3], ['relu', 'tanh', 'identity']);
      const B = 301;
      const x = randn(B * 2, seed, 1), go = randn(B * 3, seed, 2);
      const before = getNumThreads();
      const run = (t: number) => {
        setNumThreads(t);
        const f = mlpForward(net, x, { backend: 'cpu' });
        return [f.cache.acts, mlpBackward(net, f.cache, go, { inputGrad: true, backend: 'cpu' })] as const;
      };
      try {
        const [a1, g1] = run(1);
        const [a2, g2] = run(2);
        expect(firstBitMismatch(a1, a2), `seed ${seed}`).toBe(-1);
        expect(firstBitMismatch(g1.gradParams, g2.gradParams), `seed ${seed}`).toBe(-1);
        expect(firstBitMismatch(g1.gradInput!, g2.gradInput!), `seed ${seed}`).toBe(-1);
      } finally {
        setNumThreads(before);
      }
    });

  it('the cache keeps the parameters of its forward pass (an optimiser step in between does not change the gradient)', () => {
    const seed = freshSeed();
    const net = randomNet(seed, [2, 4, 1], ['tanh', 'identity']);
    const x = randn(6, seed, 1), go = randn(3, seed, 2);
    const f = mlpForward(net, x, { backend: 'js' });
    const g0 = mlpBackward(net, f.cache, go, { backend: 'js' }).gradParams;
    new Adam(net.params, { lr: 0.1 }).step(g0);
    expect(firstBitMismatch(mlpBackward(net, f.cache, go, { backend: 'js' }).gradParams, g0)).toBe(-1);
  });
});

describe('Adam', () => {
  it('the first step moves each parameter by lr against the sign of its gradient (bias correction)', () => {
    const p = Float64Array.of(1, -2, 0.5);
    const opt = new Adam(p, { lr: 0.1 });
    opt.step(Float64Array.of(0.5, -3, 1e-3));
    // m^ = g, v^ = g^2: the step is lr g / (|g| + eps) = lr sign(g) to 1e-8 / |g| relative
    expect(Math.abs(p[0] - 0.9)).toBeLessThan(1e-8);
    expect(Math.abs(p[1] + 1.9)).toBeLessThan(1e-8);
    expect(Math.abs(p[2] - (0.5 - (0.1 * 1e-3) / (1e-3 + 1e-8)))).toBeLessThan(1e-15);
    expect(opt.t).toBe(1);
  });

  it('follows the AdamW formula step by step (an independent loop, bit for bit) and reset() restarts it', () => {
    const seed = freshSeed();
    const n = 50, lr = 0.02, b1 = 0.8, b2 = 0.99, eps = 1e-6, wd = 0.01;
    const p = randn(n, seed, 1), q = p.slice();
    const m = new Float64Array(n), v = new Float64Array(n);
    const opt = new Adam(p, { lr, beta1: b1, beta2: b2, eps, weightDecay: wd });
    for (let t = 1; t <= 4; t++) {
      const g = randn(n, seed, 100 + t);
      opt.step(g);
      const bc1 = 1 - b1 ** t, bc2 = 1 - b2 ** t;
      for (let i = 0; i < n; i++) {
        m[i] = b1 * m[i] + (1 - b1) * g[i];
        v[i] = b2 * v[i] + (1 - b2) * (g[i] * g[i]);
        q[i] = q[i] - lr * (wd * q[i] + m[i] / bc1 / (Math.sqrt(v[i] / bc2) + eps));
      }
      expect(firstBitMismatch(p, q), `step ${t} seed ${seed}`).toBe(-1);
    }
    opt.reset();
    expect(opt.t).toBe(0);
    const r = p.slice();
    opt.step(Float64Array.from({ length: n }, () => 1));
    for (let i = 0; i < n; i++) expect(Math.abs(r[i] - lr * (wd * r[i] + 1 / (1 + eps)) - p[i])).toBeLessThan(1e-15);
  });

  it('stepAsync equals step and trains an Mlp in place', async () => {
    const seed = freshSeed();
    const a = randn(20, seed), b = a.slice();
    const g = randn(20, seed, 1);
    const oa = new Adam(a), ob = new Adam(b);
    oa.step(g);
    const pending = ob.stepAsync(g);
    expect(errorCode(() => ob.step(g))).toBe('E_ARG');
    await pending;
    expect(firstBitMismatch(a, b)).toBe(-1);
    expect(ob.t).toBe(1);
    // regression on y = 2 x - 1 with a 1-1 identity network: the loss falls
    const net = mlpInit([1, 1], 'identity', { seed });
    const opt = new Adam(net.params, { lr: 0.05 });
    const x = Float64Array.from({ length: 16 }, (_, i) => i / 8 - 1);
    const loss = () => mlpForward(net, x).output.reduce((s, y, i) => s + (y - (2 * x[i] - 1)) ** 2, 0);
    const l0 = loss();
    for (let s = 0; s < 300; s++) {
      const f = mlpForward(net, x);
      opt.step(mlpBackward(net, f.cache, f.output.map((y, i) => (2 * (y - (2 * x[i] - 1))) / 16)).gradParams);
    }
    expect(loss()).toBeLessThan(1e-3 * l0);
  });
});

describe('mlpInit', () => {
  it('is reproducible, and each init draws from its stated distribution', () => {
    const seed = freshSeed();
    const a = mlpInit([100, 200, 10], 'relu', { seed });
    expect(firstBitMismatch(a.params, mlpInit([100, 200, 10], 'relu', { seed }).params)).toBe(-1);
    expect(firstBitMismatch(a.params, mlpInit([100, 200, 10], 'relu', { seed, stream: 1 }).params)).not.toBe(-1);
    expect(a.activations).toEqual(['relu', 'identity']);
    const W1 = a.params.subarray(0, 20000), b1 = a.params.subarray(20000, 20200);
    const sd = Math.sqrt(W1.reduce((s, w) => s + w * w, 0) / W1.length);
    // 20000 normal draws: the sample std is within 2% of sqrt(2 / 100) with overwhelming probability
    expect(Math.abs(sd / Math.sqrt(2 / 100) - 1), `seed ${seed}`).toBeLessThan(0.02);
    expect(b1.every((v) => v === 0)).toBe(true);
    const x = mlpInit([100, 200, 10], ['tanh', 'identity'], { seed, init: 'xavier' });
    const ax = Math.sqrt(6 / 300);
    expect(x.params.subarray(0, 20000).every((w) => Math.abs(w) <= ax)).toBe(true);
    expect(Math.max(...x.params.subarray(0, 20000).map(Math.abs))).toBeGreaterThan(0.99 * ax);
    const p = mlpInit([100, 200, 10], ['tanh', 'identity'], { seed, init: 'pytorch' });
    const k = 1 / Math.sqrt(100);
    expect(p.params.subarray(0, 20200).every((w) => Math.abs(w) <= k)).toBe(true);
    expect(Math.max(...p.params.subarray(20000, 20200).map(Math.abs))).toBeGreaterThan(0.9 * k);
  });

  it('rejects bad arguments', () => {
    expect(errorCode(() => mlpInit([3], 'relu', { seed: 1 }))).toBe('E_SHAPE');
    expect(errorCode(() => mlpInit([3, 0, 1], 'relu', { seed: 1 }))).toBe('E_SHAPE');
    expect(errorCode(() => mlpInit([3, 4, 1], ['relu'], { seed: 1 }))).toBe('E_SHAPE');
    expect(errorCode(() => mlpInit([3, 4, 1], 'swish' as MlpActivation, { seed: 1 }))).toBe('E_ARG');
    expect(errorCode(() => mlpInit([3, 4, 1], ['softmax', 'identity'], { seed: 1 }))).toBe('E_ARG');
    expect(errorCode(() => mlpInit([3, 4, 1], 'relu', {} as { seed: number }))).toBe('E_ARG');
    expect(errorCode(() => mlpInit([3, 4, 1], 'relu', { seed: 1, init: 'lecun' as 'he' }))).toBe('E_ARG');
    // a single activation is validated too (it used to be accepted and passed on as is)
    expect(errorCode(() => mlpInit([2, 3], 5 as unknown as MlpActivation, { seed: 1 }))).toBe('E_ARG');
    expect(errorCode(() => mlpInit([2, 3, 4], 'swish' as MlpActivation, { seed: 1 }))).toBe('E_ARG');
    expect(errorCode(() => mlpInit([2, 3], 'relu', { seed: -1 }))).toBe('E_RANGE');
    expect(errorCode(() => mlpInit([2, 3], 'relu', { seed: 1.5 }))).toBe('E_RANGE');
  });

  it('a single activation applies to the hidden layers, and to the only layer of a one-layer net', () => {
    const seed = freshSeed();
    const x = randn(6, seed, 1);
    for (const act of ['softmax', 'sigmoid', 'relu'] as const) {
      const one = mlpInit([2, 3], act, { seed });
      expect(one.activations).toEqual([act]);
      const ref = mlpInit([2, 3], [act], { seed });
      expect(firstBitMismatch(mlpForward(one, x).output, mlpForward(ref, x).output), `seed ${seed} ${act}`).toBe(-1);
    }
    // softmax rows sum to 1 (it was silently replaced by identity before)
    const y = mlpForward(mlpInit([2, 3], 'softmax', { seed }), x).output;
    for (let r = 0; r < 3; r++) expect(y[3 * r] + y[3 * r + 1] + y[3 * r + 2]).toBeCloseTo(1, 14);
    expect(mlpInit([2, 3, 4], 'tanh', { seed }).activations).toEqual(['tanh', 'identity']);
  });

  it('refuses more than 2^28 parameters up front, naming mlpInit and the count', () => {
    expect(errorCode(() => mlpInit([1 << 20, 1 << 20], 'relu', { seed: 1 }))).toBe('E_RANGE');
    expect(() => mlpInit([1 << 20, 1 << 20], 'relu', { seed: 1 })).toThrow(/^mlpInit: dims \[1048576, 1048576\] need 1099512676352 parameters; the limit is 2\^28 = 268435456$/);
  });
});

describe('async forms and errors', () => {
  it('mlpForwardAsync and mlpBackwardAsync equal the sync forms on every backend', async () => {
    const seed = freshSeed();
    const net = randomNet(seed, [3, 6, 2], ['sigmoid', 'softmax']);
    const x = randn(12, seed, 1), go = randn(8, seed, 2);
    for (const backend of trainBackends) {
      const s = mlpForward(net, x, { backend });
      const a = await mlpForwardAsync(net, x, { backend });
      expect(firstBitMismatch(a.output, s.output), backend).toBe(-1);
      const gs = mlpBackward(net, s.cache, go, { inputGrad: true, backend });
      const ga = await mlpBackwardAsync(net, a.cache, go, { inputGrad: true, backend });
      expect(firstBitMismatch(ga.gradParams, gs.gradParams), backend).toBe(-1);
      expect(firstBitMismatch(ga.gradInput!, gs.gradInput!), backend).toBe(-1);
    }
  });

  it('rejects bad shapes, values and caches with clear codes', () => {
    const net = mlpInit([3, 4, 2], 'relu', { seed: 1 });
    const other = mlpInit([3, 5, 2], 'relu', { seed: 1 });
    const { cache } = mlpForward(net, new Float64Array(6));
    expect(errorCode(() => mlpForward(net, new Float64Array(7)))).toBe('E_SHAPE');
    expect(errorCode(() => mlpForward(net, tensor(new Float64Array(8), [2, 4])))).toBe('E_SHAPE');
    expect(errorCode(() => mlpForward(net, new Float64Array(6), { batch: 3 }))).toBe('E_SHAPE');
    expect(errorCode(() => mlpForward(net, new Float64Array(0)))).toBe('E_SHAPE');
    expect(errorCode(() => mlpForward(net, Float64Array.of(1, 2, NaN)))).toBe('E_RANGE');
    expect(errorCode(() => mlpForward(net, new Int32Array(3) as unknown as Float64Array))).toBe('E_DTYPE');
    expect(errorCode(() => mlpForward({} as typeof net, new Float64Array(3)))).toBe('E_ARG');
    expect(errorCode(() => mlpForward(net, new Float64Array(3), { backend: 'tpu' as 'js' }))).toBe('E_BACKEND');
    expect(errorCode(() => mlpBackward(net, cache, new Float64Array(3)))).toBe('E_SHAPE');
    expect(errorCode(() => mlpBackward(other, cache, new Float64Array(4)))).toBe('E_ARG');
    expect(errorCode(() => mlpBackward(net, {} as typeof cache, new Float64Array(4)))).toBe('E_ARG');
    expect(errorCode(() => mlpBackward(net, cache, new Float64Array(4), { inputGrad: 1 as unknown as boolean }))).toBe('E_ARG');
    // a Tensor gradOutput must be [batch, d_L] (or flat): [2, 2] holds the right count but [d_L, batch]-like shapes are refused
    expect(errorCode(() => mlpBackward(net, cache, tensor(new Float64Array(4), [2, 2])))).toBe('no error');
    expect(errorCode(() => mlpBackward(net, cache, tensor(new Float64Array(4), [4])))).toBe('no error');
    expect(errorCode(() => mlpBackward(net, cache, tensor(new Float64Array(4), [1, 4])))).toBe('E_SHAPE');
    expect(errorCode(() => mlpBackward(net, cache, tensor(new Float64Array(4), [4, 1])))).toBe('E_SHAPE');
    expect(errorCode(() => mlpBackward(net, cache, tensor(new Float64Array(4), [2, 1, 2])))).toBe('E_SHAPE');
    const wide = mlpInit([3, 4, 3], 'relu', { seed: 1 });
    const wc = mlpForward(wide, new Float64Array(6)).cache;
    expect(errorCode(() => mlpBackward(wide, wc, tensor(new Float64Array(6), [3, 2])))).toBe('E_SHAPE');
    expect(errorCode(() => mlpBackward(wide, wc, tensor(new Float64Array(6), [2, 3])))).toBe('no error');
    expect(errorCode(() => new Adam([1, 2] as unknown as Float64Array))).toBe('E_DTYPE');
    expect(errorCode(() => new Adam(new Float64Array(2), { beta1: 1 }))).toBe('E_RANGE');
    expect(errorCode(() => new Adam(new Float64Array(2), { eps: 0 }))).toBe('E_RANGE');
    expect(errorCode(() => new Adam(new Float64Array(2), { lr: -1 }))).toBe('E_RANGE');
    const opt = new Adam(Float64Array.of(1, 2));
    expect(errorCode(() => opt.step(new Float64Array(3)))).toBe('E_SHAPE');
    expect(errorCode(() => opt.step(Float64Array.of(1, Infinity)))).toBe('E_RANGE');
    expect(opt.t).toBe(0);
    expect([...opt.params]).toEqual([1, 2]);
  });

  it('refuses activations past 2^28 values up front (E_RANGE naming mlpForward, the limit and the sizes)', () => {
    const net = mlpInit([1, 1 << 20, 1], 'relu', { seed: 1 });
    // 2 x 4096 x (2^20 + 1) activations: a RangeError from the typed-array constructor before
    expect(errorCode(() => mlpForward(net, new Float64Array(4096)))).toBe('E_RANGE');
    expect(() => mlpForward(net, new Float64Array(4096))).toThrow(/^mlpForward: the activations \(2 x batch 4096 x \(1048576 \+ 1\)\) would hold 8589942784 float64 values; the limit is 2\^28 = 268435456$/);
    // the same check on the async form (thrown or rejected, it is the same E_RANGE)
    return expect((async () => mlpForwardAsync(net, new Float64Array(4096)))()).rejects.toThrow(/^mlpForward: the activations/);
  });
});
