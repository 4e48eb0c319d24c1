// Bad input gets a KexueError with a stable code and a clear message, and never a crash: the
// TypeScript checks run first, and the native and wasm kernels check again (called directly here).
import { describe, expect, it } from 'vitest';
import { KexueError, bernoulli, dropTokens, dropout, expectedEmbedding, maeMask, mlmMask, normal, tensor, uniform, uniformAsync, dropoutAsync, type ErrorCode } from '../dist/index.js';
import { available, nativeAddon } from './helpers.js';

function code(fn: () => unknown): ErrorCode | string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(KexueError);
    expect((e as Error).message.length).toBeGreaterThan(10);
    return (e as KexueError).code;
  }
  return 'no error';
}

const x = tensor([1, 2, 3, 4]);

describe('argument errors', () => {
  it('dropout: p outside [0, 1), NaN p, wrong dtypes, bad training flag', () => {
    for (const p of [-0.1, 1, 1.5, NaN, Infinity, '0.1' as unknown as number, undefined as unknown as number]) expect(code(() => dropout(x, { p, seed: 1 })), `p=${p}`).toBe('E_RANGE');
    expect(code(() => dropout(tensor([1, 2], [2], 'int32') as never, { p: 0.1, seed: 1 }))).toBe('E_DTYPE');
    expect(code(() => dropout([1, 2, 3] as never, { p: 0.1, seed: 1 }))).toBe('E_DTYPE');
    expect(code(() => dropout(x, { p: 0.1, seed: 1, training: 'yes' as never }))).toBe('E_ARG');
  });

  it('shapes: negative, fractional, non-numeric, too large', () => {
    for (const shape of [[-1], [2.5], [2, NaN], ['3'], 5, null])
      expect(code(() => uniform(shape as never, { seed: 1 })), JSON.stringify(shape)).toBe('E_SHAPE');
    expect(code(() => uniform([1e6, 1e6], { seed: 1 }))).toBe('E_OOM');
    expect(code(() => uniform([2 ** 40, 2 ** 40], { seed: 1 }))).toBe('E_OOM');
    expect(code(() => tensor([1, 2, 3], [2, 2]))).toBe('E_SHAPE');
  });

  it('seeds and streams must be non-negative integers below 2^64', () => {
    for (const seed of [1.5, -1, NaN, 2 ** 53, '1', null, undefined, -1n, 1n << 64n])
      expect(code(() => uniform([2], { seed: seed as never })), String(seed)).toMatch(/E_RANGE|E_ARG/);
    expect(code(() => uniform([2], { seed: 1, stream: 0.5 }))).toBe('E_RANGE');
    expect(uniform([2], { seed: 2 ** 53 - 1 }).size).toBe(2);
    expect(uniform([2], { seed: (1n << 64n) - 1n }).size).toBe(2);
  });

  it('dtype, mean, std, p of the samplers', () => {
    expect(code(() => uniform([2], { seed: 1, dtype: 'int32' as never }))).toBe('E_DTYPE');
    expect(code(() => normal([2], { seed: 1, std: -1 }))).toBe('E_RANGE');
    expect(code(() => normal([2], { seed: 1, mean: NaN }))).toBe('E_RANGE');
    expect(code(() => bernoulli([2], { seed: 1, p: 1.01 }))).toBe('E_RANGE');
    expect(code(() => uniform([2], null as never))).toBe('E_ARG');
    expect(code(() => uniform([2], { seed: 1, backend: 'gpu' as never }))).toBe('E_BACKEND');
  });

  it('mlmMask: ids out of range, bad vocabulary, split and probabilities', () => {
    const base = { vocabSize: 10, maskTokenId: 3, specialTokenIds: [0], seed: 1 };
    expect(code(() => mlmMask([1, 2, 10], base))).toBe('E_RANGE');
    expect(code(() => mlmMask([1, -1], base))).toBe('E_RANGE');
    expect(code(() => mlmMask([1, 2.5], base))).toBe('E_DTYPE');
    expect(code(() => mlmMask(new Float32Array([1]) as never, base))).toBe('E_DTYPE');
    expect(code(() => mlmMask([1], { ...base, maskTokenId: 10 }))).toBe('E_RANGE');
    expect(code(() => mlmMask([1], { ...base, vocabSize: 0 }))).toBe('E_RANGE');
    expect(code(() => mlmMask([1], { ...base, specialTokenIds: [11] }))).toBe('E_RANGE');
    expect(code(() => mlmMask([1], { ...base, split: [0.8, 0.1, 0.2] }))).toBe('E_RANGE');
    expect(code(() => mlmMask([1], { ...base, split: [1, -0.5, 0.5] }))).toBe('E_RANGE');
    expect(code(() => mlmMask([1], { ...base, maskProb: NaN }))).toBe('E_RANGE');
    expect(code(() => mlmMask([1], { ...base, vocabSize: 2, maskTokenId: 1, specialTokenIds: [0] }))).toBe('E_RANGE');
    expect(code(() => mlmMask([1], { ...base, ignoreIndex: 0.5 }))).toBe('E_RANGE');
  });

  it('maeMask, dropTokens and expectedEmbedding: ratios and shapes', () => {
    for (const ratio of [-0.1, 1, NaN]) {
      expect(code(() => maeMask({ batch: 2, tokens: 4, ratio, seed: 1 }))).toBe('E_RANGE');
      expect(code(() => dropTokens(tensor(new Float32Array(8), [2, 4, 1]), { ratio, seed: 1 }))).toBe('E_RANGE');
    }
    expect(code(() => maeMask({ batch: -1, tokens: 4, ratio: 0.5, seed: 1 }))).toBe('E_RANGE');
    expect(code(() => maeMask({ batch: 1, tokens: 4.5, ratio: 0.5, seed: 1 }))).toBe('E_RANGE');
    expect(code(() => dropTokens(tensor(new Float32Array(8), [8]), { ratio: 0.5, seed: 1 }))).toBe('E_SHAPE');
    expect(code(() => expectedEmbedding(tensor(new Float32Array(8), [8]), { maskTokenId: 0 }))).toBe('E_SHAPE');
    expect(code(() => expectedEmbedding(tensor(new Float32Array(8), [4, 2]), { maskTokenId: 4 }))).toBe('E_RANGE');
    expect(code(() => expectedEmbedding(tensor(new Float32Array(4), [2, 2]), { maskTokenId: 0, specialTokenIds: [1] }))).toBe('E_RANGE');
  });

  it('async forms reject (never throw synchronously) with the same errors', async () => {
    await expect(uniformAsync([-1], { seed: 1 })).rejects.toMatchObject({ code: 'E_SHAPE' });
    await expect(dropoutAsync(x, { p: 2, seed: 1 })).rejects.toMatchObject({ code: 'E_RANGE' });
  });
});

