import { describe, expect, it } from 'vitest';
import { philox4x32, KexueError } from '../dist/index.js';
import { mulhi32 } from '../dist/backends/js/philox.js';
import { available, freshSeed } from './helpers.js';

// Known answers from techniques.md (Random123's kat_vectors for philox4x32_10).
const KAT: [number[], number[], number[]][] = [
  [[0, 0, 0, 0], [0, 0], [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]],
  [[0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff], [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]],
  [[0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0], [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]],
];

describe('philox4x32', () => {
  for (const backend of available()) {
    it(`matches the known answers on ${backend}`, () => {
      for (const [ctr, key, want] of KAT) expect([...philox4x32(ctr, key, { backend })]).toEqual(want);
    });
  }

  it('agrees across backends on random counters and keys', () => {
    const seed = freshSeed();
    let s = seed;
    const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
    for (let t = 0; t < 200; t++) {
      const ctr = [next(), next(), next(), next()];
      const key = [next(), next()];
      const ref = [...philox4x32(ctr, key, { backend: 'js' })];
      for (const backend of available()) expect([...philox4x32(ctr, key, { backend })], `seed=${seed} ctr=${ctr} key=${key} on ${backend}`).toEqual(ref);
    }
  });

  it('computes the high word of 32x32 products exactly in JS', () => {
    const seed = freshSeed();
    let s = BigInt(seed);
    for (let t = 0; t < 10000; t++) {
      s = (s * 6364136223846793005n + 1442695040888963407n) & ((1n << 64n) - 1n);
      const a = Number(s >> 32n);
      const b = Number(s & 0xffffffffn);
      expect(mulhi32(a, b), `seed=${seed} a=${a} b=${b}`).toBe(Number((BigInt(a) * BigInt(b)) >> 32n));
    }
    expect(mulhi32(0xffffffff, 0xffffffff)).toBe(0xfffffffe);
  });

  it('rejects malformed counters and keys', () => {
    expect(() => philox4x32([0, 0, 0], [0, 0])).toThrow(KexueError);
    expect(() => philox4x32([0, 0, 0, -1], [0, 0])).toThrow(/counter\[3\]/);
    expect(() => philox4x32([0, 0, 0, 0], [0, 2 ** 32])).toThrow(/key\[1\]/);
    expect(() => philox4x32([0, 0, 0, 0.5], [0, 0])).toThrow(/must be an integer/);
  });
});
