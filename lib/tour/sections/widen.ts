// Tour section, techniques.md section 6, "Can a Transformer be enlarged losslessly": a random
// 3-block Transformer (Philox weights) widened by k = 2, 3, 4 computes the same logits to float32
// rounding, every hidden state becomes repeat_interleave(h, k) / sqrt(k) with the same norm,
// inserted zero-output blocks are the identity, seeded noise breaks the symmetry between the k
// copies at a cost of O(noise), and a width that is not a multiple cannot be reached exactly with
// LayerNorm (the error is reported). The plot widen.svg: max |logit difference| against k.
import { deepen, randomTransformer, transformerForward, uniform, widen, widenTo, Tensor, type TransformerConfig, type TransformerWeights } from '../../index.js';
import type { TourRow, TourSection } from '../types.js';

/** max |a - b| / max |b| */
function rel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let e = 0, m = 0;
  for (let i = 0; i < b.length; i++) (e = Math.max(e, Math.abs(a[i] - b[i]))), (m = Math.max(m, Math.abs(b[i])));
  return e / (m || 1);
}

const fmt = (x: number) => (x === 0 ? '0' : x.toExponential(1));

export const section: TourSection = {
  name: 'widen',
  title: 'Function-preserving widening and deepening of a Transformer (techniques 6)',
  async run(ctx) {
    const cfg: TransformerConfig = { vocab: 64, dModel: 16, heads: 4, dFF: 48, layers: 3, maxLen: 32, norm: 'layernorm', activation: 'gelu' };
    const N = ctx.quick ? 16 : 32;
    const u = uniform([2 * N], { seed: 61, dtype: 'float64' }).data;
    const ids = new Tensor(Int32Array.from(u, (x) => Math.floor(x * cfg.vocab)), [2, N]);
    const factors = [2, 3, 4];
    const rows: TourRow[] = [];
    const plot: { k: number; weights: string; value: number }[] = [];
    const models: [string, TransformerWeights][] = [
      ['float32', randomTransformer(cfg, { seed: 6, dtype: 'float32' })],
      ['float64', randomTransformer(cfg, { seed: 6, dtype: 'float64' })],
    ];
    ctx.progress('widening', 0, factors.length);
    const worst: Record<string, number[]> = { float32: [], float64: [] };
    let normErr = 0, repErr = 0;
    for (const [fi, k] of factors.entries()) {
      for (const [dtype, w] of models) {
        const ref = transformerForward(w, ids, { returnHidden: true });
        const got = transformerForward(widen(w, { factor: k }), ids, { returnHidden: true });
        const e = rel(got.logits.data, ref.logits.data);
        worst[dtype].push(e);
        plot.push({ k, weights: dtype, value: Math.max(e, 1e-17) });
        if (dtype === 'float64')
          got.hidden!.forEach((t, l) => {
            const h = ref.hidden![l].data, d = cfg.dModel;
            const r = new Float64Array(t.size);
            for (let i = 0; i < r.length; i++) r[i] = h[Math.floor(i / (d * k)) * d + Math.floor((i % (d * k)) / k)] / Math.sqrt(k);
            repErr = Math.max(repErr, rel(t.data, r));
            for (let row = 0; row < 2 * N; row++) {
              let a = 0, b = 0;
              for (let j = 0; j < d; j++) a += h[row * d + j] ** 2;
              for (let j = 0; j < d * k; j++) b += t.data[row * d * k + j] ** 2;
              normErr = Math.max(normErr, Math.abs(Math.sqrt(b / a) - 1));
            }
          });
      }
      ctx.progress('widening', fi + 1, factors.length);
    }
    rows.push(
      {
        claim: 'widen by k = 2 / 3 / 4, float32 weights: same logits to float32 rounding (max |diff| / max |logit| < 4e-6)',
        computed: worst.float32.map(fmt).join(' / '),
        pass: worst.float32.every((e) => e < 4e-6),
      },
      {
        claim: 'the same with float64 weights (< 1e-12)',
        computed: worst.float64.map(fmt).join(' / '),
        pass: worst.float64.every((e) => e < 1e-12),
      },
      {
        claim: 'every hidden state becomes repeat_interleave(h, k) / sqrt(k) (all blocks, k = 2, 3, 4)',
        computed: `max relative difference ${fmt(repErr)}`,
        pass: repErr < 1e-12,
      },
      { claim: 'every hidden vector keeps its norm', computed: `max | |h'| / |h| - 1 | = ${fmt(normErr)}`, pass: normErr < 1e-12 },
    );

    // other variants: RMSNorm, one head, a separate head, post-norm, bidirectional
    {
      const w = randomTransformer({ ...cfg, norm: 'rmsnorm', heads: 1, tiedHead: false, prenorm: false }, { seed: 7, dtype: 'float32' });
      const ref = transformerForward(w, ids, { mask: 'none' }).logits.data;
      const e = factors.map((k) => rel(transformerForward(widen(w, { factor: k }), ids, { mask: 'none' }).logits.data, ref));
      rows.push({ claim: 'RMSNorm, 1 head, separate head, post-norm, bidirectional: k = 2 / 3 / 4 (< 4e-6)', computed: e.map(fmt).join(' / '), pass: e.every((x) => x < 4e-6) });
    }

    // deeper: zero output projections make a block the identity on the residual stream
    {
      const w = models[0][1];
      const ref = transformerForward(w, ids).logits.data;
      const deep = deepen(w, { at: [0, 2, 3] });
      const got = transformerForward(deep, ids).logits.data;
      const same = got.every((x, i) => Object.is(x, ref[i]));
      rows.push({ claim: 'deepen 3 -> 6 blocks (wo, bo, w2, b2 zero): logits bit-for-bit unchanged', computed: same ? 'identical bits' : `max rel diff ${fmt(rel(got, ref))}`, pass: same });
    }

    // symmetry breaking: exact copies get identical gradients; noise separates them
    {
      const w = models[1][1];
      const ref = transformerForward(w, ids).logits.data;
      const noise = 1e-3;
      const wide = widen(w, { factor: 2, noise, seed: 8 });
      const w1 = wide.layers[0].w1.data, cols = 2 * cfg.dModel;
      let equal = 0, pairs = 0;
      for (let i = 0; i < w1.length; i += 2) pairs++, (equal += w1[i] === w1[i + 1] ? 1 : 0);
      const e = rel(transformerForward(wide, ids).logits.data, ref);
      rows.push({
        claim: `noise ${noise}: the k copies of a weight differ, logits move by O(noise) (< 20 noise)`,
        computed: `${equal} of ${pairs} copy pairs of w1 [${w1.length / cols}, ${cols}] equal; logits moved ${fmt(e)} = ${(e / noise).toFixed(1)} noise`,
        pass: equal === 0 && e < 20 * noise && e > 0,
      });
    }

    // widths that are not multiples
    {
      const ln = widenTo(models[1][1], 20, { probe: ids });
      const rms = widenTo(randomTransformer({ ...cfg, norm: 'rmsnorm' }, { seed: 9, dtype: 'float64' }), 20, { probe: ids });
      rows.push(
        { claim: 'widenTo 16 -> 20, RMSNorm (uneven copies, gain * sqrt(d / D)): exact', computed: `max rel diff ${fmt(rms.relError)}`, pass: rms.relError < 1e-12 },
        { claim: 'widenTo 16 -> 20, LayerNorm: cannot be exact (the mean of uneven copies moves); error left', computed: `max |diff| ${fmt(ln.maxAbsError)}, relative ${fmt(ln.relError)}`, pass: null },
      );
    }

    await ctx.plot('widen.svg', {
      title: { text: 'Widened Transformer vs original: max |logit difference| / max |logit|', anchor: 'start' },
      data: { values: plot },
      width: 320,
      height: 200,
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'k', type: 'ordinal', title: 'width factor k' },
        y: { field: 'value', type: 'quantitative', title: 'relative difference', scale: { type: 'log' } },
        color: { field: 'weights', type: 'nominal', title: 'weights' },
      },
    });
    return rows;
  },
};
