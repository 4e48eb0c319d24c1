// Argument checks shared by the ops. Every check throws a KexueError that names the argument, the
// expected form and the value given, before any kernel runs.
import { KexueError } from '../errors.js';
import { Tensor, allocate, describe, dtypeOf, type DType, type TypedArray } from '../tensor.js';
import { isBackendName } from '../backends/registry.js';
import type { BackendChoice } from '../backends/types.js';

/** Options every op takes. */
export interface OpOptions {
  /** Run on this backend ('auto' by default: the first available of cuda, cpu, wasm, js). */
  backend?: BackendChoice;
}

/** Seed and stream of the counter-based generator: element i is a pure function of (seed, stream, i). */
export interface RandomOptions extends OpOptions {
  /** An integer in [0, 2^64): a number up to 2^53 - 1, or a bigint. Required: kexue never seeds from the clock. */
  seed: number | bigint;
  /** Independent sequence for the same seed (e.g. one per layer or per step). Integer in [0, 2^64); default 0. */
  stream?: number | bigint;
}

export function options<T extends object>(o: unknown, op: string): Partial<T> {
  if (o === undefined) return {};
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new KexueError('E_ARG', `${op}: options must be an object; got ${describe(o)}`);
  return o as Partial<T>;
}

export function backendOpt(o: { backend?: unknown }, op: string): BackendChoice | undefined {
  const b = o.backend;
  if (b === undefined) return undefined;
  if (b === 'auto' || isBackendName(b)) return b;
  throw new KexueError('E_BACKEND', `${op}: backend must be 'auto', 'cuda', 'cpu', 'wasm' or 'js'; got ${describe(b)}`);
}

const TWO32 = 4294967296;

/** [lo, hi] words of a 64-bit unsigned integer given as a number or bigint. */
function u64Words(v: unknown, what: string, op: string): [number, number] {
  if (typeof v === 'bigint') {
    if (v < 0n || v >= 1n << 64n) throw new KexueError('E_RANGE', `${op}: ${what} must be in [0, 2^64); got ${v}`);
    return [Number(v & 0xffffffffn), Number(v >> 32n)];
  }
  if (typeof v !== 'number' || !Number.isInteger(v))
    throw new KexueError('E_RANGE', `${op}: ${what} must be a non-negative integer (number or bigint); got ${describe(v)}`);
  if (v < 0 || !Number.isSafeInteger(v))
    throw new KexueError('E_RANGE', `${op}: ${what} must be in [0, 2^53) as a number (use a bigint up to 2^64 - 1); got ${v}`);
  return [v % TWO32, Math.floor(v / TWO32)];
}

/** The kernels' rng argument: Uint32Array [seedLo, seedHi, streamLo, streamHi]. */
export function rngOpt(o: { seed?: unknown; stream?: unknown }, op: string): Uint32Array {
  if (o.seed === undefined) throw new KexueError('E_ARG', `${op}: options.seed is required (an integer; kexue never seeds from the clock)`);
  const [s0, s1] = u64Words(o.seed, 'seed', op);
  const [t0, t1] = o.stream === undefined ? [0, 0] : u64Words(o.stream, 'stream', op);
  return new Uint32Array([s0, s1, t0, t1]);
}

/** A probability in [0, 1) (or [0, 1] with closed = true). */
export function probability(v: unknown, what: string, op: string, closed = false): number {
  if (typeof v !== 'number' || Number.isNaN(v) || v < 0 || (closed ? v > 1 : v >= 1))
    throw new KexueError('E_RANGE', `${op}: ${what} must be a number in [0, 1${closed ? ']' : ')'}; got ${describe(v)}`);
  return v;
}

/** ceil(p * 2^24): element i is "below p" exactly when (word_i >>> 8) < this, i.e. uniform_i < p. */
export function threshold24(p: number): number {
  return Math.ceil(p * 16777216);
}

export function finite(v: unknown, what: string, op: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new KexueError('E_RANGE', `${op}: ${what} must be a finite number; got ${describe(v)}`);
  return v;
}

/**
 * Throws E_RANGE naming the first element of `a` that is NaN or infinite (with `allowNegInf`,
 * -Infinity passes: an additive mask). One multiply-add per element on the fast path.
 */
export function assertFiniteArray(a: ArrayLike<number>, what: string, op: string, allowNegInf = false): void {
  let acc = 0;
  const n = a.length;
  if (!allowNegInf) {
    for (let i = 0; i < n; i++) acc += a[i] * 0; // NaN * 0 and +-Infinity * 0 are NaN
    if (acc === 0) return;
  }
  for (let i = 0; i < n; i++) {
    const x = a[i];
    if (x !== x || x === Infinity || (x === -Infinity && !allowNegInf))
      throw new KexueError('E_RANGE', `${op}: ${what} must be finite${allowNegInf ? ' (or -Infinity)' : ''}; element ${i} is ${x}`);
  }
}

export function integer(v: unknown, what: string, op: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    throw new KexueError('E_RANGE', `${op}: ${what} must be an integer in [${min}, ${max}]; got ${describe(v)}`);
  return v;
}

export function dtypeOpt<D extends DType>(v: unknown, allowed: readonly D[], dflt: D, op: string): D {
  if (v === undefined) return dflt;
  if (!(allowed as readonly unknown[]).includes(v))
    throw new KexueError('E_DTYPE', `${op}: dtype must be ${allowed.map((a) => `'${a}'`).join(' or ')}; got ${describe(v)}`);
  return v as D;
}

/**
 * A tensor argument: a Tensor, or a typed array (taken as 1-D). `dtypes` lists what the op takes.
 */
export function tensorArg<T extends TypedArray>(v: unknown, what: string, op: string, dtypes: readonly DType[]): Tensor<T> {
  let t: Tensor;
  if (v instanceof Tensor) t = v;
  else if (dtypeOf(v) !== undefined) t = new Tensor(v as TypedArray, [(v as TypedArray).length]);
  else throw new KexueError('E_DTYPE', `${op}: ${what} must be a Tensor or a typed array (${dtypes.join(' or ')}); got ${describe(v)}`);
  if (!dtypes.includes(t.dtype)) throw new KexueError('E_DTYPE', `${op}: ${what} must be ${dtypes.join(' or ')}; got ${t.dtype}`);
  return t as Tensor<T>;
}

/** Integer ids: a Tensor or Int32Array, or a plain array of integers (converted to int32). */
export function idsArg(v: unknown, what: string, op: string): Tensor<Int32Array> {
  if (Array.isArray(v)) {
    const a = new Int32Array(v.length);
    v.forEach((x, i) => {
      if (typeof x !== 'number' || !Number.isInteger(x) || x < -2147483648 || x > 2147483647)
        throw new KexueError('E_DTYPE', `${op}: ${what}[${i}] must be an int32; got ${describe(x)}`);
      a[i] = x;
    });
    return new Tensor(a, [a.length]);
  }
  return tensorArg<Int32Array>(v, what, op, ['int32']);
}

/**
 * The output buffer: the caller's `out` tensor when given (it must have the dtype and size
 * expected; its shape is kept when the size matches), else a new typed array.
 */
export function outArg<D extends DType>(out: unknown, dtype: D, size: number, what: string, op: string): ReturnType<typeof allocate<D>> {
  if (out === undefined) return allocate(dtype, size);
  const t = tensorArg(out, what, op, [dtype]);
  if (t.size !== size) throw new KexueError('E_SHAPE', `${op}: ${what} must hold ${size} elements; got ${t.size}`);
  return t.data as ReturnType<typeof allocate<D>>;
}
