// Counter-based sampling (techniques.md section 1): Philox4x32-10 and the uniform, normal and
// Bernoulli tensors drawn from it. Element i is a pure function of (seed, stream, i), so every
// backend and every thread count gives the same bits.
import { KexueError } from '../errors.js';
import { Tensor, checkShape, shapeSize, describe, type Shape } from '../tensor.js';
import { asyncOp, syncOp, type Prepared } from './op.js';
import { backendOpt, dtypeOpt, finite, options, outArg, probability, rngOpt, threshold24, type OpOptions, type RandomOptions } from './args.js';

function words(v: unknown, n: number, what: string): Uint32Array {
  if (v === null || typeof v !== 'object' || (v as ArrayLike<unknown>).length !== n)
    throw new KexueError('E_ARG', `philox4x32: ${what} must be ${n} uint32 words; got ${describe(v)}`);
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const w = (v as ArrayLike<unknown>)[i];
    if (typeof w !== 'number' || !Number.isInteger(w) || w < 0 || w > 0xffffffff)
      throw new KexueError('E_RANGE', `philox4x32: ${what}[${i}] must be an integer in [0, 2^32); got ${describe(w)}`);
    out[i] = w;
  }
  return out;
}

function prepPhilox(counter: ArrayLike<number>, key: ArrayLike<number>, opts?: OpOptions): Prepared<Uint32Array> {
  const o = options<OpOptions>(opts, 'philox4x32');
  const out = new Uint32Array(4);
  return { op: 'philox', backend: backendOpt(o, 'philox4x32'), args: [words(counter, 4, 'counter'), words(key, 2, 'key'), out], result: () => out };
}

/**
 * Philox4x32-10 (Salmon et al., SC 2011): the four output words for a 4-word counter and a 2-word
 * key. `philox4x32([0, 0, 0, 0], [0, 0])` is `[0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]`.
 */
export const philox4x32 = syncOp(prepPhilox);
export const philox4x32Async = asyncOp(prepPhilox);

export interface UniformOptions extends RandomOptions {
  /** Write into this tensor (same dtype and size) instead of allocating: no page faults on reuse. */
  out?: Tensor<Float32Array | Float64Array>;
  /** 'float32' (default: 24 random bits, `(w >>> 8) * 2^-24`) or 'float64' (53 bits from two words). */
  dtype?: 'float32' | 'float64';
}

function prepUniform(shape: Shape, opts: UniformOptions): Prepared<Tensor<Float32Array | Float64Array>> {
  const o = options<UniformOptions>(opts, 'uniform');
  checkShape(shape, 'uniform: shape');
  const rng = rngOpt(o, 'uniform');
  const out = outArg(o.out, dtypeOpt(o.dtype, ['float32', 'float64'] as const, 'float32', 'uniform'), shapeSize(shape), 'out', 'uniform');
  return { op: 'uniform', backend: backendOpt(o, 'uniform'), args: [rng, 0, out], result: () => new Tensor(out, shape) };
}

/** Uniform samples in [0, 1). */
export const uniform = syncOp(prepUniform);
export const uniformAsync = asyncOp(prepUniform);

export interface NormalOptions extends UniformOptions {
  mean?: number;
  std?: number;
}

function prepNormal(shape: Shape, opts: NormalOptions): Prepared<Tensor<Float32Array | Float64Array>> {
  const o = options<NormalOptions>(opts, 'normal');
  checkShape(shape, 'normal: shape');
  const rng = rngOpt(o, 'normal');
  const mean = o.mean === undefined ? 0 : finite(o.mean, 'mean', 'normal');
  const std = o.std === undefined ? 1 : finite(o.std, 'std', 'normal');
  if (std < 0) throw new KexueError('E_RANGE', `normal: std must be >= 0; got ${std}`);
  const out = outArg(o.out, dtypeOpt(o.dtype, ['float32', 'float64'] as const, 'float32', 'normal'), shapeSize(shape), 'out', 'normal');
  return { op: 'normal', backend: backendOpt(o, 'normal'), args: [rng, 0, mean, std, out], result: () => new Tensor(out, shape) };
}

/**
 * Normal samples (Box-Muller on Philox words, with kexue's own log and sincos so that every
 * backend gives the same bits). Element i uses the word pair i >> 1: cos for even i, sin for odd.
 */
export const normal = syncOp(prepNormal);
export const normalAsync = asyncOp(prepNormal);

export interface BernoulliOptions extends RandomOptions {
  /** Probability of a 1, in [0, 1]. */
  p: number;
  /** Write into this uint8 tensor instead of allocating. */
  out?: Tensor<Uint8Array>;
}

function prepBernoulli(shape: Shape, opts: BernoulliOptions): Prepared<Tensor<Uint8Array>> {
  const o = options<BernoulliOptions>(opts, 'bernoulli');
  checkShape(shape, 'bernoulli: shape');
  const p = probability(o.p, 'p', 'bernoulli', true);
  const rng = rngOpt(o, 'bernoulli');
  const out = outArg(o.out, 'uint8', shapeSize(shape), 'out', 'bernoulli');
  return { op: 'bernoulli', backend: backendOpt(o, 'bernoulli'), args: [rng, 0, threshold24(p), out], result: () => new Tensor(out, shape) };
}

/** 0/1 samples (Uint8Array): element i is 1 exactly when `uniform(shape, same seed)[i] < p`. */
export const bernoulli = syncOp(prepBernoulli);
export const bernoulliAsync = asyncOp(prepBernoulli);
