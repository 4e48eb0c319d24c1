// T-TA stacks (lib/ops/tta.ts): no output row i depends on token i at any depth, to the last bit, on
// every backend and dtype; the same stack without the noSelf mask (or with layer-1 queries from the
// tokens) does leak token i into row i, so the invariance test is not vacuous; and the stack matches
// a naive per-position float64 reference written here with plain loops.
import { describe, expect, it } from 'vitest';
import { Tensor, normal, randomTtaWeights, ttaStack, type TtaWeights } from '../dist/index.js';
import { available, errorCode, firstBitMismatch, freshSeed } from './helpers.js';

type Dt = 'float32' | 'float64';

function embeddings(seed: number, B: number, N: number, d: number, dtype: Dt) {
  return {
    tok: normal([B, N, d], { seed, stream: 1, dtype }),
    pos: normal([N, d], { seed, stream: 2, dtype }),
  };
}

/** tok with token i of batch item b replaced by fresh random values (a different token). */
function changeToken(tok: Tensor, b: number, i: number, seed: number): Tensor {
  const [, N, d] = tok.shape;
  const data = tok.data.slice() as Float32Array | Float64Array;
  const fresh = normal([d], { seed, stream: 100 + i, dtype: 'float64' }).data;
  for (let e = 0; e < d; e++) data[(b * N + i) * d + e] = fresh[e] * 2 + 1;
  return new Tensor(data, tok.shape);
}

function row(t: Tensor, b: number, n: number): Float32Array | Float64Array {
  const [, N, d] = t.shape;
  return (t.data as Float32Array | Float64Array).subarray((b * N + n) * d, (b * N + n + 1) * d);
}

describe('ttaStack: row i never depends on token i', () => {
  for (const backend of available())
    for (const dtype of ['float32', 'float64'] as const)
      it(`${backend} ${dtype}: row i bit-identical at depths 1..4, every other row moves; heads 1/2/4`, () => {
        const seed = freshSeed();
        // N = 7 (small), and N = 150 for one case so the float32 flash kernel's 64-key tiles and
        // 72-query items have several tiles and a partial last tile (i at tile edges).
        const cases: { heads: number; N: number; B: number; ffn: number; ln: boolean; is: number[] }[] = [
          { heads: 1, N: 7, B: 2, ffn: 0, ln: false, is: [0, 3, 6] },
          { heads: 2, N: 7, B: 2, ffn: 16, ln: true, is: [0, 4, 6] },
          { heads: 4, N: 7, B: 1, ffn: 16, ln: true, is: [1, 5] },
          { heads: 2, N: 150, B: 1, ffn: 16, ln: true, is: [0, 63, 64, 71, 72, 149] },
        ];
        for (const c of cases) {
          const d = 8;
          const w = randomTtaWeights({ d, heads: c.heads, layers: 4, ffn: c.ffn, layerNorm: c.ln, seed: seed + c.heads });
          const { tok, pos } = embeddings(seed, c.B, c.N, d, dtype);
          const base = ttaStack(w, tok, pos, { backend }).outputs;
          expect(base.length).toBe(4);
          for (const i of c.is) {
            const moved = ttaStack(w, changeToken(tok, 0, i, seed), pos, { backend }).outputs;
            for (let l = 0; l < 4; l++) {
              const what = `seed=${seed} ${backend} ${dtype} heads=${c.heads} N=${c.N} i=${i} depth ${l + 1}`;
              // Row i of the changed item: the same bits (byte comparison, so -0 vs +0 would fail too).
              expect(firstBitMismatch(row(moved[l], 0, i), row(base[l], 0, i)), `${what}: row i`).toBe(-1);
              for (let n = 0; n < c.N; n++)
                if (n !== i) expect(firstBitMismatch(row(moved[l], 0, n), row(base[l], 0, n)), `${what}: row ${n} must move`).not.toBe(-1);
              // The other batch items do not see the change at all.
              for (let b = 1; b < c.B; b++)
                for (let n = 0; n < c.N; n++) expect(firstBitMismatch(row(moved[l], b, n), row(base[l], b, n)), `${what}: item ${b} row ${n}`).toBe(-1);
            }
          }
        }
      });
});

