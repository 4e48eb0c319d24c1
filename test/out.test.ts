import { describe, expect, it } from 'vitest';
import { bernoulli, dropout, dropoutAsync, normal, tensor, uniform, KexueError } from '../dist/index.js';
import { available } from './helpers.js';

describe('out tensors', () => {
  for (const backend of available()) {
    it(`write into the given tensors, also in place, on ${backend}`, async () => {
      const out = tensor(new Float32Array(6), [2, 3]);
      const u = uniform([2, 3], { seed: 5, out, backend });
      expect(u.data).toBe(out.data);
      expect([...u.data]).toEqual([...uniform([6], { seed: 5, backend: 'js' }).data]);
      expect(normal([6], { seed: 5, out: tensor(new Float64Array(6)), dtype: 'float64', backend }).data).toEqual(normal([6], { seed: 5, dtype: 'float64', backend: 'js' }).data);
      const b = tensor(new Uint8Array(9));
      expect(bernoulli([9], { p: 0.5, seed: 1, out: b, backend }).data).toBe(b.data);

      const x = uniform([1000], { seed: 1, backend: 'js' });
      const ref = dropout(x, { p: 0.3, seed: 9, backend: 'js' });
      const inPlace = tensor(x.data.slice());
      const mask = tensor(new Uint8Array(1000));
      const r = dropout(inPlace, { p: 0.3, seed: 9, out: inPlace, outMask: mask, backend });
      expect(r.output.data).toBe(inPlace.data);
      expect(r.mask.data).toBe(mask.data);
      expect([...inPlace.data]).toEqual([...ref.output.data]);
      expect([...mask.data]).toEqual([...ref.mask.data]);
      const inPlace2 = tensor(x.data.slice());
      await dropoutAsync(inPlace2, { p: 0.3, seed: 9, out: inPlace2, backend });
      expect([...inPlace2.data]).toEqual([...ref.output.data]);
    });
  }

  it('must have the right dtype and size', () => {
    expect(() => uniform([4], { seed: 1, out: tensor(new Float32Array(5)) })).toThrow(KexueError);
    expect(() => uniform([4], { seed: 1, out: tensor(new Float64Array(4)) })).toThrow(/float32/);
    expect(() => dropout(tensor([1, 2]), { p: 0.1, seed: 1, outMask: tensor(new Float32Array(2)) as never })).toThrow(/uint8/);
  });
});
