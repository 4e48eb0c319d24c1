// Every op has a Promise form that runs off the event loop (invariant 5) and gives the same bits
// as the synchronous form, on every backend.
import { describe, expect, it } from 'vitest';
import * as k from '../dist/index.js';
import { available, firstBitMismatch, freshSeed } from './helpers.js';

describe('async forms', () => {
  for (const backend of available()) {
    it(`equal the synchronous forms on ${backend}`, async () => {
      const seed = freshSeed();
      const msg = `seed=${seed} backend=${backend}`;
      const x = k.uniform([3, 40, 5], { seed, backend: 'js' });
      const same = (a: ArrayBufferView, b: ArrayBufferView, what: string) => expect(firstBitMismatch(a, b), `${msg} ${what}`).toBe(-1);
      expect([...(await k.philox4x32Async([1, 2, 3, 4], [5, 6], { backend }))]).toEqual([...k.philox4x32([1, 2, 3, 4], [5, 6], { backend })]);
      same((await k.uniformAsync([1001], { seed, backend })).data, k.uniform([1001], { seed, backend }).data, 'uniform');
      same((await k.normalAsync([1001], { seed, backend })).data, k.normal([1001], { seed, backend }).data, 'normal');
      same((await k.bernoulliAsync([1001], { p: 0.2, seed, backend })).data, k.bernoulli([1001], { p: 0.2, seed, backend }).data, 'bernoulli');
      const da = await k.dropoutAsync(x, { p: 0.3, seed, backend });
      const ds = k.dropout(x, { p: 0.3, seed, backend });
      same(da.output.data, ds.output.data, 'dropout output');
      same(da.mask.data, ds.mask.data, 'dropout mask');
      expect(da.output.shape).toEqual([3, 40, 5]);
      const ids = [1, 7, 8, 9, 10, 11, 2, 12, 13, 14, 15, 16];
      const mopts = { vocabSize: 20, maskTokenId: 3, specialTokenIds: [0, 1, 2], maskProb: 0.5, seed, backend };
      const ma = await k.mlmMaskAsync(ids, mopts);
      const ms = k.mlmMask(ids, mopts);
      same(ma.inputIds.data, ms.inputIds.data, 'mlm inputIds');
      same(ma.labels.data, ms.labels.data, 'mlm labels');
      const ea = await k.maeMaskAsync({ batch: 2, tokens: 30, ratio: 0.5, seed, backend });
      const es = k.maeMask({ batch: 2, tokens: 30, ratio: 0.5, seed, backend });
      same(ea.idsRestore.data, es.idsRestore.data, 'mae idsRestore');
      same(ea.idsKeep.data, es.idsKeep.data, 'mae idsKeep');
      same(ea.mask.data, es.mask.data, 'mae mask');
      same((await k.dropTokensAsync(x, { ratio: 0.25, seed, backend })).output.data, k.dropTokens(x, { ratio: 0.25, seed, backend }).output.data, 'dropTokens');
      const table = x.reshape([15, 40]);
      same((await k.expectedEmbeddingAsync(table, { maskTokenId: 0, backend })).data, k.expectedEmbedding(table, { maskTokenId: 0, backend }).data, 'expectedEmbedding');
    });

    it(`do not block the event loop on ${backend}`, async () => {
      // A synchronous implementation would finish inside the call: its promise would settle before
      // the first event-loop turn. Off the loop, the loop keeps turning while the kernel runs.
      const n = backend === 'js' ? 1 << 20 : 1 << 23;
      let done = false;
      const p = k.dropoutAsync(new Float32Array(n), { p: 0.5, seed: 1, backend }).then((r) => ((done = true), r));
      let turns = 0;
      while (!done) {
        await new Promise((r) => setImmediate(r));
        turns++;
      }
      expect((await p).output.size).toBe(n);
      expect(turns, 'event-loop turns while the kernel ran').toBeGreaterThan(1);
    });
  }
});

describe('concurrent calls', () => {
  it('many Promise forms in flight at once (thread pool, worker thread) all give the right bits', async () => {
    const seed = freshSeed();
    const x = k.uniform([50_000], { seed, backend: 'js' });
    const jobs: Promise<void>[] = [];
    for (let i = 0; i < 24; i++) {
      const backend = available()[i % available().length];
      jobs.push(
        k.dropoutAsync(x, { p: 0.2, seed: seed + i, backend }).then((r) => {
          const ref = k.dropout(x, { p: 0.2, seed: seed + i, backend: 'js' });
          expect(firstBitMismatch(r.output.data, ref.output.data), `seed=${seed + i} backend=${backend}`).toBe(-1);
        }),
      );
    }
    // synchronous calls on the main thread while the async ones run on the pool
    for (let i = 0; i < 5; i++) {
      const u = k.uniform([70_001], { seed: seed + 100 + i });
      expect(firstBitMismatch(u.data, k.uniform([70_001], { seed: seed + 100 + i, backend: 'js' }).data)).toBe(-1);
    }
    await Promise.all(jobs);
  });
});
