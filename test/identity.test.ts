// Invariant 2: element i of every sample is a pure function of (seed, stream, i): every backend,
// every thread count and every instruction-set level gives the same bits as the js reference.
import { afterAll, describe, expect, it } from 'vitest';
import { bernoulli, dropout, expectedEmbedding, maeMask, mlmMask, dropTokens, normal, setNumThreads, getNumThreads, tensor, uniform, type BackendName } from '../dist/index.js';
import { fastBackends, firstBitMismatch, freshSeed, nativeAddon } from './helpers.js';

// Sizes straddle SIMD widths, Philox blocks (4), the kernels' tiles (256 words), the cpu
// backend's parallel chunks (65536) and the wasm backend's call chunks (2^20).
const SIZES = [0, 1, 3, 7, 33, 257, 1000, 65537, (1 << 20) + 13];

function same(a: ArrayBufferView, b: ArrayBufferView, what: string): void {
  const i = firstBitMismatch(a, b);
  expect(i, `${what}: first differing element ${i}`).toBe(-1);
}

function allOps(backend: BackendName | 'js', seed: number, n: number) {
  const stream = seed % 7;
  const x = uniform([n], { seed: seed + 1, backend: 'js' });
  const vocab = 50;
  const ids = tensor(Int32Array.from(uniform([Math.min(n, 5000)], { seed: seed + 2, backend: 'js' }).data, (u) => Math.floor(u * vocab)));
  const tokens = Math.max(1, Math.min(97, n));
  const table = normal([vocab, 9], { seed: seed + 3, backend: 'js' });
  return {
    uniform32: uniform([n], { seed, stream, backend }).data,
    uniform64: uniform([n], { seed, stream, dtype: 'float64', backend }).data,
    normal32: normal([n], { seed, stream, mean: 0.5, std: 2, backend }).data,
    normal64: normal([n], { seed, stream, dtype: 'float64', backend }).data,
    bernoulli: bernoulli([n], { p: 0.3, seed, stream, backend }).data,
    dropout: ((r) => [r.output.data, r.mask.data])(dropout(x, { p: 0.25, seed, stream, backend })),
    dropout64: dropout(new Float64Array(x.data), { p: 0.1, seed, backend }).output.data,
    mlm: ((r) => [r.inputIds.data, r.labels.data])(mlmMask(ids, { vocabSize: vocab, maskTokenId: 4, specialTokenIds: [0, 1, 2, 3], maskProb: 0.3, seed, stream, backend })),
    mae: ((r) => [r.idsKeep.data, r.idsRestore.data, r.mask.data])(maeMask({ batch: 3, tokens, ratio: 0.6, seed, stream, backend })),
    dropTokens: ((r) => [r.output.data, r.positions.data])(dropTokens(tensor(x.data.subarray(0, 3 * Math.floor(n / 3)), [3, Math.floor(n / 3), 1]), { ratio: 0.2, seed, backend })),
    expected: expectedEmbedding(table, { maskTokenId: 4, specialTokenIds: [0, 1, 2, 3], maskProb: 0.2, split: [0.7, 0.2, 0.1], backend }).data,
  };
}

function compare(ref: ReturnType<typeof allOps>, got: ReturnType<typeof allOps>, what: string) {
  for (const k of Object.keys(ref) as (keyof typeof ref)[]) {
    const r = ref[k];
    const g = got[k];
    if (Array.isArray(r)) r.forEach((a, i) => same(a as ArrayBufferView, (g as ArrayBufferView[])[i], `${what} ${k}[${i}]`));
    else same(r as ArrayBufferView, g as ArrayBufferView, `${what} ${k}`);
  }
}

describe('bit identity with the js reference', () => {
  for (const backend of fastBackends()) {
    it(`${backend}: every op, sizes ${SIZES.join(', ')}`, () => {
      const seed = freshSeed();
      for (const n of SIZES) compare(allOps('js', seed, n), allOps(backend, seed, n), `seed=${seed} n=${n} ${backend}`);
    });
  }

  it('large seeds and streams (64-bit, as bigint) agree', () => {
    for (const backend of fastBackends()) {
      const opts = { seed: 0xfedcba9876543210n, stream: (1n << 64n) - 1n };
      same(uniform([1001], { ...opts, backend: 'js' }).data, uniform([1001], { ...opts, backend }).data, `bigint seed on ${backend}`);
    }
  });
});

const addon = nativeAddon();
describe.runIf(addon !== undefined)('cpu backend: thread counts and instruction sets', () => {
  const threads0 = getNumThreads();
  afterAll(() => {
    setNumThreads(threads0);
    addon!.setIsaLimit('avx2');
  });

  it('gives the same bits with 1, 2 and 8 threads', () => {
    const seed = freshSeed();
    const n = 300_001;
    setNumThreads(1);
    const ref = allOps('cpu', seed, n);
    for (const t of [2, 8]) {
      setNumThreads(t);
      compare(ref, allOps('cpu', seed, n), `seed=${seed} threads=${t}`);
    }
  });

  it('gives the same bits on every instruction-set level this CPU has', () => {
    const seed = freshSeed();
    const ref = allOps('js', seed, 4099);
    const best = addon!.info().isaBest as string;
    const levels = ['scalar', 'sse2', 'avx2'].slice(0, ['scalar', 'sse2', 'avx2'].indexOf(best) + 1);
    expect(levels.length).toBeGreaterThan(0);
    for (const isa of levels) {
      expect(addon!.setIsaLimit(isa)).toBe(isa);
      compare(ref, allOps('cpu', seed, 4099), `seed=${seed} isa=${isa}`);
    }
  });
});