describe('ttaStack: the contrast (the invariance test is not vacuous)', () => {
  for (const backend of available())
    for (const dtype of ['float32', 'float64'] as const)
      it(`${backend} ${dtype}: mask 'none', or layer-1 queries from the tokens, leak token i into row i`, () => {
        const seed = freshSeed();
        const d = 8, N = 7;
        for (const heads of [1, 2, 4]) {
          const w = randomTtaWeights({ d, heads, layers: 3, ffn: 12, seed });
          const { tok, pos } = embeddings(seed, 1, N, d, dtype);
          for (const i of [0, 3, 6]) {
            const changed = changeToken(tok, 0, i, seed);
            for (const leak of [{ mask: 'none' as const }, { queries: 'input' as const }]) {
              const a = ttaStack(w, tok, pos, { backend, ...leak }).outputs;
              const b = ttaStack(w, changed, pos, { backend, ...leak }).outputs;
              for (let l = 0; l < 3; l++)
                expect(firstBitMismatch(row(a[l], 0, i), row(b[l], 0, i)), `seed=${seed} ${backend} ${dtype} heads=${heads} i=${i} ${JSON.stringify(leak)} depth ${l + 1}`).not.toBe(-1);
            }
          }
        }
      });
});

// ---- a naive per-position reference: plain loops, float64, nothing from the library --------------

function mat(x: ArrayLike<number>, W: ArrayLike<number>, b: ArrayLike<number>, out: number, inp: number): number[] {
  const y: number[] = [];
  for (let o = 0; o < out; o++) {
    let s = b[o];
    for (let e = 0; e < inp; e++) s += W[o * inp + e] * x[e];
    y.push(s);
  }
  return y;
}

function norm(x: number[], g: ArrayLike<number>, be: ArrayLike<number>): number[] {
  const m = x.reduce((a, v) => a + v, 0) / x.length;
  const v = x.reduce((a, t) => a + (t - m) ** 2, 0) / x.length;
  return x.map((t, e) => ((t - m) / Math.sqrt(v + 1e-5)) * g[e] + be[e]);
}

/** Output row i of every layer for one sequence (tok [N][d], pos [N][d]), position by position. */
function naive(w: TtaWeights, tok: number[][], pos: number[][]): number[][][] {
  const { d, heads: H } = w;
  const N = tok.length, dh = d / H;
  const x0 = tok.map((t, n) => t.map((v, e) => v + pos[n][e]));
  let stream = pos.map((p) => p.slice());
  const out: number[][][] = [];
  for (const l of w.layers) {
    const next: number[][] = [];
    for (let i = 0; i < N; i++) {
      const q = mat(stream[i], l.wq.data, l.bq.data, d, d);
      const att = new Array(d).fill(0);
      for (let h = 0; h < H; h++) {
        const s: number[] = [];
        const vs: number[][] = [];
        for (let j = 0; j < N; j++) {
          if (j === i) continue;
          const k = mat(x0[j], l.wk.data, l.bk.data, d, d);
          vs.push(mat(x0[j], l.wv.data, l.bv.data, d, d));
          let dot = 0;
          for (let e = h * dh; e < (h + 1) * dh; e++) dot += q[e] * k[e];
          s.push(dot / Math.sqrt(dh));
        }
        const m = Math.max(...s);
        const p = s.map((t) => Math.exp(t - m));
        const z = p.reduce((a, t) => a + t, 0);
        p.forEach((pj, j) => {
          for (let e = h * dh; e < (h + 1) * dh; e++) att[e] += (pj / z) * vs[j][e];
        });
      }
      let x = mat(att, l.wo.data, l.bo.data, d, d).map((t, e) => t + stream[i][e]);
      if (l.ln1) x = norm(x, l.ln1.gamma.data, l.ln1.beta.data);
      if (l.ffn) {
        const f = l.ffn.w1.shape[0];
        const z = mat(x, l.ffn.w1.data, l.ffn.b1.data, f, d).map((t) => 0.5 * t * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (t + 0.044715 * t ** 3))));
        x = mat(z, l.ffn.w2.data, l.ffn.b2.data, d, f).map((t, e) => t + x[e]);
        if (l.ln2) x = norm(x, l.ln2.gamma.data, l.ln2.beta.data);
      }
      next.push(x);
    }
    out.push(next);
    stream = next;
  }
  return out;
}

