// The small Transformer (transformerForward) against a direct per-position reference, and
// function-preserving widening / deepening (techniques.md section 6) on every available backend,
// on fresh random weights and inputs (the seed is in every message; KEXUE_TEST_SEED reproduces).
//
// Tolerances, all relative to max |logit| (or max |h| for hidden states):
// - float64 weights: 1e-12. The widened model does the same sums with more (repeated) terms and
//   scales like 1/sqrt(3) that are not exact in binary, so the results differ by rounding only:
//   measured about 1e-15 for 2 blocks.
// - float32 weights ("float32 rounding"): 4e-6. The widened weights are rounded to float32 once
//   (relative error <= 2^-24 = 6e-8 each) and the float32 forward rounds every activation to
//   float32; a few such errors per op through 2 blocks, the norms (which divide by a standard
//   deviation and can amplify) and the head add up to a few 1e-7 (measured worst 8.1e-7 over 720
//   random models, factors and masks), so 4e-6 (64 units of 2^-24) holds with margin and still
//   fails at once on a wrong scale (a wrong factor moves the logits by O(1)).
// - deepen: bit-for-bit (a zero projection adds exactly +0 to the residual stream).
import { describe, expect, it } from 'vitest';
import {
  Tensor,
  deepen,
  randomTransformer,
  transformerForward,
  uniform,
  widen,
  widenTo,
  type MaskKind,
  type TransformerConfig,
  type TransformerWeights,
} from '../dist/index.js';
import { available, errorCode, freshSeed } from './helpers.js';

const BACKENDS = available();

function maxRel(got: ArrayLike<number>, ref: ArrayLike<number>): number {
  let err = 0, mag = 0;
  for (let i = 0; i < ref.length; i++) (err = Math.max(err, Math.abs(got[i] - ref[i]))), (mag = Math.max(mag, Math.abs(ref[i])));
  return err / (mag || 1);
}

function randomIds(seed: number, B: number, N: number, vocab: number): Tensor<Int32Array> {
  const u = uniform([B * N], { seed, stream: 99, dtype: 'float64' }).data;
  return new Tensor(Int32Array.from(u, (x) => Math.floor(x * vocab)), [B, N]);
}

/** repeat_interleave along the last dimension, divided by sqrt(k). */
function repeatScaled(a: ArrayLike<number>, d: number, k: number): Float64Array {
  const out = new Float64Array(a.length * k);
  for (let i = 0; i < out.length; i++) out[i] = a[Math.floor(i / (d * k)) * d + Math.floor((i % (d * k)) / k)] / Math.sqrt(k);
  return out;
}

const base = (o: Partial<TransformerConfig> = {}): TransformerConfig => ({ vocab: 13, dModel: 8, heads: 2, dFF: 12, layers: 2, maxLen: 9, ...o });

type RefMask = 'causal' | 'none' | 'anticausal' | 'noSelf' | 'causalNoSelf';

/** Whether query i sees key j under one mask kind (square attention). */
function sees(mask: RefMask, i: number, j: number): boolean {
  if (mask === 'none') return true;
  if (mask === 'causal') return j <= i;
  if (mask === 'anticausal') return j >= i;
  if (mask === 'noSelf') return j !== i;
  return j < i;
}

/**
 * The reference: every position of every sequence computed with plain loops and no kernel (float64
 * throughout), straight from the definition: attention logits q_i.k_j / sqrt(dHead) over the
 * visible keys, softmax, the weighted sum of values, per head. `mask` is one kind or one per head;
 * keyLengths[b] hides keys j >= keyLengths[b] of sequence b. A query that sees no key gets a zero
 * head output (the attention op's rule for a fully hidden row).
 */
