// The probability that n i.i.d. uniform points in a disc lie within one sector of angle theta
// (techniques.md section 7): only the angles matter, and with x = theta / (2 pi), y = 1 - x
//   P(n, theta) = sum_{k >= 1, k y < 1} (-1)^(k-1) S_k,   S_k = C(n, k) (1 - k y)^(n-1),
// inclusion-exclusion over the events "circular gap i is >= y" (S_k sums the probabilities of the
// k-fold intersections). The sum cancels catastrophically for large n and theta near 2 pi (terms
// reach 1e140 at n = 1000), so it is evaluated in BigInt arithmetic sized by proven bounds (see
// sectorSeries) and rounded once.
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

/** v 2^-P (v a BigInt, P an integer) to the nearest double (0 when below 2^-1075). */
function toDouble(v: bigint, P: number): number {
  const neg = v < 0n;
  let a = neg ? -v : v;
  if (a === 0n) return 0;
  const len = a.toString(2).length;
  if (len - P <= -1075) return 0; // |v 2^-P| < 2^-1075: rounds to 0
  // keep 64 significant bits and a sticky bit for the dropped ones: Number() then rounds once
  let shift = 0;
  if (len > 64) {
    shift = len - 64;
    const kept = a >> BigInt(shift);
    a = kept | ((kept << BigInt(shift)) !== a ? 1n : 0n);
  }
  let s = shift - P;
  let r = Number(a);
  if (s < -1000) {
    r *= 2 ** -200; // 2^s alone would underflow; r stays normal here
    s += 200;
  }
  return (neg ? -r : r) * 2 ** s;
}

/**
 * The alternating sum for n >= 3 and y = 1 - x in (0, 1/2) (x a double in (1/2, 1), so y is exact),
 * within a relative 2^-85 of P before the final rounding to double.
 *
 * Bounds used (S_k = C(n, k) (1 - k y)^(n-1) as above; N = the number of gaps >= y, E[N] = S_1):
 * (a) S_k <= S_1^k / k!, since C(n, k) <= n^k / k! and 0 < 1 - k y <= (1 - y)^k. So every term is
 *     at most e^S_1, and at most S_1 when S_1 < 1.
 * (b) P >= S_1 / (1 + S_1): P = P(N >= 1) >= E[N]^2 / E[N^2] (second moment), with
 *     E[N^2] = S_1 + 2 S_2 <= S_1 + S_1^2 by (a).
 * (c) Bonferroni: the partial sums of inclusion-exclusion alternately bound P from above and below,
 *     so after adding S_K the partial sum is within S_K of P (no monotonicity of the terms needed).
 * (d) 1 - P <= (1 - (1 - y)^(n-1))^n <= e^-S_1: the gaps are uniform spacings, i.i.d. exponentials
 *     conditioned on their sum, hence negatively associated (Joag-Dev and Proschan 1983, Ann.
 *     Statist. 11: independent log-concave densities conditioned on their sum are NA), and the
 *     events "gap i < y" are decreasing in disjoint coordinates, so P(all) <= product.
 *
 * Method. S_1 is estimated in double (relative error ~1e-13, covered by the margins below).
 * - S_1 >= 42: by (d) 1 - P < e^-41.9 < 2^-60, below half an ulp of 1: return 1. This is where the
 *   terms are huge (up to 2^(n/2)); below it, by (a), no term exceeds e^42 < 2^61, and
 *   (the sum is then a short Poisson-like series) the terms fall below 2^-90 P by k ~ 170.
 * - The sum is kept as an integer in units u = 2^(E1 - G), E1 = floor(log2 S_1),
 *   G = 96 + ceil(log2(1 + S_1)). Each term is C(n, k) (exact BigInt, built incrementally)
 *   times (1 - k y)^(n-1) computed as an M-bit binary float by left-to-right squaring: 1 - k y is
 *   exact (y's exact binary value), each product is truncated to M bits (relative 2^(1-M)), and
 *   the truncations compound to at most 4 (n - 1) 2^(1-M) relative. With
 *   M = G + H + ceil(log2 n) + 16 and 2^(E1 + H) >= the bound (a) on the largest term, each term's
 *   error is below u / 2^13, plus at most 1 u from truncating it to units.
 * - Stop after adding the first term of at most 256 u (a true S_K <= 258 u; the loop also ends at
 *   k y >= 1, where the terms vanish). By (a) that happens by k ~ 170 (S_1 = 42), so the total
 *   error is at most 258 u + 256 (1 + 2^-13) u < 2^10 u, and by (b), with 2^E1 <= S_1 (up to a
 *   factor 2 for the double estimate), |error| / P <= 2^(11 - G) (1 + S_1) <= 2^-85.
 * Cost: at most ~170 terms, each ~2 log2(n) products of <= ~200-bit BigInts: a few ms at n = 1e5,
 * instead of n-bit arithmetic over up to n terms.
 */
