// Masked attention on every backend against the float64 js reference, on fresh random inputs.
// Tolerance: float32 kernels accumulate D-long dot products and N-long softmax sums in float32
// (with FMA on AVX2), whose rounding error is a few 1e-7 of the values' magnitude; we require
// max |got - ref| <= 1e-5 * max |ref| (measured worst about 1e-6). float64 kernels: 1e-12.
import { afterAll, describe, expect, it } from 'vitest';
import { attention, attentionAsync, attentionBackward, dropout, getNumThreads, normal, setNumThreads, tensor, uniform, type MaskKind } from '../dist/index.js';
import { errorCode, fastBackends, freshSeed, firstBitMismatch, nativeAddon } from './helpers.js';

const KINDS: MaskKind[] = ['none', 'causal', 'noSelf', 'causalNoSelf', 'anticausal'];

function relErr(got: ArrayLike<number>, ref: ArrayLike<number>): number {
  let err = 0, mag = 0;
  for (let i = 0; i < ref.length; i++) {
    const r = ref[i], g = got[i];
    if (r === -Infinity || g === -Infinity) {
      if (r !== g) return Infinity;
      continue;
    }
    if (Number.isNaN(g)) return Infinity;
    err = Math.max(err, Math.abs(g - r));
    mag = Math.max(mag, Math.abs(r));
  }
  return err / (mag || 1);
}

function inputs(seed: number, B: number, H: number, Hkv: number, Nq: number, Nk: number, D: number, Dv: number, dtype: 'float32' | 'float64' = 'float32', amp = 1) {
  return {
    q: normal([B, H, Nq, D], { seed, dtype, std: amp }),
    k: normal([B, Hkv, Nk, D], { seed: seed + 1, dtype, std: amp }),
    v: normal([B, Hkv, Nk, Dv], { seed: seed + 2, dtype }),
  };
}

const tol = (dtype: string) => (dtype === 'float64' ? 1e-12 : 1e-5);