describe('ttaStack vs a naive per-position reference', () => {
  for (const backend of available())
    it(`${backend}: 2 layers, N = 5, d = 4, 2 heads, FFN and LayerNorm; float64 and float32`, () => {
      const seed = freshSeed();
      const N = 5, d = 4;
      const w = randomTtaWeights({ d, heads: 2, layers: 2, ffn: 6, seed });
      const { tok, pos } = embeddings(seed, 1, N, d, 'float64');
      const rows = (t: Tensor) => Array.from({ length: N }, (_, n) => Array.from(t.data.subarray(n * d, (n + 1) * d)));
      const ref = naive(w, rows(tok), rows(pos));
      const worst = (outs: Tensor[]) => {
        let err = 0, mag = 0;
        outs.forEach((t, l) =>
          ref[l].flat().forEach((r, x) => {
            err = Math.max(err, Math.abs(t.data[x] - r));
            mag = Math.max(mag, Math.abs(r));
          }),
        );
        return err / mag;
      };
      // float64: the same operations in another order (gemm blocking, softmax with the max
      // subtracted either way), so only rounding differs: a few ulps on O(1) values, bound 1e-12.
      expect(worst(ttaStack(w, tok, pos, { backend }).outputs), `seed=${seed} float64`).toBeLessThan(1e-12);
      // float32: inputs, Q/K/V and each layer's output are rounded to float32 (relative 6e-8 each)
      // and the attention accumulates in float32; through two LayerNorms that stays below 1e-5.
      const t32 = new Tensor(Float32Array.from(tok.data), tok.shape);
      const p32 = new Tensor(Float32Array.from(pos.data), pos.shape);
      const ref32 = naive(w, rows(new Tensor(Float64Array.from(t32.data), tok.shape)), rows(new Tensor(Float64Array.from(p32.data), pos.shape)));
      ref.splice(0, ref.length, ...ref32);
      expect(worst(ttaStack(w, t32, p32, { backend }).outputs), `seed=${seed} float32`).toBeLessThan(1e-5);
    });
});

