// Tour section, techniques.md section 1 ("why MAE is more consistent than MLM"): the relative error
// of the mean corrupted attention output against the clean one when a fraction p of the key/value
// rows is replaced by a [MASK] vector (MLM) or removed (MAE), per drop rate, with the plot
// mlm-vs-mae.svg; the expected-embedding fix; and DropToken's identity (drop == zero the column
// and renormalise).
import { dropTokenEquivalence, maskConsistency } from '../../index.js';
import type { TourRow, TourSection } from '../types.js';

const RATES = [0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5];
const N = 64, D = 16, SEED = 1;

const f3 = (x: number) => x.toFixed(3);

export const section: TourSection = {
  name: 'consistency',
  title: 'MLM vs MAE: removing tokens keeps attention consistent, replacing them does not; the expected-embedding fix (techniques 1)',
  async run(ctx) {
    const draws = ctx.quick ? 100 : 200;
    ctx.progress('corruption draws', 0, 2);
    // The [MASK] key/value: a random vector (like a learned [MASK] embedding), or the mean row
    // (the kindest replacement for MLM). The same dropped rows for all three.
    const random = maskConsistency({ N, D, dropRates: RATES, draws, seed: SEED, maskVector: 'random', expectedEmbedding: false });
    ctx.progress('corruption draws', 1, 2);
    const mean = maskConsistency({ N, D, dropRates: RATES, draws, seed: SEED, maskVector: 'mean' });
    ctx.progress('corruption draws', 2, 2);
    const e = mean.expected!;
    ctx.note(`random Q, K, V [${N}, ${D}]; relative error ||mean over draws of Attn(corrupted) - Attn(full)||_F / ||Attn(full)||_F; ${draws} draws; the same dropped rows for MLM and MAE`);
    const rows: TourRow[] = RATES.map((p, r) => {
      const a = random.rates[r], m = mean.rates[r]; // the same draws, so the same MAE error
      return {
        claim: `p = ${p}: removing ${a.corrupted} of ${N} K/V rows (MAE) stays closer than replacing them (MLM)`,
        computed: `MLM ${f3(a.mlm)} (random [MASK]), ${f3(m.mlm)} (mean row as [MASK]); MAE ${f3(a.mae)}`,
        pass: a.mae < a.mlm && a.mae < m.mlm,
      };
    });
    rows.push(
      {
        claim: 'expected embedding: E over the 80/10/10 corruption (p = 0.15) of an input embedding = the fixed table row',
        computed: `training mean vs fixed table ${f3(e.embeddingFixed)}, vs raw table ${f3(e.embeddingRaw)} (closed-form gap ${f3(e.embeddingRawExact)})`,
        pass: e.embeddingFixed < e.embeddingRaw / 3,
      },
      {
        claim: 'the same for attention with keys from positions, values from the embeddings (linear in them)',
        computed: `mean corrupted output vs fixed ${f3(e.valuesFixed)}, vs raw ${f3(e.valuesRaw)}`,
        pass: e.valuesFixed < e.valuesRaw / 3,
      },
      {
        claim: 'keys and values both from the embeddings: the fix removes only the first-order gap',
        computed: `vs fixed ${f3(e.keysValuesFixed)}, vs raw ${f3(e.keysValuesRaw)}`,
        pass: null,
      },
    );
    const dt = dropTokenEquivalence({ N, D, ratio: 0.15, seed: SEED });
    let worst = 0;
    dt.compact.forEach((c, x) => (worst = Math.max(worst, Math.abs(c - dt.renormalised[x]))));
    rows.push({
      claim: 'DropToken: dropping tokens == zeroing their attention columns and renormalising',
      computed: `ratio 0.15, ${dt.kept.length} of ${N} kept: compact vs masked ${dt.bitIdentical ? 'bit-identical' : 'DIFFER'}; vs renormalised P: max |diff| ${worst.toExponential(1)} (probabilities ${dt.probsMaxDiff.toExponential(1)})`,
      pass: dt.bitIdentical && worst < 1e-13 && dt.probsMaxDiff < 1e-14,
    });
    const values = RATES.flatMap((p, r) => [
      { rate: p, error: random.rates[r].mlm, method: 'MLM, random [MASK] vector' },
      { rate: p, error: mean.rates[r].mlm, method: 'MLM, mean row as [MASK]' },
      { rate: p, error: random.rates[r].mae, method: 'MAE (removal)' },
    ]);
    await ctx.plot('mlm-vs-mae.svg', {
      title: { text: `Mean attention output under corruption vs the full output (N = ${N}, D = ${D})`, anchor: 'start' },
      width: 420,
      height: 260,
      data: { values },
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'rate', type: 'quantitative', title: 'drop rate p' },
        y: { field: 'error', type: 'quantitative', title: 'relative error (Frobenius)', scale: { type: 'log' } },
        color: { field: 'method', type: 'nominal', title: null },
      },
    });
    return rows;
  },
};