describe('attention forward vs the js reference', () => {
  for (const backend of fastBackends()) {
    it(`${backend}: every mask kind, GQA, Nq != Nk, D in {16, 64, 80, 128}, odd sizes`, () => {
      const seed = freshSeed();
      const cases: [number, number, number, number, number, number, number][] = [
        [1, 2, 1, 7, 33, 16, 16],
        [2, 4, 2, 33, 7, 64, 64],
        [1, 3, 3, 1, 1, 80, 80],
        [1, 2, 1, 257, 257, 128, 128],
        [1, 1, 1, 65, 130, 64, 24],
      ];
      for (const [B, H, Hkv, Nq, Nk, D, Dv] of cases) {
        const { q, k, v } = inputs(seed, B, H, Hkv, Nq, Nk, D, Dv);
        for (const mask of KINDS) {
          const o = { mask, returnLse: true, returnProbs: true };
          const ref = attention(q, k, v, { ...o, backend: 'js' });
          const got = attention(q, k, v, { ...o, backend });
          const what = `seed=${seed} ${backend} [${B},${H},${Hkv},${Nq},${Nk},${D},${Dv}] ${mask}`;
          expect(relErr(got.output.data, ref.output.data), `${what} output`).toBeLessThan(1e-5);
          expect(relErr(got.lse!.data, ref.lse!.data), `${what} lse`).toBeLessThan(1e-5);
          expect(relErr(got.probs!.data, ref.probs!.data), `${what} probs`).toBeLessThan(1e-5);
        }
      }
    });

    it(`${backend}: per-head kinds, key padding, boolean masks and biases that broadcast, combined`, () => {
      const seed = freshSeed();
      const [B, H, Hkv, Nq, Nk, D] = [2, 4, 2, 19, 70, 32];
      const { q, k, v } = inputs(seed, B, H, Hkv, Nq, Nk, D, D);
      const bits = (shape: number[], s: number) => tensor(Uint8Array.from(uniform(shape, { seed: s, backend: 'js' }).data, (u) => (u < 0.8 ? 1 : 0)), shape);
      const variants = [
        { mask: ['causal', 'anticausal', 'noSelf', 'none'] as MaskKind[] },
        { keyLengths: [70, 13] },
        { keyLengths: [0, 5] },
        { maskTensor: bits([Nq, Nk], seed + 5) },
        { maskTensor: bits([B, 1, Nq, Nk], seed + 6) },
        { maskTensor: bits([1, H, 1, Nk], seed + 7) },
        { bias: normal([Nq, Nk], { seed: seed + 8 }) },
        { bias: normal([B, H, Nq, Nk], { seed: seed + 9, std: 3 }) },
        { mask: 'causal' as MaskKind, keyLengths: [40, 69], maskTensor: bits([H, Nq, Nk], seed + 10), bias: normal([1, H, 1, Nk], { seed: seed + 11 }), scale: 0.3 },
      ];
      for (const opts of variants) {
        const ref = attention(q, k, v, { ...opts, returnLse: true, backend: 'js' });
        const got = attention(q, k, v, { ...opts, returnLse: true, backend });
        const what = `seed=${seed} ${backend} ${JSON.stringify(Object.keys(opts))}`;
        expect(relErr(got.output.data, ref.output.data), what).toBeLessThan(1e-5);
        expect(relErr(got.lse!.data, ref.lse!.data), what).toBeLessThan(1e-5);
      }
    });

    it(`${backend}: rows with no visible key give output 0, lse -Infinity, probs 0 (never NaN)`, () => {
      const { q, k, v } = inputs(freshSeed(), 1, 2, 2, 4, 4, 8, 8);
      // causalNoSelf hides everything from query 0; keyLengths 0 hides everything in batch 0
      const r = attention(q, k, v, { mask: 'causalNoSelf', returnLse: true, returnProbs: true, backend });
      for (const h of [0, 1]) {
        expect([...r.output.data.subarray(h * 32, h * 32 + 8)]).toEqual(new Array(8).fill(0));
        expect(r.lse!.data[h * 4]).toBe(-Infinity);
        expect([...r.probs!.data.subarray(h * 16, h * 16 + 4)]).toEqual([0, 0, 0, 0]);
      }
      const z = attention(q, k, v, { keyLengths: [0], returnLse: true, backend });
      expect(z.output.data.every((x) => x === 0)).toBe(true);
      expect(z.lse!.data.every((x) => x === -Infinity)).toBe(true);
      expect(r.output.data.some(Number.isNaN)).toBe(false);
    });

    it(`${backend}: large logits do not overflow`, () => {
      const seed = freshSeed();
      const { q, k, v } = inputs(seed, 1, 2, 2, 40, 50, 64, 16, 'float32', 30); // scores of order 1e3
      const ref = attention(q, k, v, { returnLse: true, backend: 'js' });
      const got = attention(q, k, v, { returnLse: true, backend });
      expect(got.output.data.every(Number.isFinite)).toBe(true);
      // A float32 score s carries a rounding error of a few ulp(s), which moves the probabilities
      // by that much relatively: the tolerance grows with the largest |score| (here ~1e3).
      let maxScore = 0;
      for (let i = 0; i < 40 * 2; i++)
        for (let j = 0; j < 50; j++) {
          let s = 0;
          for (let d = 0; d < 64; d++) s += q.data[i * 64 + d] * k.data[(Math.floor(i / 40) * 50 + j) * 64 + d];
          maxScore = Math.max(maxScore, Math.abs(s / 8));
        }
      expect(relErr(got.output.data, ref.output.data), `seed=${seed} max |score| ${maxScore}`).toBeLessThan(1e-5 + 16 * 2 ** -24 * maxScore);
      expect(relErr(got.lse!.data, ref.lse!.data), `seed=${seed}`).toBeLessThan(1e-5);
    });

    it(`${backend}: float64 inputs`, () => {
      const seed = freshSeed();
      const { q, k, v } = inputs(seed, 1, 4, 2, 17, 23, 16, 8, 'float64');
      for (const mask of KINDS) {
        const o = { mask, returnLse: true, dropout: { p: 0.25, seed } };
        const ref = attention(q, k, v, { ...o, backend: 'js' });
        const got = attention(q, k, v, { ...o, backend });
        expect(relErr(got.output.data, ref.output.data), `seed=${seed} ${mask}`).toBeLessThan(tol('float64'));
      }
    });

    it(`${backend}: dropout uses the same Philox mask as the reference and keeps 1 - p`, () => {
      const seed = freshSeed();
      const [B, H, N, D] = [1, 2, 150, 16];
      const { q, k, v } = inputs(seed, B, H, H, N, N, D, D);
      const p = 0.3;
      const opts = { dropout: { p, seed: seed + 1, stream: 3 }, returnProbs: true, mask: 'causal' as MaskKind };
      const ref = attention(q, k, v, { ...opts, backend: 'js' });
      const got = attention(q, k, v, { ...opts, backend });
      expect(relErr(got.output.data, ref.output.data), `seed=${seed}`).toBeLessThan(1e-5);
      // output = dropout(probs, same seed and stream) @ V
      const dropped = dropout(ref.probs!, { p, seed: seed + 1, stream: 3, backend: 'js' });
      const manual = new Float64Array(B * H * N * D);
      for (let h = 0; h < H; h++)
        for (let i = 0; i < N; i++)
          for (let j = 0; j < N; j++) {
            const pij = dropped.output.data[(h * N + i) * N + j];
            for (let d = 0; d < D; d++) manual[(h * N + i) * D + d] += pij * v.data[(h * N + j) * D + d];
          }
      expect(relErr(got.output.data, manual), `seed=${seed}`).toBeLessThan(1e-5);
      const kept = dropped.mask.data.reduce((s, x) => s + x, 0) / dropped.mask.size;
      expect(Math.abs(kept - (1 - p))).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / dropped.mask.size));
    });
  }
});

