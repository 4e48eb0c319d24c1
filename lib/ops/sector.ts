// The probability that n i.i.d. uniform points in a disc lie within one sector of angle theta
// (techniques.md section 7): only the angles matter, and with x = theta / (2 pi)
//   P(n, theta) = sum_{k >= 1, k (1 - x) < 1} (-1)^(k-1) C(n, k) (1 - k (1 - x))^(n-1).
// The alternating sum cancels catastrophically for large n and theta near 2 pi (terms reach 1e140
// at n = 1000), so it is evaluated exactly in BigInt fixed point: x's exact binary value, exact
// binomials, powers with 2^-PREC truncation (PREC far beyond the largest term), then one rounding.
import { KexueError } from '../errors.js';
import { describe } from '../tensor.js';

const TWO_PI = 2 * Math.PI;

/** The exact value of a finite double as a BigInt ratio num / 2^shift (shift >= 0). */
function exactDouble(v: number): { num: bigint; shift: bigint } {
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, v);
  const bits = buf.getBigUint64(0);
  const exp = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & ((1n << 52n) - 1n);
  if (exp !== 0) mant |= 1n << 52n;
  const e = (exp === 0 ? 1 : exp) - 1075; // v = mant * 2^e
  const sign = bits >> 63n ? -1n : 1n;
  return e >= 0 ? { num: sign * (mant << BigInt(e)), shift: 0n } : { num: sign * mant, shift: BigInt(-e) };
}

/** Fixed-point BigInt (value * 2^P) to the nearest double. */
function toDouble(v: bigint, P: bigint): number {
  const neg = v < 0n;
  let a = neg ? -v : v;
  // keep 64 significant bits, then scale
  const len = BigInt(a.toString(2).length);
  let shift = 0n;
  if (len > 64n) {
    shift = len - 64n;
    a >>= shift;
  }
  const r = Number(a) * 2 ** Number(shift - P);
  return neg ? -r : r;
}

/**
 * P(n points fall within one sector of angle theta), theta in radians: exact closed form for every
 * n >= 1 (stable up to n = 1e5), 1 once theta >= 2 pi (1 - 1/n), 0 for theta <= 0 (n >= 2).
 */
export function sectorProbability(n: number, theta: number): number {
  const op = 'sectorProbability';
  if (!Number.isInteger(n) || n < 1 || n > 1e5) throw new KexueError('E_RANGE', `${op}: n must be an integer in [1, 1e5]; got ${describe(n)}`);
  if (typeof theta !== 'number' || Number.isNaN(theta)) throw new KexueError('E_RANGE', `${op}: theta must be a number (radians); got ${describe(theta)}`);
  if (n === 1) return theta >= 0 ? 1 : 0;
  if (theta <= 0) return 0;
  if (theta >= TWO_PI * (1 - 1 / n)) return 1; // every configuration fits (the largest gap is >= 2 pi / n)
  const x = theta / TWO_PI;
  if (x <= 0.5) return n * x ** (n - 1); // only k = 1: no cancellation
  // fixed point with P fractional bits: enough for the largest term C(n, k) <= 2^n plus 64 bits
  const P = BigInt(n + 128 + 64);
  const ONE = 1n << P;
  const { num, shift } = exactDouble(1 - x); // 1 - x is exact in double for x in (0.5, 1)
  const y = shift <= P ? num << (P - shift) : num >> (shift - P); // (1 - x) * 2^P
  let sum = 0n;
  let binom = BigInt(n); // C(n, k)
  for (let k = 1n; k * y < ONE; k++) {
    const base = ONE - k * y; // (1 - k (1 - x)) * 2^P, in (0, 1]
    // base^(n-1) by squaring, truncating each product to P bits
    let r = ONE, b = base, e = n - 1;
    while (e > 0) {
      if (e & 1) r = (r * b) >> P;
      b = (b * b) >> P;
      e >>= 1;
    }
    sum += (k % 2n === 1n ? 1n : -1n) * binom * r;
    binom = (binom * (BigInt(n) - k)) / (k + 1n);
  }
  const p = toDouble(sum, P);
  return Math.min(1, Math.max(0, p));
}