function naive(w: TransformerWeights, ids: number[][], mask: RefMask | RefMask[], keyLengths?: number[]): number[][][] {
  const c = { norm: 'layernorm', eps: 1e-5, activation: 'gelu', prenorm: true, tiedHead: true, ...w.config };
  const d = c.dModel, H = c.heads, D = c.dHead ?? d / H;
  const get = (t: Tensor | undefined, i: number, j = 0, cols = 1) => (t ? Number(t.data[i * cols + j]) : 0);
  const lin = (x: number[], W: Tensor, b: Tensor) => Array.from({ length: W.shape[0] }, (_, o) => x.reduce((s, xi, i) => s + get(W, o, i, x.length) * xi, get(b, o)));
  const nrm = (x: number[], n: { gain: Tensor; bias?: Tensor }) => {
    const mean = c.norm === 'layernorm' ? x.reduce((s, v) => s + v, 0) / d : 0;
    const v = x.reduce((s, xi) => s + (xi - mean) ** 2, 0) / d;
    return x.map((xi, j) => get(n.gain, j) * (xi - mean) / Math.sqrt(v + c.eps) + get(n.bias, j));
  };
  const erf = (z: number) => {
    // Abramowitz-Stegun 7.1.26 is too coarse; integrate exp(-t^2) with Simpson's rule on 2000 panels
    const n = 2000, h = z / n;
    let s = 1 + Math.exp(-z * z);
    for (let i = 1; i < n; i++) s += (i % 2 ? 4 : 2) * Math.exp(-((i * h) ** 2));
    return (2 / Math.sqrt(Math.PI)) * (h / 3) * s;
  };
  const act = (z: number) => (c.activation === 'relu' ? Math.max(0, z) : 0.5 * z * (1 + erf(z / Math.SQRT2)));
  return ids.map((seq, b) => {
    const N = seq.length;
    let xs = seq.map((t, n) => Array.from({ length: d }, (_, j) => get(w.embed, t, j, d) + get(w.pos, n, j, d)));
    for (const l of w.layers) {
      const attn = (inp: number[][]) => {
        const q = inp.map((x) => lin(x, l.wq, l.bq)), k = inp.map((x) => lin(x, l.wk, l.bk)), v = inp.map((x) => lin(x, l.wv, l.bv));
        return inp.map((_, i) => {
          const o = new Array(H * D).fill(0);
          for (let h = 0; h < H; h++) {
            const vis = seq.map((__, j) => sees(Array.isArray(mask) ? mask[h] : mask, i, j) && (keyLengths === undefined || j < keyLengths[b]));
            if (!vis.includes(true)) continue;
            const s = seq.map((__, j) => {
              let dot = 0;
              for (let e = 0; e < D; e++) dot += q[i][h * D + e] * k[j][h * D + e];
              return dot / Math.sqrt(D);
            });
            const m = Math.max(...s.filter((_x, j) => vis[j]));
            const p = s.map((x, j) => (vis[j] ? Math.exp(x - m) : 0));
            const z = p.reduce((a, b) => a + b, 0);
            for (let j = 0; j < N; j++) for (let e = 0; e < D; e++) o[h * D + e] += (p[j] / z) * v[j][h * D + e];
          }
          return lin(o, l.wo, l.bo);
        });
      };
      const ffn = (x: number[]) => lin(lin(x, l.w1, l.b1).map(act), l.w2, l.b2);
      const add = (a: number[][], b: number[][]) => a.map((r, i) => r.map((x, j) => x + b[i][j]));
      if (c.prenorm) {
        xs = add(xs, attn(xs.map((x) => nrm(x, l.ln1))));
        xs = add(xs, xs.map((x) => ffn(nrm(x, l.ln2))));
      } else {
        xs = add(xs, attn(xs)).map((x) => nrm(x, l.ln1));
        xs = xs.map((x) => {
          const f = ffn(x);
          return nrm(x.map((xi, j) => xi + f[j]), l.ln2);
        });
      }
    }
    const head = c.tiedHead ? w.embed : w.head!;
    return xs.map((x) => {
      const y = w.lnFinal ? nrm(x, w.lnFinal) : x;
      return Array.from({ length: c.vocab }, (_, t) => y.reduce((s, yj, j) => s + yj * get(head, t, j, d), 0));
    });
  });
}