describe('attention backward', () => {
  it('js reference equals finite differences (float64), with masks, GQA and dropout', () => {
    const seed = freshSeed();
    const { q, k, v } = inputs(seed, 1, 4, 2, 5, 6, 3, 2, 'float64');
    const opts = { mask: ['causal', 'noSelf', 'anticausal', 'none'] as MaskKind[], dropout: { p: 0.3, seed }, keyLengths: [5], bias: normal([5, 6], { seed: seed + 4, dtype: 'float64' }) };
    const dO = normal([1, 4, 5, 2], { seed: seed + 3, dtype: 'float64' });
    const g = attentionBackward(q, k, v, dO, { ...opts, backend: 'js' });
    const f = () => attention(q, k, v, { ...opts, backend: 'js' }).output.data.reduce((s, o, i) => s + o * dO.data[i], 0);
    for (const [t, grad, name] of [[q, g.dq, 'dq'], [k, g.dk, 'dk'], [v, g.dv, 'dv']] as const) {
      for (let i = 0; i < t.size; i++) {
        const x = t.data[i];
        const e = 1e-6;
        t.data[i] = x + e;
        const fp = f();
        t.data[i] = x - e;
        const fm = f();
        t.data[i] = x;
        expect(Math.abs((fp - fm) / (2 * e) - grad.data[i]), `seed=${seed} ${name}[${i}]`).toBeLessThan(1e-7);
      }
    }
  });

  for (const backend of fastBackends()) {
    it(`${backend} equals the js reference (float32 and float64)`, () => {
      const seed = freshSeed();
      for (const dtype of ['float32', 'float64'] as const) {
        const { q, k, v } = inputs(seed, 2, 4, 2, 9, 12, 16, 8, dtype);
        const dO = normal([2, 4, 9, 8], { seed: seed + 3, dtype });
        const opts = { mask: ['causal', 'none', 'noSelf', 'anticausal'] as MaskKind[], dropout: { p: 0.2, seed }, keyLengths: [12, 7] };
        const ref = attentionBackward(q, k, v, dO, { ...opts, backend: 'js' });
        const got = attentionBackward(q, k, v, dO, { ...opts, backend });
        for (const n of ['dq', 'dk', 'dv'] as const) expect(relErr(got[n].data, ref[n].data), `seed=${seed} ${backend} ${dtype} ${n}`).toBeLessThan(tol(dtype));
      }
    });
  }
});

