// Arrays whose memory is unusual: views on a SharedArrayBuffer (the native addon must read them
// through napi_get_typedarray_info, not ArrayBuffer().Data(), which fails on shared memory),
// resizable buffers (refused by the asynchronous forms, which hold the memory while a Promise is
// pending), and a network spec changed by JS while an asynchronous call runs (the addon checks and
// uses its own copy).
import { describe, expect, it } from 'vitest';
import { Adam, mlpForward, mlpForwardAsync, mlpInit, uniform } from '../dist/index.js';
import { available, fastBackends, firstBitMismatch } from './helpers.js';

describe('unusual memory', () => {
  it.each(available())('%s: outputs and in-place arguments on a SharedArrayBuffer equal plain arrays', (backend) => {
    const plain = uniform([1000], { seed: 7, backend }).data as Float32Array;
    const shared = new Float32Array(new SharedArrayBuffer(4 * 1004), 16, 1000);
    uniform([1000], { seed: 7, backend, out: shared });
    expect(firstBitMismatch(plain, shared)).toBe(-1);

    const p0 = Float64Array.from({ length: 37 }, (_, i) => Math.sin(i));
    const g = Float64Array.from({ length: 37 }, (_, i) => Math.cos(3 * i));
    const a = Float64Array.from(p0);
    const b = new Float64Array(new SharedArrayBuffer(8 * 37));
    b.set(p0);
    new Adam(a, { lr: 0.01 }).step(g, { backend });
    new Adam(b, { lr: 0.01 }).step(g, { backend });
    expect(firstBitMismatch(a, b)).toBe(-1);
  });

  it.each(fastBackends())('%s: an asynchronous call refuses an array on a resizable buffer (E_ARG)', async (backend) => {
    const ab = new (ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer)(8 * 4, { maxByteLength: 64 });
    const p = new Float64Array(ab);
    const opt = new Adam(p);
    const err = await opt.stepAsync(new Float64Array(4).fill(1), { backend }).then(
      () => null,
      (e: { code?: string }) => e,
    );
    // the native Promise forms hold the caller's memory, so they refuse it; the others run on copies
    if (backend === 'cpu' || backend === 'cuda') expect(err?.code).toBe('E_ARG');
    else expect(err).toBeNull();
  });

  it.each(fastBackends())('%s: changing the model spec while mlpForwardAsync runs changes nothing', async (backend) => {
    const m = mlpInit([16, 64, 64, 3], 'tanh', { seed: 3 });
    const x = Float64Array.from({ length: 200 * 16 }, (_, i) => Math.sin(0.1 * i));
    const want = mlpForward(m, x, { backend }).output;
    const pending = mlpForwardAsync(m, x, { backend });
    const saved = m.spec[3];
    m.spec[3] = 2 ** 30; // a width that would write far out of bounds if the kernel read it
    const got = (await pending).output;
    m.spec[3] = saved;
    expect(firstBitMismatch(want, got)).toBe(-1);
  });
});
