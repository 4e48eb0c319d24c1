// Tour section, techniques.md section 1 ("Dropout view of MLM and MAE"): one Philox4x32-10 stream,
// bit-identical on every backend; dropout's kept fraction and unbiased mean; BERT's 80/10/10 MLM
// corruption; MAE's token dropping; and the expected-embedding fix for the [MASK] mismatch.
import { bernoulli, dropout, expectedEmbedding, maeMask, mlmMask, tensor, uniform } from '../../index.js';
import type { TourRow, TourSection } from '../types.js';
import { availableBackends, hash, timeMs } from '../util.js';

/** |x - want| within 5 standard deviations (a false alarm about once in 3.5 million runs). */
const within5sd = (x: number, want: number, sd: number) => Math.abs(x - want) < 5 * sd;

export const section: TourSection = {
  name: 'sampling',
  title: 'Dropout view of MLM and MAE: Philox sampling, dropout, BERT MLM masking, MAE (techniques 1)',
  async run(ctx) {
    const available = availableBackends();
    const rows: TourRow[] = [];

    // ---- reproducibility: the same bits on every backend
    {
      const n = ctx.quick ? 1 << 16 : 1 << 20;
      const x = uniform([n], { seed: 1, backend: 'js' });
      const hashes = available.map((b) => [b, hash(dropout(x, { p: 0.1, seed: 2026, backend: b }).output.data)] as const);
      rows.push({
        claim: `dropout(seed 2026) of ${n} floats: the same bits on every backend`,
        computed: hashes.map(([b, h]) => `${b} ${h}`).join(', '),
        pass: new Set(hashes.map(([, h]) => h)).size === 1,
      });
      const u = available.map((b) => hash(uniform([n], { seed: 7, stream: 3, backend: b }).data));
      rows.push({ claim: 'uniform(seed 7, stream 3): the same bits on every backend', computed: u[0], pass: new Set(u).size === 1 });
    }

    // ---- dropout: y = x e / (1 - p)
    {
      const n = ctx.quick ? 1 << 18 : 1 << 22;
      const p = 0.1;
      const x = tensor(new Float32Array(n).fill(2));
      const { output, mask } = dropout(x, { p, seed: 11 });
      let kept = 0, sum = 0;
      for (let i = 0; i < n; i++) {
        kept += mask.data[i];
        sum += output.data[i];
      }
      const sdKept = Math.sqrt((p * (1 - p)) / n);
      ctx.progress('dropout timing', 0, available.length);
      const times = available.map((b, i) => {
        const ms = timeMs(() => dropout(x, { p, seed: 11, backend: b }));
        ctx.progress('dropout timing', i + 1, available.length);
        return `${b} ${ms.toFixed(1)} ms`;
      });
      rows.push(
        { claim: `dropout p = ${p}, ${n} elements: kept fraction = 1 - p`, computed: `${(kept / n).toFixed(5)} (sd ${sdKept.toExponential(1)})`, pass: within5sd(kept / n, 1 - p, sdKept) },
        { claim: 'dropout: E[y] = x (x = 2)', computed: `mean(y) = ${(sum / n).toFixed(5)}`, pass: within5sd(sum / n / 2, 1, Math.sqrt(p / ((1 - p) * n))) },
        { claim: 'dropout mask = (uniform(same seed) >= p)', computed: 'checked elementwise', pass: uniform([n], { seed: 11 }).data.every((u, i) => (u >= p ? 1 : 0) === mask.data[i]) },
        { claim: 'dropout: time per call', computed: times.join(', '), pass: null },
      );
    }

    // ---- BERT MLM corruption
    {
      const vocab = ['[PAD]', '[CLS]', '[SEP]', '[MASK]', 'the', 'cat', 'sat', 'on', 'a', 'mat', 'and', 'dog', 'ran', 'to', 'it'];
      const sentence = '[CLS] the cat sat on the mat and the dog ran to it [SEP]'.split(' ');
      const ids = sentence.map((w) => vocab.indexOf(w));
      const opts = { vocabSize: vocab.length, maskTokenId: 3, specialTokenIds: [0, 1, 2], maskProb: 0.3, seed: 3 };
      const { inputIds, labels } = mlmMask(ids, opts);
      ctx.note('BERT MLM corruption (maskProb 0.3 for the demo, split 80/10/10):');
      ctx.note(`  input : ${sentence.join(' ')}`);
      ctx.note(`  masked: ${[...inputIds.data].map((i) => vocab[i]).join(' ')}`);
      ctx.note(`  labels: ${[...labels.data].map((l) => (l === -100 ? '.' : vocab[l])).join(' ')}`);
      const n = ctx.quick ? 1 << 16 : 1 << 20;
      const many = new Int32Array(n);
      const u = uniform([n], { seed: 4 }).data;
      for (let i = 0; i < n; i++) many[i] = 4 + Math.floor(u[i] * (vocab.length - 4));
      const r = mlmMask(many, { ...opts, maskProb: 0.15, seed: 5 });
      let sel = 0, toMask = 0, changed = 0;
      for (let i = 0; i < n; i++) {
        if (r.labels.data[i] === -100) continue;
        sel++;
        if (r.inputIds.data[i] === 3) toMask++;
        else if (r.inputIds.data[i] !== many[i]) changed++;
      }
      const pSame = 1 / (vocab.length - 4);
      rows.push(
        { claim: `MLM over ${n} tokens: selected fraction = 0.15`, computed: (sel / n).toFixed(5), pass: within5sd(sel / n, 0.15, Math.sqrt((0.15 * 0.85) / n)) },
        { claim: 'MLM: of those, [MASK] = 0.8', computed: (toMask / sel).toFixed(5), pass: within5sd(toMask / sel, 0.8, Math.sqrt(0.16 / sel)) },
        { claim: `MLM: random other token = 0.1 x (1 - 1/${vocab.length - 4})`, computed: (changed / sel).toFixed(5), pass: within5sd(changed / sel, 0.1 * (1 - pSame), Math.sqrt(0.09 / sel)) },
      );
    }

    // ---- MAE masking and the expected embedding
    {
      const { idsKeep, mask } = maeMask({ batch: 2, tokens: 196, ratio: 0.75, seed: 9 });
      const dropped = mask.data.reduce((s, v) => s + v, 0);
      const t = tensor(new Float64Array([1, 2, 3, 4, 5, 6, 7, 8]), [4, 2]);
      const e = expectedEmbedding(t, { maskTokenId: 0 });
      const nb = ctx.quick ? 1 << 16 : 1 << 20;
      const bernoulliMean = bernoulli([nb], { p: 0.25, seed: 1 }).data.reduce((s, v) => s + v, 0) / nb;
      rows.push(
        { claim: 'MAE keeps round(196 x 0.25) = 49 patches per image', computed: `idsKeep ${idsKeep.shape.join(' x ')}, dropped ${dropped} of 392`, pass: idsKeep.shape[1] === 49 && dropped === 294 },
        {
          claim: "E[e'] = 0.865 e_x + 0.12 e_MASK + 0.015 mean(e) for BERT's numbers",
          computed: `row [3, 4] -> [${[...e.data.subarray(2, 4)].map((v) => v.toFixed(4)).join(', ')}]`,
          pass: Math.abs(e.data[2] - 2.79) < 1e-12 && Math.abs(e.data[3] - 3.79) < 1e-12,
        },
        { claim: `bernoulli(p) has mean p (p = 0.25, ${nb} draws)`, computed: bernoulliMean.toFixed(5), pass: within5sd(bernoulliMean, 0.25, Math.sqrt((0.25 * 0.75) / nb)) },
      );
    }
    return rows;
  },
};
