// Integrated gradients: quadrature definitions, known answers (linear and quadratic models), the
// built-in MLP's backward against finite differences, completeness as steps grow, backends
// against the js reference, external models (sync and Promise callbacks), internalBatchSize,
// baselines, and errors. Tolerances: exact cases 1e-12 relative (rounding in sums of at most a
// few hundred terms); backends 1e-12 (float64 everywhere, different summation orders); finite
// differences 1e-6 (central differences with h = 1e-5 have O(h^2) truncation).
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  integratedGradients,
  integratedGradientsAsync,
  attentionBlock,
  fromTfjs,
  loadModel,
  modelFromBuffers,
  modelToBuffers,
  saveModel,
  mlp,
  backends,
  getNumThreads,
  normal,
  setNumThreads,
  quadrature,
  tensor,
  tokenAttributions,
  uniform,
  type ExternalModel,
  type IgMethod,
  type MlpActivation,
} from '../dist/index.js';
import { erf, mlpPoint } from '../dist/backends/js/ig.js';
import { errorCode, firstBitMismatch, freshSeed, relFro } from './helpers.js';

const METHODS: IgMethod[] = ['riemann_left', 'riemann_right', 'riemann_middle', 'riemann_trapezoid', 'gausslegendre'];
const t64 = (a: ArrayLike<number>, shape: number[]) => tensor(Float64Array.from(a), shape);

function randomMlp(seed: number, dims: number[], acts: MlpActivation[]) {
  return mlp({
    layers: acts.map((activation, l) => ({
      weight: normal([dims[l + 1], dims[l]], { seed: seed + 2 * l, dtype: 'float64', std: 1 / Math.sqrt(dims[l]) }),
      bias: normal([dims[l + 1]], { seed: seed + 2 * l + 1, dtype: 'float64', std: 0.1 }),
      activation,
    })),
  });
}

/** The built-in MLP as an external model (through the js reference), to compare the two paths. */
function asExternal(m: ReturnType<typeof mlp>): ExternalModel {
  const d = m.inputSize;
  return {
    output: (pts, tg) => Array.from(tg, (t, p) => mlpPoint(m.spec, m.params, pts.data.slice(p * d, (p + 1) * d), t, null)),
    gradient: (pts, tg) => {
      const g = new Float64Array(pts.size);
      tg.forEach((t, p) => mlpPoint(m.spec, m.params, pts.data.slice(p * d, (p + 1) * d), t, g.subarray(p * d, (p + 1) * d)));
      return g;
    },
  };
}

const igBackends = backends().filter((b) => b.available && b.ops.includes('igMlp')).map((b) => b.name);

describe('quadrature', () => {
  it('nodes and weights equal the definitions for steps 1..64', () => {
    for (let m = 1; m <= 64; m++) {
      for (const method of METHODS) {
        if (method === 'riemann_trapezoid' && m < 2) continue;
        const { nodes, weights } = quadrature(method, m);
        expect(nodes.length).toBe(m);
        const sum = weights.reduce((a, b) => a + b, 0);
        expect(Math.abs(sum - 1), `${method} m=${m}`).toBeLessThan(1e-14);
        for (let k = 0; k < m; k++) {
          if (method === 'riemann_left') expect([nodes[k], weights[k]]).toEqual([k / m, 1 / m]);
          if (method === 'riemann_right') expect([nodes[k], weights[k]]).toEqual([(k + 1) / m, 1 / m]);
          if (method === 'riemann_middle') expect([nodes[k], weights[k]]).toEqual([(k + 0.5) / m, 1 / m]);
          if (method === 'riemann_trapezoid') expect([nodes[k], weights[k]]).toEqual([k / (m - 1), (k === 0 || k === m - 1 ? 0.5 : 1) / (m - 1)]);
        }
        if (method === 'gausslegendre') {
          // exact for polynomials of degree <= 2m - 1 (the defining property), nodes ascending in (0, 1)
          for (let j = 0; j <= Math.min(2 * m - 1, 30); j++) {
            let s = 0;
            for (let k = 0; k < m; k++) s += weights[k] * nodes[k] ** j;
            expect(Math.abs(s - 1 / (j + 1)), `gausslegendre m=${m} x^${j}`).toBeLessThan(1e-13);
          }
          for (let k = 0; k < m; k++) {
            expect(nodes[k]).toBeGreaterThan(0);
            expect(nodes[k]).toBeLessThan(1);
            if (k > 0) expect(nodes[k]).toBeGreaterThan(nodes[k - 1]);
            expect(Math.abs(nodes[k] + nodes[m - 1 - k] - 1)).toBeLessThan(1e-15); // symmetric
          }
        }
      }
    }
    // numpy.polynomial.legendre.leggauss(2): +-1/sqrt(3), weights 1
    const g2 = quadrature('gausslegendre', 2);
    expect(Math.abs(g2.nodes[0] - (0.5 - 0.5 / Math.sqrt(3)))).toBeLessThan(1e-16);
    expect([...g2.weights]).toEqual([0.5, 0.5]);
  });
});