describe('attention: threads, async, errors', () => {
  const addon = nativeAddon();
  const threads0 = getNumThreads();
  afterAll(() => setNumThreads(threads0));

  it.runIf(addon !== undefined)('cpu results do not depend on the thread count', () => {
    const seed = freshSeed();
    const { q, k, v } = inputs(seed, 2, 4, 4, 100, 130, 64, 64);
    setNumThreads(1);
    const ref = attention(q, k, v, { mask: 'causal', returnLse: true, backend: 'cpu' });
    for (const t of [2, 8]) {
      setNumThreads(t);
      const got = attention(q, k, v, { mask: 'causal', returnLse: true, backend: 'cpu' });
      expect(firstBitMismatch(got.output.data, ref.output.data), `seed=${seed} threads=${t}`).toBe(-1);
      expect(firstBitMismatch(got.lse!.data, ref.lse!.data), `seed=${seed} threads=${t}`).toBe(-1);
    }
  });

  it('async forms equal the sync ones on every backend', async () => {
    const { q, k, v } = inputs(freshSeed(), 1, 2, 1, 20, 30, 16, 16);
    for (const backend of ['js', ...fastBackends()] as const) {
      const a = await attentionAsync(q, k, v, { mask: 'noSelf', backend });
      const s = attention(q, k, v, { mask: 'noSelf', backend });
      expect(firstBitMismatch(a.output.data, s.output.data), backend).toBe(-1);
    }
  });

  it('rejects bad input with KexueError codes', () => {
    const { q, k, v } = inputs(1, 1, 4, 2, 5, 6, 8, 8);
    const code = errorCode;
    expect(code(() => attention(q, tensor(new Float32Array(48), [1, 2, 3, 8]), v))).toBe('E_SHAPE'); // Nk differs between k and v
    expect(code(() => attention(q, k, tensor(new Float32Array(96), [2, 2, 6, 4])))).toBe('E_SHAPE'); // batch
    expect(code(() => attention(q.reshape([1, 4, 5, 8, 1] as never) as never, k, v))).toBe('E_SHAPE');
    expect(code(() => attention(tensor(new Float32Array(120), [1, 3, 5, 8]), k, v))).toBe('E_SHAPE'); // 3 heads, 2 kv heads
    expect(code(() => attention(q, tensor(new Float32Array(72), [1, 2, 6, 6]), v))).toBe('E_SHAPE'); // D differs
    expect(code(() => attention(q, k, v, { maskTensor: tensor(new Uint8Array(30), [5, 6]).reshape([6, 5]) }))).toBe('E_SHAPE');
    expect(code(() => attention(q, k, v, { maskTensor: tensor(new Uint8Array(60), [2, 5, 6]) }))).toBe('E_SHAPE'); // 2 does not broadcast to H = 4
    expect(code(() => attention(q, k, v, { bias: tensor(new Float32Array(6), [1, 6]).reshape([6, 1]) }))).toBe('E_SHAPE');
    expect(code(() => attention(q, k, v, { bias: tensor(new Float64Array(30), [5, 6]) as never }))).toBe('E_DTYPE');
    expect(code(() => attention(q, k, v, { scale: NaN }))).toBe('E_RANGE');
    expect(code(() => attention(q, k, v, { dropout: { p: 1, seed: 1 } }))).toBe('E_RANGE');
    expect(code(() => attention(q, k, v, { dropout: { p: -0.1, seed: 1 } }))).toBe('E_RANGE');
    expect(code(() => attention(q, k, v, { dropout: { p: 0.1 } as never }))).toBe('E_ARG');
    expect(code(() => attention(q, k, v, { mask: 'diagonal' as never }))).toBe('E_ARG');
    expect(code(() => attention(q, k, v, { mask: ['causal', 'none'] }))).toBe('E_SHAPE');
    expect(code(() => attention(q, k, v, { keyLengths: [7] }))).toBe('E_RANGE');
    expect(code(() => attention(q, k, v, { keyLengths: [1, 2] }))).toBe('E_SHAPE');
    expect(code(() => attention(q, normal([1, 2, 6, 8], { seed: 1, dtype: 'float64' }) as never, v))).toBe('E_DTYPE');
    expect(code(() => attentionBackward(q, k, v, tensor(new Float32Array(10), [10])))).toBe('E_SHAPE');
    // non-finite inputs: a NaN query row would otherwise look like a row with every key hidden
    for (const [name, t] of [['q', q], ['k', k], ['v', v]] as const) {
      for (const bad of [NaN, Infinity, -Infinity]) {
        const c = tensor(Float32Array.from(t.data as Float32Array), t.shape);
        (c.data as Float32Array)[3] = bad;
        const args = { q, k, v, [name]: c };
        expect(code(() => attention(args.q, args.k, args.v)), `${name} = ${bad}`).toBe('E_RANGE');
      }
    }
    const bias = tensor(new Float32Array(30).fill(-Infinity), [5, 6]); // -Infinity is an additive mask
    expect(code(() => attention(q, k, v, { bias }))).toBe('no error');
    (bias.data as Float32Array)[7] = NaN;
    expect(code(() => attention(q, k, v, { bias }))).toBe('E_RANGE');
    const dO = tensor(new Float32Array(4 * 5 * 8), [1, 4, 5, 8]);
    (dO.data as Float32Array)[0] = NaN;
    expect(code(() => attentionBackward(q, k, v, dO))).toBe('E_RANGE');
  });

  it.runIf(addon !== undefined)('the native binding checks sizes again', () => {
    const { q, k, v } = inputs(1, 1, 2, 2, 4, 4, 8, 8);
    const args = { B: 1, H: 2, Hkv: 2, Nq: 4, Nk: 4, D: 8, Dv: 8, q: q.data, k: k.data, v: v.data, headKinds: new Int32Array(2), keyLengths: null, mask: null, maskStrides: [0, 0, 0, 0], bias: null, biasStrides: [0, 0, 0, 0], scale: 1, dropoutRng: null, dropoutThreshold: 0, dropoutScale: 1, out: new Float32Array(64), lse: null, probs: null };
    const codeOf = (a: object) => {
      try {
        addon!.attention(a);
      } catch (e) {
        return (e as { code?: string }).code;
      }
      return 'no error';
    };
    expect(codeOf(args)).toBe('no error');
    expect(codeOf({ ...args, Nq: 5 })).toBe('E_SHAPE');
    expect(codeOf({ ...args, Hkv: 3 })).toBe('E_SHAPE');
    expect(codeOf({ ...args, mask: new Uint8Array(3), maskStrides: [0, 0, 4, 1] })).toBe('E_SHAPE');
    expect(codeOf({ ...args, headKinds: new Int32Array([0, 9]) })).toBe('E_RANGE');
    expect(codeOf({ ...args, keyLengths: new Int32Array([5]) })).toBe('E_RANGE');
    expect(codeOf({ ...args, out: new Float64Array(64) })).toBe('E_DTYPE');
  });
});