function sectorSeries(n: number, y: number): number {
  const L1 = Math.log2(n) + (n - 1) * Math.log1p(-y) * Math.LOG2E; // log2 S_1
  const S1 = 2 ** L1;
  if (S1 >= 42) return 1;
  const E1 = Math.floor(L1);
  const G = 96 + Math.ceil(Math.log2(1 + S1));
  const H = Math.ceil((S1 >= 1 ? S1 * Math.LOG2E : L1) - E1) + 2; // largest term <= 2^(E1 + H)
  const M = G + H + Math.ceil(Math.log2(n)) + 16;
  const U = E1 - G; // the sum counts units of 2^U
  const { num, shift } = exactDouble(y); // y = num / 2^shift exactly
  const one = 1n << shift;
  const Mb = BigInt(M), M1 = BigInt(M - 1), TOP = 1n << BigInt(2 * M - 1);
  const e = n - 1, top = 31 - Math.clz32(e);
  let sum = 0n;
  let binom = BigInt(n); // C(n, k), exact
  for (let k = 1; ; k++) {
    const c = one - BigInt(k) * num; // (1 - k y) 2^shift, exact
    if (c <= 0n) break;
    // 1 - k y = b 2^be with b in [2^(M-1), 2^M)
    const bl = c.toString(2).length;
    const b = c << BigInt(M - bl);
    const be = bl - M - Number(shift);
    // (1 - k y)^(n-1) = m 2^me, left to right; each product truncated back to M bits
    let m = b, me = be;
    for (let i = top - 1; i >= 0; i--) {
      let p = m * m;
      me += me;
      if (p >= TOP) (m = p >> Mb), (me += M);
      else (m = p >> M1), (me += M - 1);
      if ((e >> i) & 1) {
        p = m * b;
        me += be;
        if (p >= TOP) (m = p >> Mb), (me += M);
        else (m = p >> M1), (me += M - 1);
      }
    }
    const t = binom * m;
    const s = me - U;
    const tu = s >= 0 ? t << BigInt(s) : t >> BigInt(-s); // S_k in units, truncated
    sum += k & 1 ? tu : -tu;
    if (tu <= 256n) break; // (c): within S_k <= 258 u of P
    binom = (binom * BigInt(n - k)) / BigInt(k + 1);
  }
  return toDouble(sum, -U);
}

/**
 * P(n points fall within one sector of angle theta), theta in radians, for every n in [1, 1e5]:
 * 0 for theta <= 0 (n >= 2), 1 once theta >= 2 pi (1 - 1/n) (the largest gap is >= 2 pi / n);
 * n x^(n-1) in double for theta <= pi (only k = 1 contributes: 3 points in a half-disc 3/4,
 * 4 points 1/2); otherwise the alternating sum for x = theta / 2 pi's double value, within a few
 * ulps (sectorSeries: BigInt arithmetic sized by proven bounds, ~1 ms, < 20 ms at n = 1e5).
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
  return Math.min(1, Math.max(0, sectorSeries(n, 1 - x))); // 1 - x is exact in double for x in (0.5, 1)
}

/**
 * The theta (radians) at which sectorProbability(n, theta) = p, for p in (0, 1): bisection of
 * [0, 2 pi (1 - 1/n)] (P is 1 at the right end) down to adjacent doubles. The tour, tests and
 * bench place Monte-Carlo points with it.
 */
export function sectorTheta(n: number, p: number): number {
  let lo = 0, hi = TWO_PI * (1 - 1 / n);
  for (let i = 0; i < 1100; i++) {
    const mid = (lo + hi) / 2;
    if (mid <= lo || mid >= hi) break;
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
