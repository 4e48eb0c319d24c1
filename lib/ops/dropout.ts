// Dropout (techniques.md section 1): y = x * e / (1 - p), e ~ Bernoulli(1 - p), so E[y] = x.
import { Tensor } from '../tensor.js';
import { asyncOp, syncOp, type Prepared } from './op.js';
import { backendOpt, options, outArg, probability, rngOpt, tensorArg, threshold24, type RandomOptions } from './args.js';
import { KexueError } from '../errors.js';

export interface DropoutOptions extends RandomOptions {
  /** Drop probability, in [0, 1). */
  p: number;
  /** false: the identity (output = a copy of x, mask all ones). Default true. */
  training?: boolean;
  /** Write the output here (same dtype and size as x; may be x itself, for in-place dropout). */
  out?: Tensor<Float32Array | Float64Array>;
  /** Write the mask here (uint8, same size as x). */
  outMask?: Tensor<Uint8Array>;
}

export interface DropoutResult<T extends Float32Array | Float64Array> {
  /** x * mask / (1 - p); dropped elements are exactly +0. */
  output: Tensor<T>;
  /** 1 where the element was kept. Element i is kept exactly when `uniform(shape, same seed)[i] >= p`. */
  mask: Tensor<Uint8Array>;
}

function prepDropout<T extends Float32Array | Float64Array>(x: Tensor<T> | T, opts: DropoutOptions): Prepared<DropoutResult<T>> {
  const o = options<DropoutOptions>(opts, 'dropout');
  const t = tensorArg<T>(x, 'x', 'dropout', ['float32', 'float64']);
  const p = probability(o.p, 'p', 'dropout');
  if (o.training !== undefined && typeof o.training !== 'boolean')
    throw new KexueError('E_ARG', `dropout: training must be a boolean; got ${typeof o.training}`);
  const rng = rngOpt(o, 'dropout');
  const out = outArg(o.out, t.dtype as 'float32', t.size, 'out', 'dropout') as unknown as T;
  const mask = outArg(o.outMask, 'uint8', t.size, 'outMask', 'dropout');
  const result = () => ({ output: new Tensor(out, t.shape), mask: new Tensor(mask, t.shape) });
  if (o.training === false) {
    if (out !== t.data) out.set(t.data);
    mask.fill(1);
    return { op: 'dropout', args: [], skip: true, result };
  }
  // The float32 scale is rounded to float32 first, so that every backend multiplies the same numbers.
  const scale = t.dtype === 'float32' ? Math.fround(1 / (1 - p)) : 1 / (1 - p);
  return { op: 'dropout', backend: backendOpt(o, 'dropout'), args: [rng, 0, threshold24(p), scale, t.data, out, mask], result };
}

/** Inverted dropout: returns the output and the keep mask. */
export const dropout = syncOp(prepDropout) as <T extends Float32Array | Float64Array>(x: Tensor<T> | T, opts: DropoutOptions) => DropoutResult<T>;
export const dropoutAsync = asyncOp(prepDropout) as <T extends Float32Array | Float64Array>(x: Tensor<T> | T, opts: DropoutOptions) => Promise<DropoutResult<T>>;
