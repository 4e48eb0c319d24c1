import { expect } from 'vitest';
import { KexueError, backends, normal, uniform, type BackendName } from '../dist/index.js';
import { matmul, transpose } from '../dist/backends/js/linalg.js';
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

/** A random orthogonal m x m matrix: Gram-Schmidt, twice per column, of a Gaussian matrix. */
export function orthogonal(m: number, seed: number): Float64Array {
  const g = normal([m, m], { seed, dtype: 'float64' }).data;
  const Q = new Float64Array(m * m);
  for (let j = 0; j < m; j++) {
    for (let i = 0; i < m; i++) Q[i * m + j] = g[i * m + j];
    for (let pass = 0; pass < 2; pass++)
      for (let k = 0; k < j; k++) {
        let d = 0;
        for (let i = 0; i < m; i++) d += Q[i * m + j] * Q[i * m + k];
        for (let i = 0; i < m; i++) Q[i * m + j] -= d * Q[i * m + k];
      }
    let s = 0;
    for (let i = 0; i < m; i++) s += Q[i * m + j] ** 2;
    for (let i = 0; i < m; i++) Q[i * m + j] /= Math.sqrt(s);
  }
  return Q;
}

/** Q diag(lams) Q^T with a random orthogonal Q. */
export function spd(n: number, seed: number, lams?: number[]): Float64Array {
  const Q = orthogonal(n, seed);
  const l = lams ?? Array.from(uniform([n], { seed: seed + 1, dtype: 'float64' }).data, (u) => 0.5 + 2 * u);
  const QL = Q.map((q, i) => q * l[i % n]);
  const A = matmul(QL, transpose(Q, n, n), n, n, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) A[i * n + j] = A[j * n + i];
  return A;
}

export function relFro(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0, s = 0;
  for (let i = 0; i < a.length; i++) {
    d += (a[i] - b[i]) ** 2;
    s += b[i] ** 2;
  }
  return Math.sqrt(d / (s || 1));
}


/** The KexueError code fn throws ('no error' when it returns); any other exception fails the test. */
export function errorCode(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(KexueError);
    return (e as KexueError).code;
  }
  return 'no error';
}