describe('ttaStack and randomTtaWeights: errors', () => {
  it('checks weights, shapes, dtypes and options', () => {
    const w = randomTtaWeights({ d: 4, heads: 2, layers: 1, seed: 1 });
    const { tok, pos } = embeddings(1, 1, 3, 4, 'float64');
    expect(errorCode(() => randomTtaWeights({ d: 6, heads: 4, layers: 1, seed: 1 }))).toBe('E_RANGE');
    expect(errorCode(() => randomTtaWeights({ d: 4, heads: 2, layers: 0, seed: 1 }))).toBe('E_RANGE');
    expect(errorCode(() => randomTtaWeights({ d: 4, heads: 2, layers: 1, seed: -1 }))).toBe('E_RANGE');
    expect(errorCode(() => ttaStack(w, normal([1, 3, 5], { seed: 1, dtype: 'float64' }), pos))).toBe('E_SHAPE');
    expect(errorCode(() => ttaStack(w, tok, normal([4, 4], { seed: 1, dtype: 'float64' })))).toBe('E_SHAPE');
    expect(errorCode(() => ttaStack(w, tok, normal([3, 4], { seed: 1 })))).toBe('E_DTYPE');
    expect(errorCode(() => ttaStack(w, tok, pos, { queries: 'tokens' as never }))).toBe('E_ARG');
    expect(errorCode(() => ttaStack(w, tok, pos, { mask: 'diagonal' as never }))).toBe('E_ARG');
    expect(errorCode(() => ttaStack(w, tok, pos, { backend: 'gpu' as never }))).toBe('E_BACKEND');
    expect(errorCode(() => ttaStack({ ...w, layers: [] }, tok, pos))).toBe('E_ARG');
    expect(errorCode(() => ttaStack({ ...w, layers: [{ ...w.layers[0], wq: normal([4, 3], { seed: 1, dtype: 'float64' }) }] }, tok, pos))).toBe('E_SHAPE');
    const bad = tok.data.slice();
    bad[2] = NaN;
    expect(errorCode(() => ttaStack(w, new Tensor(bad, tok.shape), pos))).toBe('E_RANGE');
    expect(errorCode(() => ttaStack(w, tok, pos))).toBe('no error');
  });

  it('rejects a NaN or infinite weight or embedding, naming the tensor and the index', () => {
    const w = randomTtaWeights({ d: 4, heads: 2, layers: 2, ffn: 6, seed: 1 });
    const { tok, pos } = embeddings(1, 1, 3, 4, 'float64');
    const poisoned = (layer: number, key: 'wq' | 'bo', i: number, v: number): TtaWeights => {
      const t = w.layers[layer][key];
      const data = t.data.slice();
      data[i] = v;
      return { ...w, layers: w.layers.map((l, k) => (k === layer ? { ...l, [key]: new Tensor(data, t.shape) } : l)) };
    };
    const ffnPoisoned: TtaWeights = { ...w, layers: [w.layers[0], { ...w.layers[1], ffn: { ...w.layers[1].ffn!, w2: new Tensor(w.layers[1].ffn!.w2.data.map((x, i) => (i === 7 ? -Infinity : x)), [4, 6]) } }] };
    const gainPoisoned: TtaWeights = { ...w, layers: [{ ...w.layers[0], ln1: { ...w.layers[0].ln1!, gamma: new Tensor(Float64Array.of(1, NaN, 1, 1), [4]) } }, w.layers[1]] };
    const cases: [TtaWeights, RegExp][] = [
      [poisoned(0, 'wq', 5, NaN), /layers\[0\]\.wq.*element 5 is NaN/],
      [poisoned(1, 'bo', 2, Infinity), /layers\[1\]\.bo.*element 2 is Infinity/],
      [ffnPoisoned, /layers\[1\]\.ffn\.w2.*element 7 is -Infinity/],
      [gainPoisoned, /layers\[0\]\.ln1\.gamma.*element 1 is NaN/],
    ];
    for (const [bad, msg] of cases) {
      expect(errorCode(() => ttaStack(bad, tok, pos))).toBe('E_RANGE');
      expect(() => ttaStack(bad, tok, pos)).toThrow(msg);
    }
    const p = pos.data.slice();
    p[9] = Infinity;
    expect(() => ttaStack(w, tok, new Tensor(p, pos.shape))).toThrow(/posEmb.*element 9 is Infinity/);
    expect(errorCode(() => ttaStack(w, tok, new Tensor(p, pos.shape)))).toBe('E_RANGE');
    const t = tok.data.slice();
    t[4] = -Infinity;
    expect(() => ttaStack(w, new Tensor(t, tok.shape), pos)).toThrow(/tokenEmb.*element 4 is -Infinity/);
  });

  it('randomTtaWeights takes the seed as a number or a bigint (the same weights), up to 2^64 - 1', () => {
    const a = randomTtaWeights({ d: 4, heads: 2, layers: 1, seed: 7 });
    const b = randomTtaWeights({ d: 4, heads: 2, layers: 1, seed: 7n });
    expect(firstBitMismatch(b.layers[0].wq.data, a.layers[0].wq.data)).toBe(-1);
    expect(firstBitMismatch(b.layers[0].ln1!.beta.data, a.layers[0].ln1!.beta.data)).toBe(-1);
    expect(errorCode(() => randomTtaWeights({ d: 4, heads: 2, layers: 1, seed: (1n << 64n) - 1n }))).toBe('no error');
    expect(errorCode(() => randomTtaWeights({ d: 4, heads: 2, layers: 1, seed: 1n << 64n }))).toBe('E_RANGE');
    expect(errorCode(() => randomTtaWeights({ d: 4, heads: 2, layers: 1 } as never))).toBe('E_ARG');
  });
});