describe('erf (GELU in the js reference and the Transformer glue)', () => {
  it('matches known values to 4 ulp, is odd, and saturates', () => {
    // CPython's math.erf (correctly rounded to within 1 ulp); the tabulated Taylor expansion's own
    // error is under 2 ulp, so 4 ulp is the bound.
    const known: [number, number][] = [
      [1e-300, 1.1283791670955126e-300],
      [1e-8, 1.1283791670955126e-8],
      [0.0078125, 0.008815282895179188],
      [0.1, 0.1124629160182849],
      [0.5, 0.5204998778130465],
      [0.7071067811865476, 0.682689492137086],
      [1.0, 0.8427007929497149],
      [1.2345, 0.9191623964135658],
      [1.5, 0.9661051464753108],
      [2.0, 0.9953222650189527],
      [2.4921875, 0.999575693743277],
      [2.4999, 0.9995928300996666],
      [2.5, 0.999593047982555],
      [3.0, 0.9999779095030014],
      [4.5, 0.9999999998033839],
      [5.9, 0.9999999999999999],
    ];
    for (const [x, want] of known) {
      const ulp = Math.max(Number.MIN_VALUE, Math.abs(want) * 2 ** -52);
      expect(Math.abs(erf(x) - want) / ulp, `erf(${x})`).toBeLessThanOrEqual(4);
      expect(erf(-x)).toBe(-erf(x));
    }
    expect(erf(0)).toBe(0);
    expect(erf(7)).toBe(1);
    expect(erf(-Infinity)).toBe(-1);
    expect(erf(NaN)).toBeNaN();
  });
});