describe('transformerForward', () => {
  it('matches the per-position reference on a tiny model (pre/post-norm, gelu/relu, tied/separate, masks), every backend', () => {
    const seed = freshSeed();
    const variants: Partial<TransformerConfig>[] = [
      {},
      { prenorm: false, activation: 'relu', tiedHead: false },
      { norm: 'rmsnorm', heads: 4, tiedHead: false },
      { heads: 1, dHead: 5, norm: 'rmsnorm', prenorm: false },
    ];
    const ids = [[1, 4, 0, 12, 7], [3, 3, 9, 2, 11]];
    variants.forEach((v, vi) => {
      const w = randomTransformer(base(v), { seed: seed + vi, dtype: 'float64' });
      for (const mask of ['causal', 'none', 'anticausal'] as const) {
        const ref = naive(w, ids, mask).flat(2);
        for (const backend of BACKENDS) {
          const got = transformerForward(w, ids, { mask, backend }).logits;
          expect(got.shape).toEqual([2, 5, 13]);
          // the reference's erf (Simpson, 2000 panels) is good to ~1e-13; everything else is float64
          expect(maxRel(got.data, ref), `seed=${seed} variant ${vi} ${mask} ${backend}`).toBeLessThan(1e-11);
        }
      }
    });
  });

  it('per-head mask arrays and keyLengths match the reference, every backend', () => {
    const seed = freshSeed();
    const w = randomTransformer(base({ heads: 4, tiedHead: false }), { seed, dtype: 'float64' });
    const ids = [[1, 4, 0, 12, 7, 5], [3, 3, 9, 2, 11, 8], [6, 0, 10, 1, 2, 4]];
    const cases: { mask: RefMask | RefMask[]; keyLengths?: number[] }[] = [
      { mask: ['causal', 'none', 'anticausal', 'noSelf'] },
      { mask: ['causalNoSelf', 'causal', 'none', 'causal'] },
      { mask: 'causal', keyLengths: [6, 2, 4] },
      { mask: 'none', keyLengths: [1, 5, 3] },
      // anticausal with padding leaves queries past the length with no key (zero head output)
      { mask: ['anticausal', 'none', 'causal', 'noSelf'], keyLengths: [3, 6, 1] },
    ];
    for (const { mask, keyLengths } of cases) {
      const ref = naive(w, ids, mask, keyLengths).flat(2);
      for (const backend of BACKENDS) {
        const got = transformerForward(w, ids, { mask, keyLengths, backend }).logits;
        // as the test above: float64 throughout, the reference's erf good to ~1e-13
        expect(maxRel(got.data, ref), `seed=${seed} ${mask} ${keyLengths} ${backend}`).toBeLessThan(1e-11);
      }
    }
    // keyLengths N is no padding at all; a shorter length changes that sequence only (causal: from the length on)
    const full = transformerForward(w, ids, { mask: 'causal' }).logits.data;
    expect(transformerForward(w, ids, { mask: 'causal', keyLengths: [6, 6, 6] }).logits.data).toEqual(full);
    const padded = transformerForward(w, ids, { mask: 'causal', keyLengths: Int32Array.of(6, 3, 6) }).logits.data;
    const row = 6 * 13;
    expect(padded.subarray(0, row)).toEqual(full.subarray(0, row));
    expect(padded.subarray(2 * row)).toEqual(full.subarray(2 * row));
    expect(padded.subarray(row, row + 3 * 13)).toEqual(full.subarray(row, row + 3 * 13));
    expect(padded.subarray(row + 3 * 13, 2 * row)).not.toEqual(full.subarray(row + 3 * 13, 2 * row));
  });

  it('float32 forward stays within float32 rounding of the float64 forward; ids in every accepted form', () => {
    const seed = freshSeed();
    const w = randomTransformer(base(), { seed, dtype: 'float32' });
    const ids = randomIds(seed, 2, 7, 13);
    for (const backend of BACKENDS) {
      const f32 = transformerForward(w, ids, { backend });
      const f64 = transformerForward(w, ids, { backend, dtype: 'float64' });
      expect(f32.logits.data).toBeInstanceOf(Float32Array);
      expect(f64.logits.data).toBeInstanceOf(Float64Array);
      // activations rounded to float32 at every step: a few 2^-24 per op (see the header)
      expect(maxRel(f32.logits.data, f64.logits.data), `seed=${seed} ${backend}`).toBeLessThan(4e-6);
    }
    const row0 = Array.from(ids.data.subarray(0, 7));
    const a = transformerForward(w, row0).logits.data;
    expect(transformerForward(w, Int32Array.from(row0)).logits.data).toEqual(a);
    expect(transformerForward(w, [row0]).logits.data).toEqual(a);
    expect(transformerForward(w, new Tensor(Int32Array.from(row0), [7])).logits.data).toEqual(a);
    expect(transformerForward(w, ids).logits.data.subarray(0, 7 * 13)).toEqual(a);
  });

  it('causal: the output at position i does not move (to the last bit) when later tokens change', () => {
    const seed = freshSeed();
    const w = randomTransformer(base({ layers: 3 }), { seed, dtype: 'float32' });
    const ids = Array.from(randomIds(seed, 1, 9, 13).data);
    for (const backend of BACKENDS)
      for (const i of [0, 3, 7]) {
        const changed = ids.map((t, n) => (n > i ? (t + 1 + n) % 13 : t));
        const a = transformerForward(w, ids, { backend, returnHidden: true });
        const b = transformerForward(w, changed, { backend, returnHidden: true });
        expect(Array.from(b.logits.data.subarray(0, (i + 1) * 13)), `seed=${seed} ${backend} i=${i}`).toEqual(Array.from(a.logits.data.subarray(0, (i + 1) * 13)));
        expect(b.logits.data.subarray((i + 1) * 13)).not.toEqual(a.logits.data.subarray((i + 1) * 13));
        // bidirectional attention: earlier positions do see the change
        const c = transformerForward(w, ids, { backend, mask: 'none' }), e = transformerForward(w, changed, { backend, mask: 'none' });
        expect(c.logits.data.subarray(0, 13)).not.toEqual(e.logits.data.subarray(0, 13));
      }
  });
});

