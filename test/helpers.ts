import { backends, type BackendName } from '../dist/index.js';
import { loadNative } from '../dist/backends/native.js';

/** The backends this machine can run, the js reference first. */
export function available(): BackendName[] {
  const order: BackendName[] = ['js', 'wasm', 'cpu', 'cuda'];
  const info = backends();
  return order.filter((n) => info.find((b) => b.name === n)?.available);
}

/** The non-reference backends to compare against js. */
export function fastBackends(): BackendName[] {
  return available().filter((b) => b !== 'js');
}

/**
 * A fresh seed per run (KEXUE_TEST_SEED reproduces one); tests put it in every assertion message
 * so a failure says how to reproduce it.
 */
export function freshSeed(): number {
  const env = process.env.KEXUE_TEST_SEED;
  return env !== undefined ? Number(env) : Math.floor(Math.random() * 2 ** 32);
}

/** Index of the first element whose bits differ, or -1 (NaN-safe, -0 != +0). */
export function firstBitMismatch(a: ArrayBufferView, b: ArrayBufferView): number {
  if (a.byteLength !== b.byteLength) return 0;
  const ua = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const ub = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  const size = (a as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT ?? 1;
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) return Math.floor(i / size);
  return -1;
}

/** The native addon the library loaded (the same module instance), or undefined. */
export function nativeAddon(): Record<string, any> | undefined {
  return loadNative().addon as Record<string, any> | undefined;
}
