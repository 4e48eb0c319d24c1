// Philox4x32-10 and the deterministic sample arithmetic, in plain TypeScript. This is the
// reference the native, wasm and CUDA kernels are tested against bit for bit: every operation
// below repeats native/core/philox.h exactly (same IEEE operations, same order).

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/** High 32 bits of the 64-bit product of two uint32 values, exact. */
export function mulhi32(a: number, b: number): number {
  const ah = a >>> 16;
  const al = a & 0xffff;
  const bh = b >>> 16;
  const bl = b & 0xffff;
  const mid = ah * bl + al * bh + ((al * bl) >>> 16); // < 2^33 + 2^16: exact
  return (ah * bh + Math.floor(mid / 65536)) >>> 0;
}

/** Philox4x32-10: four output words for a 4-word counter and a 2-word key. */
export function philox4x32_10(ctr: ArrayLike<number>, key: ArrayLike<number>, out: Uint32Array, at = 0): void {
  let c0 = ctr[0] >>> 0;
  let c1 = ctr[1] >>> 0;
  let c2 = ctr[2] >>> 0;
  let c3 = ctr[3] >>> 0;
  let k0 = key[0] >>> 0;
  let k1 = key[1] >>> 0;
  for (let r = 0; r < 10; r++) {
    if (r > 0) {
      k0 = (k0 + W0) >>> 0;
      k1 = (k1 + W1) >>> 0;
    }
    const hi0 = mulhi32(M0, c0);
    const lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulhi32(M1, c2);
    const lo1 = Math.imul(M1, c2) >>> 0;
    c0 = (hi1 ^ c1 ^ k0) >>> 0;
    c1 = lo1;
    c2 = (hi0 ^ c3 ^ k1) >>> 0;
    c3 = lo0;
  }
  out[at] = c0;
  out[at + 1] = c1;
  out[at + 2] = c2;
  out[at + 3] = c3;
}

/** rng = [seedLo, seedHi, streamLo, streamHi] as in every kernel call. */
export type RngWords = Uint32Array;

/** Words of block `block` (a non-negative safe integer) into out[at..at+3]. */
export function philoxBlock(rng: RngWords, block: number, out: Uint32Array, at = 0): void {
  const ctr = [block >>> 0, Math.floor(block / 4294967296) >>> 0, rng[2], rng[3]];
  philox4x32_10(ctr, [rng[0], rng[1]], out, at);
}

/** 32-bit words of elements [offset, offset + n) of the stream: word i is word i % 4 of block i / 4. */
export function streamWords(rng: RngWords, offset: number, n: number, out: Uint32Array = new Uint32Array(n)): Uint32Array {
  const buf = new Uint32Array(4);
  let block = -1;
  for (let i = 0; i < n; i++) {
    const e = offset + i;
    const b = Math.floor(e / 4);
    if (b !== block) {
      philoxBlock(rng, b, buf);
      block = b;
    }
    out[i] = buf[e - 4 * b];
  }
  return out;
}

/** Uniform float64 in [0, 1) from two words (53 bits), exact. */
export function wordsToUniformF64(a: number, b: number): number {
  return ((a >>> 5) * 67108864 + (b >>> 6)) * 1.1102230246251565e-16;
}

/** ln(u) for u = (w + 1) * 2^-32; see log_u32p1 in native/core/philox.h. */
export function logU32p1(w: number): number {
  const k = w + 1; // 1 .. 2^32
  let e = k === 4294967296 ? 32 : 31 - Math.clz32(k);
  let m = k * 2 ** -e;
  if (m > 1.4142135623730951) {
    m *= 0.5;
    e += 1;
  }
  const s = (m - 1.0) / (m + 1.0);
  const s2 = s * s;
  let p = 2.0 / 25.0;
  p = p * s2 + 2.0 / 23.0;
  p = p * s2 + 2.0 / 21.0;
  p = p * s2 + 2.0 / 19.0;
  p = p * s2 + 2.0 / 17.0;
  p = p * s2 + 2.0 / 15.0;
  p = p * s2 + 2.0 / 13.0;
  p = p * s2 + 2.0 / 11.0;
  p = p * s2 + 2.0 / 9.0;
  p = p * s2 + 2.0 / 7.0;
  p = p * s2 + 2.0 / 5.0;
  p = p * s2 + 2.0 / 3.0;
  const lnm = 2.0 * s + s * (s2 * p);
  const ee = e - 32;
  const kLn2Hi = 0.6931471803691238;
  const kLn2Lo = 1.9082149292705877e-10;
  return ee * kLn2Hi + (ee * kLn2Lo + lnm);
}

/** [cos, sin] of 2 pi w / 2^32; see sincos_2pi_u32 in native/core/philox.h. */
export function sincos2piU32(w: number, out: Float64Array): void {
  const q = ((w + 0x20000000) >>> 30) & 3;
  const f = (w - (q << 30)) | 0;
  const x = f * 1.4629180792671596e-9;
  const x2 = x * x;
  let sp = -1.0 / 355687428096000.0;
  sp = sp * x2 + 1.0 / 1307674368000.0;
  sp = sp * x2 - 1.0 / 6227020800.0;
  sp = sp * x2 + 1.0 / 39916800.0;
  sp = sp * x2 - 1.0 / 362880.0;
  sp = sp * x2 + 1.0 / 5040.0;
  sp = sp * x2 - 1.0 / 120.0;
  sp = sp * x2 + 1.0 / 6.0;
  const s = x - x * (x2 * sp);
  let cp = 1.0 / 6402373705728000.0;
  cp = cp * x2 - 1.0 / 20922789888000.0;
  cp = cp * x2 + 1.0 / 87178291200.0;
  cp = cp * x2 - 1.0 / 479001600.0;
  cp = cp * x2 + 1.0 / 3628800.0;
  cp = cp * x2 - 1.0 / 40320.0;
  cp = cp * x2 + 1.0 / 720.0;
  cp = cp * x2 - 1.0 / 24.0;
  cp = cp * x2 + 0.5;
  const c = 1.0 - x2 * cp;
  if (q === 0) {
    out[0] = c;
    out[1] = s;
  } else if (q === 1) {
    out[0] = -s;
    out[1] = c;
  } else if (q === 2) {
    out[0] = -c;
    out[1] = -s;
  } else {
    out[0] = s;
    out[1] = -c;
  }
}

/** Box-Muller pair [z0, z1] from two words. */
export function boxMuller(a: number, b: number, out: Float64Array): void {
  const r = Math.sqrt(-2.0 * logU32p1(a));
  sincos2piU32(b, out);
  out[0] = r * out[0];
  out[1] = r * out[1];
}
