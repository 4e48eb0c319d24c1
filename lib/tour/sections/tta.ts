// Tour section, techniques.md section 2 (T-TA, "a faster, better MLM"): a 4-layer T-TA stack
// (queries from positions, keys/values from the layer-1 inputs, noSelf mask) on every backend and
// both dtypes: changing token i leaves output row i the same to the last bit at every depth, while
// every other row moves; without the noSelf mask row i moves too.
import { Tensor, normal, randomTtaWeights, ttaStack, type FloatArray } from '../../index.js';
import type { TourRow, TourSection } from '../types.js';
import { availableBackends } from '../util.js';

const N = 16, d = 32, HEADS = 4, LAYERS = 4;

/** tok with token i replaced by other values (a different token). */
function changeToken(tok: Tensor<FloatArray>, i: number): Tensor<FloatArray> {
  const data = tok.data.slice();
  for (let e = 0; e < d; e++) data[i * d + e] = -2 * data[i * d + e] + 1;
  return new Tensor(data, tok.shape);
}

/** Per depth: whether row i has the same bits, the largest change of any other row, and how many other rows moved. */
function compare(a: Tensor[], b: Tensor[], i: number) {
  return a.map((t, l) => {
    let same = true, maxOther = 0, moved = 0;
    for (let n = 0; n < N; n++) {
      let rowMoved = false;
      for (let e = 0; e < d; e++) {
        const x = t.data[n * d + e], y = b[l].data[n * d + e];
        if (n === i) same &&= Object.is(x, y);
        else {
          maxOther = Math.max(maxOther, Math.abs(x - y));
          rowMoved ||= !Object.is(x, y);
        }
      }
      if (rowMoved) moved++;
    }
    return { same, maxOther, moved };
  });
}

export const section: TourSection = {
  name: 'tta',
  title: 'T-TA: no output row i depends on token i, at any depth, to the last bit (techniques 2)',
  async run(ctx) {
    const backends = availableBackends();
    const w = randomTtaWeights({ d, heads: HEADS, layers: LAYERS, ffn: 2 * d, seed: 11 });
    const positions = ctx.quick ? [0, 9] : [0, 5, 9, 15];
    // per depth: all row-i checks identical, the smallest "largest change of another row", rows moved
    const depth = Array.from({ length: LAYERS }, () => ({ same: true, minMaxOther: Infinity, allMoved: true }));
    let runs = 0;
    const total = backends.length * 2;
    for (const backend of backends)
      for (const dtype of ['float32', 'float64'] as const) {
        ctx.progress('T-TA stacks', runs++, total);
        const tok = normal([1, N, d], { seed: 12, dtype }) as Tensor<FloatArray>;
        const pos = normal([N, d], { seed: 13, dtype }) as Tensor<FloatArray>;
        const base = ttaStack(w, tok, pos, { backend }).outputs;
        for (const i of positions) {
          const c = compare(base, ttaStack(w, changeToken(tok, i), pos, { backend }).outputs, i);
          c.forEach((r, l) => {
            depth[l].same &&= r.same;
            depth[l].minMaxOther = Math.min(depth[l].minMaxOther, r.maxOther);
            depth[l].allMoved &&= r.moved === N - 1;
          });
        }
      }
    ctx.progress('T-TA stacks', total, total);
    // The contrast: the same stack with mask 'none' (float64, the default backend).
    const tok = normal([1, N, d], { seed: 12, dtype: 'float64' });
    const pos = normal([N, d], { seed: 13, dtype: 'float64' });
    const i0 = 5;
    const plain = ttaStack(w, tok, pos, { mask: 'none' }).outputs;
    const changed = ttaStack(w, changeToken(tok, i0), pos, { mask: 'none' }).outputs;
    let rowShift = 0;
    for (let e = 0; e < d; e++) rowShift = Math.max(rowShift, Math.abs(plain[0].data[i0 * d + e] - changed[0].data[i0 * d + e]));
    const leakLast = compare(plain, changed, -1)[LAYERS - 1].moved; // i = -1: every row counts
    ctx.note(`stack: N ${N}, d ${d}, ${HEADS} heads, ${LAYERS} layers (attention + LayerNorm + FFN ${2 * d}); tokens changed: ${positions.join(', ')}; backends ${backends.join(', ')}; float32 and float64`);
    const rows: TourRow[] = depth.map((r, l) => ({
      claim: `depth ${l + 1}: row i unchanged to the last bit; every other row moves`,
      computed: `row i ${r.same ? 'bit-identical' : 'MOVED'} in all ${positions.length * total} runs; other rows: ${r.allMoved ? 'all' : 'NOT all'} moved, each run moving one by >= ${r.minMaxOther.toExponential(2)}`,
      pass: r.same && r.allMoved && r.minMaxOther > 0,
    }));
    rows.push({
      claim: `contrast: mask 'none' (no T-TA diagonal): token ${i0} leaks into row ${i0}`,
      computed: `row ${i0} moves by up to ${rowShift.toExponential(2)} at depth 1; ${leakLast} of ${N} rows moved at depth ${LAYERS}`,
      pass: rowShift > 0 && leakLast === N,
    });
    return rows;
  },
};