describe('widen: the widened model computes the same function', () => {
  for (const backend of BACKENDS) {
    it(`${backend}: factors 2, 3, 4 x heads 1, 2, 4 x causal/none x layernorm/rmsnorm x tied/separate (float64 and float32 weights)`, () => {
      const seed = freshSeed();
      let n = 0;
      for (const heads of [1, 2, 4])
        for (const norm of ['layernorm', 'rmsnorm'] as const)
          for (const tiedHead of [true, false]) {
            const cfg = base({ heads, norm, tiedHead, prenorm: n++ % 3 !== 2 });
            for (const dtype of ['float64', 'float32'] as const) {
              const w = randomTransformer(cfg, { seed: seed + n, dtype });
              const ids = randomIds(seed + n, 2, 7, cfg.vocab);
              for (const mask of ['causal', 'none'] as MaskKind[]) {
                const ref = transformerForward(w, ids, { mask, backend });
                for (const factor of [2, 3, 4]) {
                  const wide = widen(w, { factor });
                  expect(wide.config.dModel).toBe(8 * factor);
                  expect(wide.embed.data.constructor).toBe(w.embed.data.constructor);
                  const got = transformerForward(wide, ids, { mask, backend });
                  const e = maxRel(got.logits.data, ref.logits.data);
                  const what = `seed=${seed + n} ${backend} heads=${heads} ${norm} tied=${tiedHead} prenorm=${cfg.prenorm} ${dtype} ${mask} k=${factor}`;
                  expect(e, what).toBeLessThan(dtype === 'float64' ? 1e-12 : 4e-6);
                }
              }
            }
          }
    });
  }

  it('every hidden state becomes repeat_interleave(h, k) / sqrt(k), with the same norm', () => {
    const seed = freshSeed();
    for (const [heads, norm] of [[1, 'layernorm'], [4, 'rmsnorm'], [2, 'layernorm']] as const) {
      const w = randomTransformer(base({ heads, norm, layers: 3 }), { seed, dtype: 'float64' });
      const ids = randomIds(seed, 2, 6, 13);
      const h = transformerForward(w, ids, { returnHidden: true }).hidden!;
      for (const k of [2, 3, 4]) {
        const hw = transformerForward(widen(w, { factor: k }), ids, { returnHidden: true }).hidden!;
        expect(hw.length).toBe(4);
        hw.forEach((t, l) => {
          expect(t.shape).toEqual([2, 6, 8 * k]);
          expect(maxRel(t.data, repeatScaled(h[l].data, 8, k)), `seed=${seed} heads=${heads} k=${k} layer ${l}`).toBeLessThan(1e-12);
          for (let r = 0; r < 12; r++) {
            let a = 0, b = 0;
            for (let j = 0; j < 8; j++) a += h[l].data[r * 8 + j] ** 2;
            for (let j = 0; j < 8 * k; j++) b += t.data[r * 8 * k + j] ** 2;
            expect(Math.abs(Math.sqrt(b) - Math.sqrt(a)) / Math.sqrt(a)).toBeLessThan(1e-13);
          }
        });
      }
    }
  });

  it('an explicit dHead (3 heads of 5 on dModel 8) widens too, every backend', () => {
    const seed = freshSeed();
    const w = randomTransformer(base({ heads: 3, dHead: 5, tiedHead: false }), { seed, dtype: 'float64' });
    const ids = randomIds(seed, 2, 8, 13);
    for (const backend of BACKENDS) {
      const ref = transformerForward(w, ids, { backend, mask: ['causal', 'none', 'anticausal'] }).logits.data;
      for (const factor of [2, 3]) {
        const wide = widen(w, { factor });
        expect(wide.config).toMatchObject({ heads: 3, dHead: 5 * factor, dModel: 8 * factor });
        const got = transformerForward(wide, ids, { backend, mask: ['causal', 'none', 'anticausal'] }).logits.data;
        expect(maxRel(got, ref), `seed=${seed} ${backend} k=${factor}`).toBeLessThan(1e-12);
      }
    }
  });

  it('factor 1 is a copy; the widened config keeps the heads and divides eps by k', () => {
    const w = randomTransformer(base({ eps: 1e-3 }), { seed: 3, dtype: 'float64' });
    const w1 = widen(w, { factor: 1 });
    expect(w1.layers[1].w2.data).toEqual(w.layers[1].w2.data);
    expect(w1.layers[1].w2.data).not.toBe(w.layers[1].w2.data);
    const w3 = widen(w, { factor: 3 });
    expect(w3.config).toMatchObject({ dModel: 24, heads: 2, dHead: 12, dFF: 36 });
    expect(w3.config.eps).toBeCloseTo(1e-3 / 3, 18);
    // known entries: wq' = kron(wq, ones) * 3^(1/4) / 3, b1' = repeat(b1)
    expect(w3.layers[0].wq.data[5 * 24 + 7]).toBeCloseTo(w.layers[0].wq.data[1 * 8 + 2] * 3 ** 0.25 / 3, 15);
    expect(w3.layers[0].b1.data[7]).toBe(w.layers[0].b1.data[2]);
  });

  it('noise > 0 breaks the symmetry between copies while the outputs move by O(noise)', () => {
    const seed = freshSeed();
    const w = randomTransformer(base(), { seed, dtype: 'float64' });
    const ids = randomIds(seed, 2, 7, 13);
    const ref = transformerForward(w, ids).logits.data;
    for (const noise of [1e-4, 1e-3]) {
      const wide = widen(w, { factor: 2, noise, seed });
      // every pair of copies w1'[2i + a, 2j + b], a, b in {0, 1}, now differs
      const w1 = wide.layers[0].w1.data;
      let equal = 0;
      for (let i = 0; i < 24; i++) for (let j = 0; j < 16; j += 2) if (w1[i * 16 + j] === w1[i * 16 + j + 1]) equal++;
      expect(equal).toBe(0);
      expect(wide.embed.data[0]).not.toBe(wide.embed.data[1]);
      // each tensor moves by noise * rms relative; through 2 blocks, the norms and the head the
      // logits move by a modest multiple of that (measured at most 6.4 noise over 240 random models
      // and noise 1e-4 .. 1e-2); we require < 20 noise
      const e = maxRel(transformerForward(wide, ids).logits.data, ref);
      expect(e, `seed=${seed} noise=${noise}`).toBeLessThan(20 * noise);
      expect(e).toBeGreaterThan(noise / 100);
      // the same seed gives the same noise
      expect(widen(w, { factor: 2, noise, seed }).layers[1].wq.data).toEqual(wide.layers[1].wq.data);
    }
  });

  it('widenTo: multiples are exact; other widths are exact for RMSNorm and report the error LayerNorm leaves', () => {
    const seed = freshSeed();
    const ln = randomTransformer(base(), { seed, dtype: 'float64' });
    const rms = randomTransformer(base({ norm: 'rmsnorm', tiedHead: false }), { seed, dtype: 'float64' });
    const a = widenTo(ln, 16);
    expect(a.exact).toBe(true);
    expect(a.relError).toBeLessThan(1e-12);
    const b = widenTo(rms, 13, { seed });
    expect(b.exact).toBe(true);
    expect(b.weights.config).toMatchObject({ dModel: 13, heads: 2, dHead: 4, dFF: 12 });
    expect(b.relError, `seed=${seed}`).toBeLessThan(1e-12);
    const ids = randomIds(seed, 2, 5, 13);
    const c = widenTo(ln, 13, { probe: ids });
    expect(c.exact).toBe(false);
    // the reported error is the measured one on the probe
    const measured = maxRel(transformerForward(c.weights, ids, { dtype: 'float64' }).logits.data, transformerForward(ln, ids, { dtype: 'float64' }).logits.data);
    expect(c.relError).toBeCloseTo(measured, 12);
    expect(c.relError, `seed=${seed}`).toBeGreaterThan(1e-6);
  });
});

