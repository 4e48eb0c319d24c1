// The probability that n i.i.d. uniform points in a disc lie within one sector of angle theta
// (techniques.md section 7): only the angles matter, and with x = theta / (2 pi)
//   P(n, theta) = sum_{k >= 1, k (1 - x) < 1} (-1)^(k-1) C(n, k) (1 - k (1 - x))^(n-1).
// The alternating sum cancels catastrophically for large n and theta near 2 pi (terms reach 1e140
// at n = 1000), so it is evaluated exactly in BigInt fixed point: x's exact binary value, exact
// binomials, powers with 2^-PREC truncation (PREC far beyond the largest term), then one rounding.
// sectorProbabilityMonteCarlo checks it by simulation: the sectorMc kernel (native/core/sector.h)
// counts, in exact integers, the trials whose n Philox angles fit in the sector, the same count on
// every backend and thread count; the op adds the Wilson score 95% interval.
import { KexueError } from '../errors.js';
import { describe } from '../tensor.js';
import { SECTOR_MAX_N, SECTOR_MAX_WORDS } from '../backends/js/sector.js';
import { backendOpt, options, rngOpt, type RandomOptions } from './args.js';
import { asyncOp, syncOp, type Prepared } from './op.js';

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

/**
 * The theta (radians) at which sectorProbability(n, theta) = p, for p in (0, 1): bisection to the
 * last bit (P grows with theta). The tour, tests and bench place Monte-Carlo points with it.
 */
export function sectorTheta(n: number, p: number): number {
  let lo = 0, hi = TWO_PI;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (sectorProbability(n, mid) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

// ---- Monte Carlo ---------------------------------------------------------------------------------

/** The 97.5% quantile of the standard normal: the z of a two-sided 95% interval. */
export const Z95 = 1.959963984540054;

/**
 * The Wilson score interval for a binomial proportion (hits of trials) at normal quantile z:
 * (p + z^2 / 2N +- z sqrt(p (1 - p) / N + z^2 / 4N^2)) / (1 + z^2 / N), p = hits / trials;
 * exactly 0 below when hits = 0 and 1 above when hits = trials.
 */
export function wilsonInterval(hits: number, trials: number, z = Z95): [number, number] {
  const p = hits / trials;
  const z2n = (z * z) / trials;
  const denom = 1 + z2n;
  const center = (p + z2n / 2) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / trials + z2n / (4 * trials))) / denom;
  return [hits === 0 ? 0 : Math.max(0, center - half), hits === trials ? 1 : Math.min(1, center + half)];
}

/**
 * The kernel's threshold for sector angle theta: a trial is a hit when its largest circular gap,
 * in units of 2^-32 turn, is >= ceil(max(0, 1 - theta / (2 pi)) 2^32), i.e. when
 * gap / 2^32 >= 1 - theta / (2 pi) (the gap is an integer, so the ceiling changes nothing).
 */
export function sectorThreshold(theta: number): number {
  const rest = 1 - theta / TWO_PI;
  return rest <= 0 ? 0 : Math.ceil(rest * 4294967296);
}

export interface SectorMonteCarloOptions extends RandomOptions {
  /** Number of trials: a positive safe integer, with trials * n at most 2^53 - 1. */
  trials: number;
}

export interface SectorMonteCarloResult {
  /** hits / trials */
  estimate: number;
  /** The Wilson score 95% interval for the probability. */
  ci95: [number, number];
  hits: number;
  trials: number;
}

function prepSectorMc(n: number, theta: number, opts: SectorMonteCarloOptions): Prepared<SectorMonteCarloResult> {
  const op = 'sectorProbabilityMonteCarlo';
  const o = options<SectorMonteCarloOptions>(opts, op);
  if (!Number.isInteger(n) || n < 1 || n > SECTOR_MAX_N) throw new KexueError('E_RANGE', `${op}: n must be an integer in [1, 1e6]; got ${describe(n)}`);
  if (typeof theta !== 'number' || !Number.isFinite(theta) || theta < 0)
    throw new KexueError('E_RANGE', `${op}: theta must be a finite number >= 0 (radians); got ${describe(theta)}`);
  if (o.trials === undefined) throw new KexueError('E_ARG', `${op}: options.trials is required (a positive integer)`);
  const trials = o.trials;
  if (!Number.isSafeInteger(trials) || trials < 1) throw new KexueError('E_RANGE', `${op}: trials must be a positive safe integer; got ${describe(trials)}`);
  if (trials > Math.floor(SECTOR_MAX_WORDS / n))
    throw new KexueError('E_RANGE', `${op}: trials * n must be at most 2^53 - 1 (the angles are words 0 .. trials n - 1 of the stream); got ${trials} * ${n}`);
  const rng = rngOpt(o, op);
  const hits = new Float64Array(1);
  return {
    op: 'sectorMc',
    backend: backendOpt(o, op),
    args: [rng, n, 0, trials, sectorThreshold(theta), hits],
    result: () => ({ estimate: hits[0] / trials, ci95: wilsonInterval(hits[0], trials), hits: hits[0], trials }),
  };
}

/**
 * Monte-Carlo estimate of sectorProbability(n, theta): trial t draws the angles
 * 2 pi w / 2^32 from the Philox words w = t n + j (j < n) of (seed, stream), and is a hit when
 * the largest circular gap between them is at least 2 pi - theta (compared exactly, in integer
 * units of 2^-32 turn). `hits` is the same integer on every backend and thread count.
 * Returns the estimate hits / trials with its Wilson score 95% interval.
 */
export const sectorProbabilityMonteCarlo = syncOp(prepSectorMc);
export const sectorProbabilityMonteCarloAsync = asyncOp(prepSectorMc);