describe('known answers', () => {
  const seed = freshSeed();
  const B = 3, d = 7;
  const x = normal([B, d], { seed, dtype: 'float64' });
  const base = normal([B, d], { seed: seed + 1, dtype: 'float64' });
  const w = normal([d], { seed: seed + 2, dtype: 'float64' }).data;

  it('linear F = w.x + b: IG = w (x - x\') exactly for every method and step count (external and built-in)', () => {
    const lin: ExternalModel = {
      output: (pts, tg) => Array.from(tg, (_, p) => 0.5 + pts.data.slice(p * d, (p + 1) * d).reduce((s, v, i) => s + w[i] * v, 0)),
      gradient: (pts) => Float64Array.from({ length: pts.size }, (_, i) => w[i % d]),
    };
    const builtin = mlp({ layers: [{ weight: t64(w, [1, d]), bias: t64([0.5], [1]) }] });
    for (const method of METHODS)
      for (const steps of [2, 3, 17]) {
        const want = x.data.map((v, i) => w[i % d] * (v - base.data[i]));
        for (const m of [lin, builtin]) {
          const r = integratedGradients(m, x, { baseline: base, method, steps });
          expect(relFro(r.attributions.data, want), `seed=${seed} ${method} ${steps}`).toBeLessThan(1e-14);
          r.delta.forEach((dl) => expect(Math.abs(dl)).toBeLessThan(1e-13));
        }
      }
  });

  it('F = sum x_i^2: IG_i = x_i^2 - x\'_i^2 (exact for trapezoid, middle and Gauss-Legendre)', () => {
    const sq: ExternalModel = {
      output: (pts, tg) => Array.from(tg, (_, p) => pts.data.slice(p * d, (p + 1) * d).reduce((s, v) => s + v * v, 0)),
      gradient: (pts) => pts.data.map((v) => 2 * v),
    };
    const want = x.data.map((v, i) => v * v - base.data[i] ** 2);
    for (const method of ['riemann_trapezoid', 'riemann_middle', 'gausslegendre'] as const) {
      const r = integratedGradients(sq, x, { baseline: base, method, steps: 4 });
      expect(relFro(r.attributions.data, want), `seed=${seed} ${method}`).toBeLessThan(1e-14);
    }
    // left Riemann is not exact: its error is O(1/m)
    const left = integratedGradients(sq, x, { baseline: base, method: 'riemann_left', steps: 4 });
    expect(relFro(left.attributions.data, want)).toBeGreaterThan(1e-3);
  });
});

describe('the built-in MLP', () => {
  const seed = freshSeed();
  const acts: MlpActivation[][] = [
    ['relu', 'tanh', 'softmax'],
    ['gelu', 'sigmoid', 'identity'],
  ];

  it('backward equals central finite differences (every activation)', () => {
    for (const a of acts) {
      const m = randomMlp(seed, [6, 9, 8, 4], a);
      const x = normal([2, 6], { seed: seed + 9, dtype: 'float64' });
      // right Riemann with one step at the input: attributions without multiplying = the gradient
      const g = integratedGradients(m, x, { method: 'riemann_right', steps: 1, multiplyByInputs: false, target: [1, 3] }).attributions.data;
      const h = 1e-5;
      for (let b = 0; b < 2; b++)
        for (let i = 0; i < 6; i++) {
          const p = x.data.slice(b * 6, b * 6 + 6);
          p[i] += h;
          const fp = mlpPoint(m.spec, m.params, p, [1, 3][b], null);
          p[i] -= 2 * h;
          const fm = mlpPoint(m.spec, m.params, p, [1, 3][b], null);
          expect(Math.abs(g[b * 6 + i] - (fp - fm) / (2 * h)), `seed=${seed} ${a} b=${b} i=${i}`).toBeLessThan(1e-6);
        }
    }
  });

  it('completeness: |delta| shrinks as steps grow (8, 32, 128)', () => {
    const m = randomMlp(seed, [10, 16, 16, 3], ['tanh', 'gelu', 'softmax']);
    const x = normal([2, 10], { seed: seed + 3, dtype: 'float64', std: 2 });
    for (const method of ['riemann_left', 'riemann_trapezoid', 'gausslegendre'] as const) {
      const ds = [8, 32, 128].map((steps) => Math.max(...integratedGradients(m, x, { steps, method }).delta.map(Math.abs)));
      // it shrinks until rounding level (Gauss-Legendre gets there by 32 steps)
      expect(ds[1], `seed=${seed} ${method} ${ds}`).toBeLessThan(Math.max(ds[0], 1e-13));
      expect(ds[2], `seed=${seed} ${method} ${ds}`).toBeLessThan(Math.max(ds[1], 1e-13));
      expect(ds[0], `seed=${seed} ${method} ${ds}`).toBeGreaterThan(1e-13); // 8 steps is not exact
    }
  });

  for (const backend of igBackends)
    it(`${backend} equals the external-model path and the js reference to 1e-12`, () => {
      const m = randomMlp(seed, [12, 20, 10, 5], ['relu', 'gelu', 'softmax']);
      const x = normal([4, 12], { seed: seed + 5, dtype: 'float64' });
      const opts = { steps: 24, target: [0, 1, 4, 2], baseline: 0.25 };
      const ref = integratedGradients(asExternal(m), x, { ...opts, internalBatchSize: 7 });
      const got = integratedGradients(m, x, { ...opts, backend });
      expect(relFro(got.attributions.data, ref.attributions.data), `seed=${seed} ${backend}`).toBeLessThan(1e-12);
      expect(relFro(got.output, ref.output)).toBeLessThan(1e-13);
      expect(relFro(got.baselineOutput, ref.baselineOutput)).toBeLessThan(1e-13);
    });
});