describe('deepen', () => {
  for (const backend of BACKENDS) {
    it(`${backend}: identity blocks leave the logits bit-for-bit unchanged (copy and random init, several positions)`, () => {
      const seed = freshSeed();
      for (const dtype of ['float32', 'float64'] as const) {
        const w = randomTransformer(base({ layers: 2 }), { seed, dtype });
        const ids = randomIds(seed, 2, 7, 13);
        const ref = transformerForward(w, ids, { backend, returnHidden: true });
        for (const [at, init] of [[0, 'copy'], [[1, 2], 'copy'], [[2, 0, 2], 'random'], [1, 'random']] as const) {
          const deep = deepen(w, { at, init, seed });
          const count = typeof at === 'number' ? 1 : at.length;
          expect(deep.layers.length).toBe(2 + count);
          expect(deep.config.layers).toBe(2 + count);
          const got = transformerForward(deep, ids, { backend, returnHidden: true });
          expect(Array.from(got.logits.data), `seed=${seed} ${dtype} at=${at} ${init}`).toEqual(Array.from(ref.logits.data));
          expect(got.hidden!.length).toBe(3 + count);
        }
        // the inserted block copies its neighbour except the zeroed output projections
        const d = deepen(w, { at: 1 });
        expect(d.layers[1].wq.data).toEqual(w.layers[0].wq.data);
        expect(d.layers[1].w2.data.every((x) => x === 0)).toBe(true);
        expect(d.layers[2]).not.toBe(w.layers[1]);
        expect(d.layers[2].wq.data).toEqual(w.layers[1].wq.data);
      }
    });
  }

  it('returns fresh tensors: editing the deeper model leaves the source and its logits unchanged', () => {
    const seed = freshSeed();
    for (const tiedHead of [true, false]) {
      const w = randomTransformer(base({ layers: 2, tiedHead }), { seed, dtype: 'float64' });
      const ids = randomIds(seed, 2, 7, 13);
      const before = Array.from(transformerForward(w, ids).logits.data);
      const snapshot = JSON.stringify(w, (_k, v) => (ArrayBuffer.isView(v) ? Array.from(v as Float64Array) : v));
      const deep = deepen(w, { at: [0, 2] });
      const tensors = (m: TransformerWeights) => [
        m.embed, m.pos, ...(m.head ? [m.head] : []), m.lnFinal!.gain, m.lnFinal!.bias!,
        ...m.layers.flatMap((l) => [l.ln1.gain, l.ln1.bias!, l.ln2.gain, l.ln2.bias!, l.wq, l.bq, l.wk, l.bk, l.wv, l.bv, l.wo, l.bo, l.w1, l.b1, l.w2, l.b2]),
      ];
      const src = new Set(tensors(w).map((t) => t.data.buffer));
      for (const t of tensors(deep)) {
        expect(src.has(t.data.buffer), `seed=${seed} tied=${tiedHead}`).toBe(false);
        t.data.fill(0.5);
      }
      expect(JSON.stringify(w, (_k, v) => (ArrayBuffer.isView(v) ? Array.from(v as Float64Array) : v))).toBe(snapshot);
      expect(Array.from(transformerForward(w, ids).logits.data), `seed=${seed} tied=${tiedHead}`).toEqual(before);
    }
  });

  it('deepen then widen stays the same function', () => {
    const seed = freshSeed();
    const w = randomTransformer(base(), { seed, dtype: 'float64' });
    const ids = randomIds(seed, 1, 8, 13);
    const big = widen(deepen(w, { at: [1, 2] }), { factor: 2 });
    expect(maxRel(transformerForward(big, ids).logits.data, transformerForward(w, ids).logits.data), `seed=${seed}`).toBeLessThan(1e-12);
  });
});

