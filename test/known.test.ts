// Known answers worked out by hand (or with an independent libm) from the Philox test vector
// ctr = 0, key = 0 -> 6627e8d5 e169c58d bc57ac4c 9b00dbd8 (seed 0, stream 0, block 0).
import { describe, expect, it } from 'vitest';
import { bernoulli, dropout, expectedEmbedding, normal, tensor, uniform } from '../dist/index.js';
import { logU32p1, sincos2piU32 } from '../dist/backends/js/philox.js';
import { available, freshSeed } from './helpers.js';

const W = [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8];

describe('known answers', () => {
  for (const backend of available()) {
    it(`uniform, bernoulli, dropout and normal from the Philox test vector on ${backend}`, () => {
      // uniform float32 = (w >>> 8) * 2^-24, exactly
      expect([...uniform([4], { seed: 0, backend }).data]).toEqual(W.map((w) => (w >>> 8) / 2 ** 24));
      expect([...uniform([4], { seed: 0, backend }).data]).toEqual([0.3990464210510254, 0.8805201649665833, 0.7357127666473389, 0.6054818034172058]);
      // bernoulli(p = 0.7): 1 where uniform < 0.7
      expect([...bernoulli([4], { p: 0.7, seed: 0, backend }).data]).toEqual([1, 0, 0, 1]);
      // dropout(p = 0.7): kept where uniform >= 0.7, scaled by fround(1 / 0.3)
      const s = Math.fround(1 / 0.3);
      expect([...dropout(tensor([1, 2, 3, 4]), { p: 0.7, seed: 0, backend }).output.data]).toEqual([0, Math.fround(2 * s), Math.fround(3 * s), 0]);
      // normal: Box-Muller on (w0, w1) and (w2, w3); reference values from CPython's libm
      const z = normal([4], { seed: 0, dtype: 'float64', backend }).data;
      const ref = [0.9911376790966604, -0.9246625882436951, -0.6176089596525953, -0.4820685869111552];
      z.forEach((v, i) => expect(Math.abs(v - ref[i]), `z[${i}] = ${v}`).toBeLessThan(4e-16 * Math.max(1, Math.abs(ref[i])) * 4));
    });

    it(`expectedEmbedding: BERT's 80/10/10 worked example on ${backend}`, () => {
      // rows 1..3 non-special, mean [5, 6]; 0.865 e + 0.12 e_MASK + 0.015 mean
      const t = tensor(new Float64Array([1, 2, 3, 4, 5, 6, 7, 8]), [4, 2]);
      const e = expectedEmbedding(t, { maskTokenId: 0, backend });
      const want = [1, 2, 2.79, 3.79, 4.52, 5.52, 6.25, 7.25];
      e.data.forEach((v, i) => expect(v).toBeCloseTo(want[i], 13));
    });
  }

  it('the deterministic log and sincos agree with Math.log / Math.cos / Math.sin to a few ulp', () => {
    const seed = freshSeed();
    let s = seed >>> 0;
    const out = new Float64Array(2);
    let worstLog = 0, worstTrig = 0;
    for (let t = 0; t < 200000; t++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      const w = t < 4 ? [0, 1, 0xffffffff, 0x80000000][t] : s;
      const ref = Math.log((w + 1) / 2 ** 32);
      if (ref !== 0) worstLog = Math.max(worstLog, Math.abs(logU32p1(w) - ref) / Math.abs(ref));
      else expect(logU32p1(w)).toBe(0);
      sincos2piU32(w, out);
      const th = (2 * Math.PI * w) / 2 ** 32;
      worstTrig = Math.max(worstTrig, Math.abs(out[0] - Math.cos(th)), Math.abs(out[1] - Math.sin(th)));
    }
    expect(worstLog, `seed=${seed}`).toBeLessThan(1e-15);
    // absolute: Math.cos(th) itself carries th's rounding (|th| up to 2 pi, ulp 8.9e-16)
    expect(worstTrig, `seed=${seed}`).toBeLessThan(2e-15);
  });
});
