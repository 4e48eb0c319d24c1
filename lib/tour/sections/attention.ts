// Tour section, techniques.md section 2 (masked attention): the mask kinds as probability
// matrices (a terminal picture and the faceted heatmap attention-masks.svg), a fully hidden row
// giving lse -inf and output 0, T-TA's noSelf independence, the same Philox attention dropout on
// every backend, and causal skipping the hidden tiles.
import { attention, normal, tensor, type MaskKind, type Tensor } from '../../index.js';
import type { TourSection } from '../types.js';
import { SHADES, availableBackends, timeMs } from '../util.js';

interface Cell {
  panel: string;
  query: number;
  key: number;
  p: number;
  hidden: boolean;
}

/** The cells of head `h` of batch item `b` of a probability tensor [B, H, Nq, Nk]. */
function cells(panel: string, probs: Tensor, b: number, h: number): Cell[] {
  const [, H, Nq, Nk] = probs.shape;
  const out: Cell[] = [];
  const base = (b * H + h) * Nq * Nk;
  for (let i = 0; i < Nq; i++)
    for (let j = 0; j < Nk; j++) {
      const p = probs.data[base + i * Nk + j] as number;
      out.push({ panel, query: i, key: j, p, hidden: p === 0 });
    }
  return out;
}

export const section: TourSection = {
  name: 'attention',
  title: 'Masked scaled-dot-product attention: mask kinds, T-TA noSelf, dropout, causal tiles (techniques 2)',
  async run(ctx) {
    const available = availableBackends();
    const N = 12, D = 16;
    const q = normal([1, 4, N, D], { seed: 1 });
    const k = normal([1, 4, N, D], { seed: 2 });
    const v = normal([1, 4, N, D], { seed: 3 });
    const kinds: MaskKind[] = ['causal', 'noSelf', 'causalNoSelf', 'anticausal'];
    const { probs, lse } = attention(q, k, v, { mask: kinds, returnProbs: true, returnLse: true });

    ctx.note('probability matrices (rows: queries, columns: keys; blank = hidden):');
    ctx.note(('  ' + kinds.map((kd) => kd.padEnd(N + 3)).join('')).trimEnd());
    for (let i = 0; i < N; i++) {
      let line = '  ';
      for (let h = 0; h < 4; h++) {
        for (let j = 0; j < N; j++) {
          const p = probs!.data[(h * N + i) * N + j];
          line += p === 0 ? ' ' : SHADES[Math.min(9, 1 + Math.floor(p * 9))];
        }
        line += '   ';
      }
      ctx.note(line.trimEnd());
    }

    // the plot: the four kinds, per-head kinds with a query block at the end of a longer key
    // sequence (bottom-right alignment), and key padding alone and with causal
    const names = ['causal', 'noSelf', 'causal + noSelf', 'anticausal'];
    const data: Cell[] = kinds.flatMap((_, h) => cells(names[h], probs!, 0, h));
    const Nq = 8;
    const ph = attention(normal([1, 2, Nq, D], { seed: 6 }), normal([1, 2, N, D], { seed: 7 }), normal([1, 2, N, D], { seed: 8 }), { mask: ['causal', 'anticausal'], returnProbs: true }).probs!;
    data.push(...cells(`per head (Nq ${Nq}, Nk ${N}): h0 causal`, ph, 0, 0), ...cells(`per head (Nq ${Nq}, Nk ${N}): h1 anticausal`, ph, 0, 1));
    const kp = attention(normal([2, 2, N, D], { seed: 9 }), normal([2, 2, N, D], { seed: 10 }), normal([2, 2, N, D], { seed: 11 }), { mask: ['none', 'causal'], keyLengths: [N, 7], returnProbs: true }).probs!;
    data.push(...cells('key padding (length 7)', kp, 1, 0), ...cells('key padding 7 + causal', kp, 1, 1));
    await ctx.plot('attention-masks.svg', {
      title: { text: 'Attention probabilities per mask kind (grey: hidden key)', anchor: 'start' },
      data: { values: data },
      facet: { field: 'panel', type: 'nominal', sort: [...new Set(data.map((c) => c.panel))], title: null, header: { labelFontSize: 11 } },
      columns: 4,
      resolve: { scale: { y: 'independent' } },
      spec: {
        width: 132,
        height: 132,
        encoding: {
          x: { field: 'key', type: 'ordinal', title: 'key j', axis: { labelFontSize: 8 } },
          y: { field: 'query', type: 'ordinal', title: 'query i', axis: { labelFontSize: 8 } },
        },
        layer: [
          { mark: { type: 'rect', fill: '#e4e4e4', stroke: 'white', strokeWidth: 0.5 } },
          {
            transform: [{ filter: '!datum.hidden' }],
            mark: { type: 'rect', stroke: 'white', strokeWidth: 0.5 },
            encoding: { color: { field: 'p', type: 'quantitative', title: 'probability', scale: { scheme: 'blues', domain: [0, 1] } } },
          },
        ],
      },
    });

    // T-TA: with the noSelf mask, output row i never depends on token i's key and value
    const i0 = 5;
    const k2 = tensor(k.data.slice(), k.shape);
    const v2 = tensor(v.data.slice(), v.shape);
    for (let d = 0; d < D; d++) {
      k2.data[i0 * D + d] += 3;
      v2.data[i0 * D + d] -= 2;
    }
    const a = attention(q, k, v, { mask: 'noSelf' }).output.data;
    const b = attention(q, k2, v2, { mask: 'noSelf' }).output.data;
    const rowSame = a.subarray(i0 * D, (i0 + 1) * D).every((x, d) => Object.is(x, b[i0 * D + d]));
    let othersMoved = 0;
    for (let i = 0; i < N; i++) if (i !== i0 && a.subarray(i * D, (i + 1) * D).some((x, d) => x !== b[i * D + d])) othersMoved++;
    const big = ctx.quick ? 256 : 1024;
    const qb = normal([1, 8, big, 64], { seed: 4 });
    const kb = normal([1, 8, big, 64], { seed: 5 });
    ctx.progress('attention timing', 0, 2);
    const tNone = timeMs(() => attention(qb, kb, kb, { mask: 'none' }));
    ctx.progress('attention timing', 1, 2);
    const tCausal = timeMs(() => attention(qb, kb, kb, { mask: 'causal' }));
    ctx.progress('attention timing', 2, 2);
    const drop = available.map((be) => attention(q, k, v, { dropout: { p: 0.3, seed: 9 }, backend: be }).output.data);
    const maxDiff = Math.max(...drop.map((o) => Math.max(...o.map((x, t) => Math.abs(x - drop[0][t])))));
    return [
      { claim: 'causal is aligned bottom right: query i sees key j <= i + Nk - Nq', computed: `Nq ${Nq}, Nk ${N}: query 0 sees keys 0..${N - Nq}, query ${Nq - 1} all ${N}`, pass: ph.data[N - Nq] > 0 && ph.data[N - Nq + 1] === 0 && ph.data[(Nq - 1) * N + N - 1] > 0 },
      { claim: 'a query with no visible key (causalNoSelf, row 0) gives lse -Infinity, output 0', computed: `lse ${lse!.data[2 * N]}`, pass: lse!.data[2 * N] === -Infinity },
      { claim: `T-TA noSelf: changing token ${i0}'s key/value leaves output row ${i0} bit-identical`, computed: `row ${i0} ${rowSame ? 'identical' : 'moved'}, ${othersMoved} of ${N - 1} other rows moved`, pass: rowSame && othersMoved === N - 1 },
      { claim: 'attention dropout: the same Philox mask on every backend', computed: `max difference ${maxDiff.toExponential(1)} across ${available.join(', ')}`, pass: maxDiff < 1e-5 },
      { claim: `causal skips the hidden tiles (N = ${big}, H = 8, D = 64)`, computed: `none ${tNone.toFixed(1)} ms, causal ${tCausal.toFixed(1)} ms (${(tNone / tCausal).toFixed(2)}x)`, pass: null },
    ];
  },
};