describe('errors', () => {
  const w = randomTransformer(base(), { seed: 1, dtype: 'float32' });
  const ids = [1, 2, 3];
  it('bad weights are named', () => {
    const L = w.layers[0];
    expect(errorCode(() => transformerForward({ ...w, config: { ...w.config, dModel: 7 } }, ids))).toBe('E_RANGE'); // heads do not divide
    expect(errorCode(() => transformerForward({ ...w, config: { ...w.config, vocab: 0 } }, ids))).toBe('E_RANGE');
    expect(errorCode(() => transformerForward({ ...w, config: { ...w.config, norm: 'batchnorm' as 'rmsnorm' } }, ids))).toBe('E_ARG');
    expect(errorCode(() => transformerForward({ ...w, layers: [L] }, ids))).toBe('E_ARG');
    expect(errorCode(() => transformerForward({ ...w, layers: [{ ...L, wq: undefined as unknown as Tensor<Float32Array> }, L] }, ids))).toBe('E_ARG');
    expect(errorCode(() => transformerForward({ ...w, layers: [{ ...L, wq: L.wk.reshape([4, 16]) }, L] }, ids))).toBe('E_SHAPE');
    expect(errorCode(() => transformerForward({ ...w, pos: new Tensor(Float64Array.from(w.pos.data), w.pos.shape) }, ids))).toBe('E_DTYPE');
    const nan = w.layers[1].b2.data.slice();
    nan[3] = NaN;
    expect(errorCode(() => transformerForward({ ...w, layers: [L, { ...w.layers[1], b2: new Tensor(nan, [8]) }] }, ids))).toBe('E_RANGE');
    expect(errorCode(() => transformerForward({ ...w, head: w.embed }, ids))).toBe('E_ARG'); // tied, yet a head
    expect(errorCode(() => transformerForward({ ...w, config: { ...w.config, tiedHead: false } }, ids))).toBe('E_ARG'); // no head
    expect(errorCode(() => transformerForward(null as unknown as TransformerWeights, ids))).toBe('E_ARG');
  });
  it('bad ids and options', () => {
    expect(errorCode(() => transformerForward(w, [1, 13]))).toBe('E_RANGE');
    expect(errorCode(() => transformerForward(w, [1, -1]))).toBe('E_RANGE');
    expect(errorCode(() => transformerForward(w, new Array(10).fill(0)))).toBe('E_RANGE'); // longer than maxLen
    expect(errorCode(() => transformerForward(w, [1.5]))).toBe('E_DTYPE');
    expect(errorCode(() => transformerForward(w, []))).toBe('E_SHAPE');
    expect(errorCode(() => transformerForward(w, [[1, 2], [3]]))).toBe('E_SHAPE');
    expect(errorCode(() => transformerForward(w, new Tensor(new Float32Array(3), [3]) as unknown as Int32Array))).toBe('E_DTYPE');
    expect(errorCode(() => transformerForward(w, ids, { mask: 'sideways' as MaskKind }))).toBe('E_ARG');
    expect(errorCode(() => transformerForward(w, ids, { dtype: 'int32' as 'float32' }))).toBe('E_DTYPE');
    expect(errorCode(() => transformerForward(w, ids, { backend: 'gpu' as 'js' }))).toBe('E_BACKEND');
    expect(errorCode(() => randomTransformer(base(), {} as { seed: number }))).toBe('E_ARG');
  });
  it('bad factors, noise, positions', () => {
    expect(errorCode(() => widen(w, { factor: 0 }))).toBe('E_RANGE');
    expect(errorCode(() => widen(w, { factor: 1.5 }))).toBe('E_RANGE');
    expect(errorCode(() => widen(w, {} as { factor: number }))).toBe('E_RANGE');
    expect(errorCode(() => widen(w, { factor: 2, noise: -1 }))).toBe('E_RANGE');
    expect(errorCode(() => widen(w, { factor: 2, noise: 0.01 }))).toBe('E_ARG'); // no seed
    expect(errorCode(() => widenTo(w, 7))).toBe('E_RANGE'); // narrower
    expect(errorCode(() => deepen(w, { at: 3 }))).toBe('E_RANGE');
    expect(errorCode(() => deepen(w, { at: [] }))).toBe('E_ARG');
    expect(errorCode(() => deepen(w, { at: 1, init: 'random' }))).toBe('E_ARG'); // no seed
    expect(errorCode(() => deepen({ ...w, config: { ...w.config, prenorm: false } }, { at: 1 }))).toBe('E_ARG');
  });
});