describe('saving and loading built-in models', () => {
  it('save/load round trip gives the same parameters and attributions; malformed files are E_FORMAT', () => {
    const seed = freshSeed();
    const m = randomMlp(seed, [7, 5, 3], ['gelu', 'softmax']);
    const dir = mkdtempSync(join(tmpdir(), 'kexue-model-'));
    try {
      const path = join(dir, 'net.json');
      saveModel(m, path);
      expect(existsSync(join(dir, 'net.bin'))).toBe(true);
      const back = loadModel(path) as ReturnType<typeof mlp>;
      expect([...back.params]).toEqual([...m.params]);
      expect(back.activations).toEqual(m.activations);
      const x = normal([2, 7], { seed, dtype: 'float64' });
      expect([...integratedGradients(back, x).attributions.data]).toEqual([...integratedGradients(m, x).attributions.data]);
      const { json, weights } = modelToBuffers(m);
      expect([...(modelFromBuffers(JSON.parse(JSON.stringify(json)), weights) as ReturnType<typeof mlp>).params]).toEqual([...m.params]);
      // the attention block too
      const W = (r: number, c: number, k: number) => normal([r, c], { seed: seed + k, dtype: 'float64' });
      const blk = attentionBlock({ wq: W(4, 3, 1), wk: W(4, 3, 2), wv: W(4, 3, 3), bv: W(1, 4, 4).reshape([4]), wo: W(2, 4, 5), heads: 2, mask: 'causal', pooling: 1 });
      saveModel(blk, join(dir, 'blk.json'));
      const blk2 = loadModel(join(dir, 'blk.json'));
      const xb = normal([2, 3, 3], { seed, dtype: 'float64' });
      expect([...integratedGradients(blk2, xb, { steps: 8, target: 1 }).attributions.data]).toEqual([...integratedGradients(blk, xb, { steps: 8, target: 1 }).attributions.data]);
      expect(errorCode(() => modelFromBuffers(json, weights.subarray(8)))).toBe('E_FORMAT');
      expect(errorCode(() => modelFromBuffers({ ...json, activations: ['softmax', 'relu'] }, weights))).toBe('E_FORMAT');
      expect(errorCode(() => modelFromBuffers({ kexue: 'nope' }, weights))).toBe('E_FORMAT');
      writeFileSync(join(dir, 'bad.json'), '{ not json');
      expect(errorCode(() => loadModel(join(dir, 'bad.json')))).toBe('E_FORMAT');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the tfjs adapter', () => {
  it('fromTfjs gives the built-in MLP\'s attributions with the same weights (float32 tolerance)', async () => {
    const tf = await import('@tensorflow/tfjs');
    await tf.setBackend('cpu');
    const seed = freshSeed();
    const m = randomMlp(seed, [9, 12, 4], ['tanh', 'softmax']);
    const tm = tf.sequential({
      layers: [tf.layers.dense({ inputShape: [9], units: 12, activation: 'tanh' }), tf.layers.dense({ units: 4, activation: 'softmax' })],
    });
    // PyTorch layout [out, in] -> tfjs kernel [in, out]
    let o = 0;
    const ws: ReturnType<typeof tf.tensor>[] = [];
    for (let l = 0; l < 2; l++) {
      const din = m.dims[l], dout = m.dims[l + 1];
      const W = m.params.slice(o, o + dout * din);
      o += dout * din;
      ws.push(tf.tensor(Float32Array.from({ length: din * dout }, (_, k) => W[(k % dout) * din + Math.floor(k / dout)]), [din, dout]));
      ws.push(tf.tensor(Float32Array.from(m.params.slice(o, o + dout)), [dout]));
      o += dout;
    }
    tm.setWeights(ws);
    const x = normal([3, 9], { seed: seed + 1, dtype: 'float64' });
    const opts = { steps: 16, target: [0, 3, 1] };
    const viaTf = integratedGradients(fromTfjs(tm as never, { tf }), x, opts);
    const builtin = integratedGradients(m, x, opts);
    expect(relFro(viaTf.attributions.data, builtin.attributions.data), `seed=${seed}`).toBeLessThan(1e-5);
    expect(relFro(viaTf.output, builtin.output)).toBeLessThan(1e-6);
    // the default tf comes from require('@tensorflow/tfjs')
    expect(relFro(integratedGradients(fromTfjs(tm as never), x, opts).attributions.data, builtin.attributions.data)).toBeLessThan(1e-5);
    expect(errorCode(() => fromTfjs({} as never))).toBe('E_ARG');
  });
});

describe('the built-in attention block', () => {
  const seed = freshSeed();
  const d = 6, H = 2, dh = 4, c = 3, N = 5;
  const W = (rows: number, cols: number, k: number) => normal([rows, cols], { seed: seed + k, dtype: 'float64', std: 1 / Math.sqrt(cols) });
  const block = (mask: 'none' | 'causal' | 'noSelf', backend?: 'js' | 'cpu' | 'wasm', pooling: 'mean' | number = 'mean') =>
    attentionBlock({ wq: W(H * dh, d, 1), wk: W(H * dh, d, 2), wv: W(H * dh, d, 3), bq: W(1, H * dh, 4).reshape([H * dh]), wo: W(c, H * dh, 5), bo: W(1, c, 6).reshape([c]), heads: H, mask, backend, pooling });
  const x = normal([2, N, d], { seed: seed + 9, dtype: 'float64' });

  it('gradient equals central finite differences (causal, noSelf, none; mean and token pooling)', () => {
    for (const [mask, pooling] of [['none', 'mean'], ['causal', 'mean'], ['noSelf', 2]] as const) {
      const b = block(mask, undefined, pooling);
      const tg = Int32Array.of(1, 2);
      const g = b.gradient(x as never, tg);
      const h = 1e-5;
      for (const i of [0, 7, 13, 29, 31, 59]) {
        const xp = x.data.slice(), xm = x.data.slice();
        xp[i] += h;
        xm[i] -= h;
        const fp = b.output(tensor(xp, [2, N, d]) as never, tg), fm = b.output(tensor(xm, [2, N, d]) as never, tg);
        const p = Math.floor(i / (N * d));
        expect(Math.abs(g[i] - (fp[p] - fm[p]) / (2 * h)), `seed=${seed} ${mask} i=${i}`).toBeLessThan(1e-7);
      }
    }
  });

  it('integrated gradients: completeness, and every backend agrees with js to 1e-12', () => {
    const ref = integratedGradients(block('causal', 'js'), x, { steps: 64, target: [0, 2], internalBatchSize: 32 });
    expect(Math.max(...ref.delta.map(Math.abs)), `seed=${seed}`).toBeLessThan(1e-8);
    for (const be of backends().filter((b) => b.available && b.name !== 'cuda').map((b) => b.name as 'cpu' | 'wasm')) {
      const r = integratedGradients(block('causal', be), x, { steps: 64, target: [0, 2], internalBatchSize: 32 });
      expect(relFro(r.attributions.data, ref.attributions.data), `seed=${seed} ${be}`).toBeLessThan(1e-12);
    }
    expect(tokenAttributions(ref.attributions).shape).toEqual([2, N]);
  });

  it('bad configuration and inputs', () => {
    expect(errorCode(() => attentionBlock({ wq: W(8, d, 1), wk: W(8, d, 2), wv: W(8, d, 3), wo: W(c, 8, 5), heads: 3 }))).toBe('E_RANGE');
    expect(errorCode(() => attentionBlock({ wq: W(8, d, 1), wk: W(8, d + 1, 2), wv: W(8, d, 3), wo: W(c, 8, 5), heads: 2 }))).toBe('E_SHAPE');
    expect(errorCode(() => integratedGradients(block('none'), x, { target: 3 }))).toBe('E_RANGE');
    expect(errorCode(() => integratedGradients(block('none'), normal([2, N, d + 1], { seed: 1, dtype: 'float64' })))).toBe('E_SHAPE');
    expect(errorCode(() => integratedGradients(block('none', undefined, 9), x))).toBe('E_RANGE');
  });
});

describe('native igMlp', () => {
  it.skipIf(!igBackends.includes('cpu'))('cpu: identical bits with 1 and 2 threads, and an input alone or inside a batch', () => {
    const seed = freshSeed();
    const m = randomMlp(seed, [30, 24, 16, 6], ['gelu', 'relu', 'softmax']);
    const x = normal([9, 30], { seed: seed + 1, dtype: 'float64' });
    const before = getNumThreads();
    try {
      setNumThreads(1);
      const one = integratedGradients(m, x, { steps: 40, backend: 'cpu', target: 2 });
      setNumThreads(2);
      const two = integratedGradients(m, x, { steps: 40, backend: 'cpu', target: 2 });
      expect(firstBitMismatch(one.attributions.data, two.attributions.data), `seed=${seed}`).toBe(-1);
      const alone = integratedGradients(m, tensor(x.data.slice(4 * 30, 5 * 30), [1, 30]), { steps: 40, backend: 'cpu', target: 2 });
      expect(firstBitMismatch(alone.attributions.data, two.attributions.data.subarray(4 * 30, 5 * 30)), `seed=${seed}`).toBe(-1);
    } finally {
      setNumThreads(before);
    }
  });
});

describe('external models, batching, baselines', () => {
  const seed = freshSeed();
  const m = randomMlp(seed, [5, 8, 3], ['tanh', 'softmax']);
  const ext = asExternal(m);
  const x = normal([3, 5], { seed: seed + 1, dtype: 'float64' });

  it('internalBatchSize does not change the result (bit for bit: the same order of sums)', () => {
    const ref = integratedGradients(ext, x, { steps: 20, internalBatchSize: 1 });
    for (const ibs of [3, 20, 1000])
      expect([...integratedGradients(ext, x, { steps: 20, internalBatchSize: ibs }).attributions.data]).toEqual([...ref.attributions.data]);
  });

  it('Promise callbacks with integratedGradientsAsync equal the sync result', async () => {
    const asyncExt: ExternalModel = {
      output: async (p, t) => ext.output(p, t),
      gradient: (p, t) => new Promise((res) => setTimeout(() => res(ext.gradient(p, t) as Float64Array), 1)),
    };
    const a = await integratedGradientsAsync(asyncExt, x, { steps: 10, internalBatchSize: 4 });
    const s = integratedGradients(ext, x, { steps: 10, internalBatchSize: 4 });
    expect([...a.attributions.data]).toEqual([...s.attributions.data]);
    const b = await integratedGradientsAsync(m, x, { steps: 10 });
    expect(relFro(b.attributions.data, s.attributions.data)).toBeLessThan(1e-12);
  });

  it('baselines: a number, a broadcast tensor, random (the mean over baselines), float32 input', () => {
    const row = t64([0.1, 0.2, 0.3, 0.4, 0.5], [5]);
    const full = t64(Array.from({ length: 15 }, (_, i) => [0.1, 0.2, 0.3, 0.4, 0.5][i % 5]), [3, 5]);
    expect([...integratedGradients(ext, x, { baseline: row }).attributions.data]).toEqual([...integratedGradients(ext, x, { baseline: full }).attributions.data]);
    const rnd = integratedGradients(ext, x, { baseline: { random: 3, seed: 7 }, steps: 8 });
    // the mean of three runs with the same uniform baselines
    const runs = [0, 1, 2].map((r) => integratedGradients(ext, x, { baseline: tensor(uniform([15], { seed: 7, stream: r, dtype: 'float64' }).data, [3, 5]), steps: 8 }));
    const mean = rnd.attributions.data.map((_, i) => runs.reduce((s, r) => s + r.attributions.data[i], 0) / 3);
    expect(relFro(rnd.attributions.data, mean)).toBeLessThan(1e-14);
    const f32 = integratedGradients(ext, tensor(Float32Array.from(x.data), [3, 5]), { steps: 8 });
    expect(f32.attributions.dtype).toBe('float32');
  });

  it('tokenAttributions sums over the embedding dimension', () => {
    const a = t64([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [2, 3, 2]);
    const t = tokenAttributions(a);
    expect(t.shape).toEqual([2, 3]);
    expect([...t.data]).toEqual([3, 7, 11, 15, 19, 23]);
  });

  it('bad input: clear KexueErrors naming the step', async () => {
    expect(errorCode(() => integratedGradients(m, x, { steps: 0 }))).toBe('E_RANGE');
    expect(errorCode(() => integratedGradients(m, x, { steps: 2.5 }))).toBe('E_RANGE');
    expect(errorCode(() => integratedGradients(m, x, { method: 'simpson' as never }))).toBe('E_ARG');
    expect(errorCode(() => integratedGradients(m, x, { target: 3 }))).toBe('E_RANGE');
    expect(errorCode(() => integratedGradients(m, x, { target: [0, 1] }))).toBe('E_SHAPE');
    expect(errorCode(() => integratedGradients(m, x, { baseline: t64([1, 2], [2]) }))).toBe('E_SHAPE');
    expect(errorCode(() => integratedGradients(m, normal([3, 4], { seed: 1, dtype: 'float64' })))).toBe('E_SHAPE');
    const wrong: ExternalModel = { output: ext.output, gradient: (p) => new Float64Array(p.size - 1) };
    expect(() => integratedGradients(wrong, x, { steps: 4 })).toThrow(/model.gradient \(path points 0..3 of 12: input 0, step 0\) returned 19 values; expected 20/);
    const throws: ExternalModel = { output: ext.output, gradient: () => { throw new Error('boom'); } };
    expect(() => integratedGradients(throws, x)).toThrow(/model.gradient .* threw: boom/);
    const nan: ExternalModel = { output: ext.output, gradient: (p) => new Float64Array(p.size).fill(NaN) };
    expect(errorCode(() => integratedGradients(nan, x))).toBe('E_RANGE');
    const promised: ExternalModel = { output: async () => [0], gradient: async () => [0] };
    expect(() => integratedGradients(promised, x)).toThrow(/returned a Promise; use integratedGradientsAsync/);
    const rejects: ExternalModel = { output: ext.output, gradient: async () => { throw new Error('remote failed'); } };
    await expect(integratedGradientsAsync(rejects, x)).rejects.toMatchObject({ code: 'E_ARG', message: expect.stringMatching(/remote failed/) });
    expect(errorCode(() => integratedGradients({} as never, x))).toBe('E_ARG');
    expect(errorCode(() => mlp({ layers: [{ weight: t64([1, 2], [1, 2]), activation: 'softmax' }, { weight: t64([1], [1, 1]) }] }))).toBe('E_ARG');
    expect(errorCode(() => mlp({ layers: [{ weight: t64([1, 2], [1, 2]) }, { weight: t64([1, 2], [1, 2]) }] }))).toBe('E_SHAPE');
  });
});
