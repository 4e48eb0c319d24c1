// Small helpers the tour's sections share: the backends this machine runs, a content hash, a
// warm timing, and the shading of terminal heatmaps.
import { createHash } from 'node:crypto';
import { backends, type BackendName } from '../index.js';

/** The backends available here, in the registry's order (cuda > cpu > wasm > js). */
export function availableBackends(): BackendName[] {
  return backends().filter((b) => b.available).map((b) => b.name);
}

/** The first 16 hex digits of the SHA-256 of a typed array's bytes. */
export function hash(a: ArrayBufferView): string {
  return createHash('sha256').update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)).digest('hex').slice(0, 16);
}

/** Milliseconds of one call after a warm-up call. */
export function timeMs(fn: () => void): number {
  fn();
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

/** Terminal shades from blank (0) to '@' (1). */
export const SHADES = ' .:-=+*#%@';

/** The shade of a value in [0, 1]. */
export function shade(v: number): string {
  return SHADES[Math.min(SHADES.length - 1, Math.max(0, Math.round(v * (SHADES.length - 1))))];
}