describe.runIf(nativeAddon() !== undefined)('the native addon checks its arguments again', () => {
  const a = nativeAddon()!;
  const rng = new Uint32Array(4);
  const nativeCode = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      return (e as { code?: string }).code;
    }
    return 'no error';
  };

  it('wrong argument types and sizes throw errors with codes instead of crashing', () => {
    expect(nativeCode(() => a.uniform(rng, 0, new Int32Array(4)))).toBe('E_DTYPE');
    expect(nativeCode(() => a.uniform(new Uint32Array(3), 0, new Float32Array(4)))).toBe('E_DTYPE');
    expect(nativeCode(() => a.uniform(rng, -1, new Float32Array(4)))).toBe('E_RANGE');
    expect(nativeCode(() => a.uniform(rng, 0.5, new Float32Array(4)))).toBe('E_RANGE');
    expect(nativeCode(() => a.uniform())).toBe('E_DTYPE');
    expect(nativeCode(() => a.dropout(rng, 0, 5, 1, new Float32Array(4), new Float32Array(3), null))).toBe('E_SHAPE');
    expect(nativeCode(() => a.dropout(rng, 0, 2 ** 25, 1, new Float32Array(4), new Float32Array(4), null))).toBe('E_RANGE');
    expect(nativeCode(() => a.dropout(rng, 0, 5, 1, new Float32Array(4), new Float64Array(4), null))).toBe('E_DTYPE');
    expect(nativeCode(() => a.maeMask(rng, 2, 4, 5, new Int32Array(10), new Int32Array(8), new Uint8Array(8)))).toBe('E_SHAPE');
    expect(nativeCode(() => a.expectedEmbedding(2, 2, new Uint8Array(2), 5, 1, 0, 0, new Float32Array(4), new Float32Array(4)))).toBe('E_RANGE');
  });

  it('ids out of range reach the kernel as E_RANGE with the index, synchronously and async', async () => {
    const args = [rng, 0, new Int32Array([1, 2, 99]), new Uint8Array(10), new Int32Array([0, 1, 2]), 3, 1 << 24, 1 << 23, 1 << 24, -100, new Int32Array(3), new Int32Array(3)];
    try {
      a.mlmMask(...args);
      expect.unreachable();
    } catch (e) {
      expect((e as { code: string }).code).toBe('E_RANGE');
      expect((e as Error).message).toMatch(/ids\[2\] = 99/);
    }
    await expect(a.mlmMaskAsync(...args)).rejects.toMatchObject({ code: 'E_RANGE' });
  });
});

describe('the wasm kernels check their arguments again', () => {
  it.runIf(available().includes('wasm'))('ids out of range -> E_RANGE', async () => {
    const { backendByName } = await import('../dist/backends/registry.js');
    const k = backendByName('wasm').kernels;
    expect(() =>
      k.mlmMask!(new Uint32Array(4), 0, new Int32Array([1, 99]), new Uint8Array(10), new Int32Array([0, 1]), 3, 1 << 24, 1 << 23, 1 << 24, -100, new Int32Array(2), new Int32Array(2)),
    ).toThrow(/E_RANGE|out of range/);
  });
});
