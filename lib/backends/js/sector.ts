// The pure-TypeScript reference of the sector-probability Monte-Carlo kernel (native/core/sector.h):
// the same Philox words, a plain sort and the largest circular gap, all in exact integers (words
// below 2^32 and their differences are exact in doubles), so its count is the one every backend
// must give. Clarity first: one trial at a time.
import { KexueError } from '../../errors.js';
import type { Rng } from '../types.js';
import { streamWords } from './philox.js';

const TWO32 = 4294967296;
/** kSectorMaxN and kSectorMaxWords of native/core/sector.h. */
export const SECTOR_MAX_N = 1e6;
export const SECTOR_MAX_WORDS = Number.MAX_SAFE_INTEGER;

/** The kernels' argument checks (sector_mc_check): a message, or undefined when the arguments are valid. */
export function sectorMcProblem(n: number, trialOffset: number, trials: number, threshold: number): string | undefined {
  if (!Number.isInteger(n) || n < 1 || n > SECTOR_MAX_N) return 'n must be in [1, 1e6]';
  if (!Number.isSafeInteger(trialOffset) || !Number.isSafeInteger(trials) || trialOffset < 0 || trials < 0) return 'trialOffset and trials must be >= 0';
  if (trialOffset > Math.floor(SECTOR_MAX_WORDS / n) || trials > Math.floor(SECTOR_MAX_WORDS / n) - trialOffset)
    return '(trialOffset + trials) * n must be at most 2^53 - 1';
  if (!Number.isInteger(threshold) || threshold < 0 || threshold > TWO32) return 'threshold must be an integer in [0, 2^32]';
  return undefined;
}

/** The largest circular gap of sorted angles a (units of 2^-32 turn), n >= 1. */
export function maxCircularGap(a: ArrayLike<number>): number {
  const n = a.length;
  let g = TWO32 - a[n - 1] + a[0];
  for (let i = 1; i < n; i++) g = Math.max(g, a[i] - a[i - 1]);
  return g;
}

export function sectorMcReference(rng: Rng, n: number, trialOffset: number, trials: number, threshold: number, hits: Float64Array): void {
  const why = sectorMcProblem(n, trialOffset, trials, threshold);
  if (why !== undefined) throw new KexueError('E_RANGE', `js backend: sectorMc: ${why}`);
  const a = new Uint32Array(n);
  let count = 0;
  for (let t = trialOffset; t < trialOffset + trials; t++) {
    streamWords(rng, t * n, n, a);
    a.sort(); // numeric for a typed array
    if (maxCircularGap(a) >= threshold) count++;
  }
  hits[0] = count;
}
