// Training the built-in MLP (the Mlp of lib/ops/ig.ts): reproducible initialisation from the
// Philox normal/uniform ops, a batched forward pass that keeps what the backward pass needs, the
// backward pass to parameter (and optionally input) gradients, and an Adam(W) optimiser that
// updates a parameter vector in place. The kernels (mlpForward, mlpBackward, adam) run on the
// chosen backend through lib/ops/op.ts; Adam is bit-identical on every backend because its bias
// corrections are computed here once, in JS.
import { KexueError } from '../errors.js';
import { Tensor, describe } from '../tensor.js';
import { runOp, runOpAsync } from '../backends/dispatch.js';
import { MLP_ACTIVATIONS } from '../backends/js/ig.js';
import type { BackendChoice } from '../backends/types.js';
import { asyncOp, syncOp, type Prepared } from './op.js';
import { backendOpt, options, rngOpt, type OpOptions } from './args.js';
import { Mlp, type MlpActivation } from './ig.js';
import { normal, uniform } from './random.js';

export type MlpInit = 'he' | 'xavier' | 'pytorch';

export interface MlpInitOptions {
  /** Philox seed (required: kexue never seeds from the clock). */
  seed: number | bigint;
  /** Philox stream (default 0): a second network from the same seed takes another stream. */
  stream?: number | bigint;
  /**
   * 'he' (default): W ~ N(0, 2 / fan_in), b = 0; 'xavier': W ~ U(-a, a) with
   * a = sqrt(6 / (fan_in + fan_out)), b = 0; 'pytorch' (nn.Linear's default): W and b ~ U(-k, k)
   * with k = 1 / sqrt(fan_in).
   */
  init?: MlpInit;
  backend?: BackendChoice;
}

const INITS: readonly MlpInit[] = ['he', 'xavier', 'pytorch'];

/** The most float64 elements one array of these ops may hold (parameters, activations): 2^28, 2 GiB. */
export const MLP_MAX_ELEMENTS = 2 ** 28;

/**
 * An allocation failure (a RangeError from a typed-array constructor, or tensor.ts's E_OOM) as a
 * KexueError E_OOM that names `op`; any other error is returned unchanged.
 */
export function oomError(e: unknown, op: string): unknown {
  if (e instanceof KexueError && e.code === 'E_OOM' && !e.message.startsWith(`${op}:`)) return new KexueError('E_OOM', `${op}: ${e.message}`, { cause: e });
  if (e instanceof RangeError) return new KexueError('E_OOM', `${op}: cannot allocate its arrays (${e.message})`, { cause: e });
  return e;
}

/** new Float64Array(n) after checking n against MLP_MAX_ELEMENTS (E_RANGE naming `what`), allocation failures as E_OOM. */
function f64Array(n: number, what: string, op: string): Float64Array {
  if (n > MLP_MAX_ELEMENTS) throw new KexueError('E_RANGE', `${op}: ${what} would hold ${n} float64 values; the limit is 2^28 = ${MLP_MAX_ELEMENTS}`);
  try {
    return new Float64Array(n);
  } catch (e) {
    throw oomError(e, op);
  }
}

/**
 * A new MLP with layer sizes dims = [d_0, ..., d_L] and one activation per layer, or one
 * activation for every hidden layer (the last layer then 'identity'; a one-layer net has no hidden
 * layer, so there the single activation applies to its only layer: mlpInit([4, 2], 'sigmoid') is
 * logistic regression). At most 2^28 parameters (E_RANGE). All parameters come from
 * one Philox draw of (seed, stream) in the params layout (W_1, b_1, W_2, ...), so the same seed
 * gives the same network on every backend.
 */
export function mlpInit(dims: number[], activations: MlpActivation[] | MlpActivation, opts: MlpInitOptions): Mlp {
  const op = 'mlpInit';
  if (!Array.isArray(dims) || dims.length < 2 || !dims.every((d) => Number.isInteger(d) && d >= 1 && d <= 1 << 20))
    throw new KexueError('E_SHAPE', `${op}: dims must be [d_0, ..., d_L] with at least 2 positive integers; got ${describe(dims)}`);
  const L = dims.length - 1;
  if (!Array.isArray(activations) && !MLP_ACTIVATIONS.includes(activations))
    throw new KexueError('E_ARG', `${op}: activations must be one of ${MLP_ACTIVATIONS.join(', ')} or an array of ${L} of them; got ${describe(activations)}`);
  const acts: MlpActivation[] = Array.isArray(activations)
    ? [...activations]
    : Array.from({ length: L }, (_, l) => (l === L - 1 && L > 1 ? 'identity' : activations));
  if (acts.length !== L) throw new KexueError('E_SHAPE', `${op}: ${L} layers need ${L} activations; got ${acts.length}`);
  acts.forEach((a, l) => {
    if (!MLP_ACTIVATIONS.includes(a)) throw new KexueError('E_ARG', `${op}: activation ${l} must be one of ${MLP_ACTIVATIONS.join(', ')}; got ${describe(a)}`);
    if (a === 'softmax' && l !== L - 1) throw new KexueError('E_ARG', `${op}: softmax is allowed on the last layer only (layer ${l})`);
  });
  const o = options<MlpInitOptions>(opts, op);
  rngOpt(o, op);
  const init = o.init ?? 'he';
  if (!INITS.includes(init)) throw new KexueError('E_ARG', `${op}: init must be one of ${INITS.join(', ')}; got ${describe(init)}`);
  let P = 0;
  for (let l = 1; l <= L; l++) P += dims[l] * dims[l - 1] + dims[l];
  if (P > MLP_MAX_ELEMENTS) throw new KexueError('E_RANGE', `${op}: dims [${dims.join(', ')}] need ${P} parameters; the limit is 2^28 = ${MLP_MAX_ELEMENTS}`);
  const draw = { seed: o.seed!, stream: o.stream, dtype: 'float64' as const, backend: backendOpt(o, op) };
  let params: Float64Array;
  try {
    params = (init === 'he' ? normal([P], draw) : uniform([P], draw)).data as Float64Array;
  } catch (e) {
    throw oomError(e, op);
  }
  let off = 0;
  for (let l = 1; l <= L; l++) {
    const fin = dims[l - 1], fout = dims[l], nW = fin * fout;
    if (init === 'he') {
      const s = Math.sqrt(2 / fin);
      for (let i = off; i < off + nW; i++) params[i] *= s;
      params.fill(0, off + nW, off + nW + fout);
    } else {
      const a = init === 'xavier' ? Math.sqrt(6 / (fin + fout)) : 1 / Math.sqrt(fin);
      const end = init === 'xavier' ? off + nW : off + nW + fout;
      for (let i = off; i < end; i++) params[i] = a * (2 * params[i] - 1);
      if (init === 'xavier') params.fill(0, off + nW, off + nW + fout);
    }
    off += nW + fout;
  }
  const spec = Float64Array.from([L, ...dims, ...acts.map((a) => MLP_ACTIVATIONS.indexOf(a))]);
  return new Mlp(spec, params, [...dims], acts);
}

// ---- forward and backward ------------------------------------------------------------------------

/** What mlpBackward needs from a forward pass (treat as opaque). */
export interface MlpCache {
  /** The network's spec and a copy of its parameters at the forward pass. */
  readonly spec: Float64Array;
  readonly params: Float64Array;
  readonly batch: number;
  /** The input [batch, d_0] as float64. */
  readonly x: Float64Array;
  /** z_1, a_1, z_2, a_2, ... each [batch, d_l] (the kernel's layout). */
  readonly acts: Float64Array;
}

export interface MlpForwardOptions extends OpOptions {
  /** Rows of x when x is a flat typed array (default x.length / d_0). */
  batch?: number;
}

export interface MlpForwardResult {
  /** The network's output [batch, d_L], row-major. */
  output: Float64Array;
  cache: MlpCache;
}

export interface MlpBackwardOptions extends OpOptions {
  /** Also return dLoss/dx (default false). */
  inputGrad?: boolean;
}

export interface MlpGradients {
  /** dLoss/dparams in the params layout (W_1, b_1, ...), summed over the batch. */
  gradParams: Float64Array;
  /** dLoss/dx [batch, d_0], when inputGrad was asked for. */
  gradInput?: Float64Array;
}

function modelArg(model: unknown, op: string): Mlp {
  if (!(model instanceof Mlp)) throw new KexueError('E_ARG', `${op}: model must be an Mlp (mlp(...) or mlpInit(...)); got ${describe(model)}`);
  return model;
}

/** A float input as a float64 copy (so later changes by the caller do not reach it), every entry finite. */
function floats(v: unknown, what: string, op: string): { data: Float64Array; shape: readonly number[] | null } {
  let src: ArrayLike<number>, shape: readonly number[] | null = null;
  if (v instanceof Tensor && (v.dtype === 'float64' || v.dtype === 'float32')) (src = v.data as ArrayLike<number>), (shape = v.shape);
  else if (v instanceof Float64Array || v instanceof Float32Array) src = v;
  else throw new KexueError('E_DTYPE', `${op}: ${what} must be a Float64Array, Float32Array or float Tensor; got ${describe(v)}`);
  const data = Float64Array.from(src);
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) throw new KexueError('E_RANGE', `${op}: ${what} has a non-finite entry (${data[i]}) at flat index ${i}`);
  return { data, shape };
}

function actsLength(dims: readonly number[], batch: number): number {
  let n = 0;
  for (let l = 1; l < dims.length; l++) n += 2 * batch * dims[l];
  return n;
}

function prepForward(model: Mlp, x: Tensor | Float64Array | Float32Array, opts?: MlpForwardOptions): Prepared<MlpForwardResult> {
  const op = 'mlpForward';
  const m = modelArg(model, op);
  const o = options<MlpForwardOptions>(opts, op);
  const d0 = m.inputSize, dL = m.outputSize;
  const { data, shape } = floats(x, 'x', op);
  let batch: number;
  if (shape && shape.length !== 1) {
    if (shape.length !== 2 || shape[1] !== d0) throw new KexueError('E_SHAPE', `${op}: x must be [batch, ${d0}]; got [${shape.join(', ')}]`);
    batch = shape[0];
  } else batch = data.length / d0;
  if (o.batch !== undefined) {
    if (!Number.isInteger(o.batch) || o.batch < 1) throw new KexueError('E_RANGE', `${op}: batch must be a positive integer; got ${describe(o.batch)}`);
    if (o.batch !== batch) throw new KexueError('E_SHAPE', `${op}: x holds ${data.length} values, not batch ${o.batch} x ${d0}`);
  }
  if (!Number.isInteger(batch) || batch < 1) throw new KexueError('E_SHAPE', `${op}: x must hold a positive multiple of d_0 = ${d0} values; got ${data.length}`);
  const acts = f64Array(actsLength(m.dims, batch), `the activations (2 x batch ${batch} x (${m.dims.slice(1).join(' + ')}))`, op);
  const cache: MlpCache = { spec: m.spec, params: m.params.slice(), batch, x: data, acts };
  return {
    op: 'mlpForward',
    backend: backendOpt(o, op),
    args: [cache.spec, cache.params, batch, data, acts],
    result: () => ({ output: acts.slice(acts.length - batch * dL), cache }),
  };
}

/** The MLP's output on x [batch, d_0] and the cache mlpBackward needs (float64). */
export const mlpForward = syncOp(prepForward);
export const mlpForwardAsync = asyncOp(prepForward);

function prepBackward(model: Mlp, cache: MlpCache, gradOutput: Tensor | Float64Array | Float32Array, opts?: MlpBackwardOptions): Prepared<MlpGradients> {
  const op = 'mlpBackward';
  const m = modelArg(model, op);
  const o = options<MlpBackwardOptions>(opts, op);
  const c = cache as Partial<MlpCache> | null;
  if (c === null || typeof c !== 'object' || !(c.acts instanceof Float64Array) || !(c.x instanceof Float64Array) || !(c.params instanceof Float64Array) || typeof c.batch !== 'number')
    throw new KexueError('E_ARG', `${op}: cache must be the cache of an mlpForward result; got ${describe(cache)}`);
  if (!(c.spec instanceof Float64Array) || c.spec.length !== m.spec.length || c.spec.some((v, i) => v !== m.spec[i]) || c.params.length !== m.params.length)
    throw new KexueError('E_ARG', `${op}: the cache comes from a network of another shape than model`);
  const batch = c.batch;
  if (c.acts.length !== actsLength(m.dims, batch) || c.x.length !== batch * m.inputSize) throw new KexueError('E_ARG', `${op}: the cache is malformed`);
  const { data: g, shape: gShape } = floats(gradOutput, 'gradOutput', op);
  if (gShape && gShape.length !== 1 && (gShape.length !== 2 || gShape[0] !== batch || gShape[1] !== m.outputSize))
    throw new KexueError('E_SHAPE', `${op}: gradOutput must be [batch, d_L] = [${batch}, ${m.outputSize}] (or flat); got [${gShape.join(', ')}]`);
  if (g.length !== batch * m.outputSize)
    throw new KexueError('E_SHAPE', `${op}: gradOutput must hold batch x d_L = ${batch} x ${m.outputSize} values; got ${g.length}`);
  const inputGrad = o.inputGrad ?? false;
  if (typeof inputGrad !== 'boolean') throw new KexueError('E_ARG', `${op}: inputGrad must be a boolean; got ${describe(inputGrad)}`);
  const gradParams = f64Array(m.params.length, 'gradParams', op);
  const gradX = f64Array(inputGrad ? batch * m.inputSize : 0, 'gradInput', op);
  return {
    op: 'mlpBackward',
    backend: backendOpt(o, op),
    args: [m.spec, c.params, batch, c.x, c.acts, g, gradParams, gradX],
    result: () => (inputGrad ? { gradParams, gradInput: gradX } : { gradParams }),
  };
}

/**
 * Gradients of a loss from gradOutput = dLoss/doutput [batch, d_L], through the forward pass that
 * made cache (with the parameters it used): dLoss/dparams summed over the batch and, with
 * { inputGrad: true }, dLoss/dx.
 */
export const mlpBackward = syncOp(prepBackward);
export const mlpBackwardAsync = asyncOp(prepBackward);

// ---- Adam ----------------------------------------------------------------------------------------

export interface AdamOptions {
  /** Learning rate (default 1e-3); may be changed between steps (adam.lr = ...). */
  lr?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Decoupled weight decay (AdamW; default 0): p -= lr wd p. */
  weightDecay?: number;
}

/**
 * Adam(W) (Kingma and Ba; Loshchilov and Hutter's decoupled weight decay) on one Float64Array of
 * parameters, updated in place: `new Adam(model.params)` trains an Mlp. Per element, at step t:
 * m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
 * p -= lr (wd p + (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)).
 */
export class Adam {
  readonly params: Float64Array;
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  #m: Float64Array;
  #v: Float64Array;
  #t = 0;
  #pending = false;

  constructor(params: Float64Array, opts: AdamOptions = {}) {
    const op = 'Adam';
    if (!(params instanceof Float64Array)) throw new KexueError('E_DTYPE', `${op}: params must be a Float64Array (e.g. model.params); got ${describe(params)}`);
    const o = options<AdamOptions>(opts, op);
    const num = (v: unknown, dflt: number, what: string, ok: (x: number) => boolean, range: string): number => {
      const x = v === undefined ? dflt : v;
      if (typeof x !== 'number' || !Number.isFinite(x) || !ok(x)) throw new KexueError('E_RANGE', `${op}: ${what} must be ${range}; got ${describe(v)}`);
      return x;
    };
    this.params = params;
    this.lr = num(o.lr, 1e-3, 'lr', (x) => x >= 0, 'a finite number >= 0');
    this.beta1 = num(o.beta1, 0.9, 'beta1', (x) => x >= 0 && x < 1, 'in [0, 1)');
    this.beta2 = num(o.beta2, 0.999, 'beta2', (x) => x >= 0 && x < 1, 'in [0, 1)');
    this.eps = num(o.eps, 1e-8, 'eps', (x) => x > 0, 'a finite number > 0');
    this.weightDecay = num(o.weightDecay, 0, 'weightDecay', (x) => x >= 0, 'a finite number >= 0');
    this.#m = new Float64Array(params.length);
    this.#v = new Float64Array(params.length);
  }

  /** Steps taken so far. */
  get t(): number {
    return this.#t;
  }

  /** Forgets the moments and the step count (the parameters stay). */
  reset(): void {
    this.#idle('Adam.reset');
    this.#m.fill(0);
    this.#v.fill(0);
    this.#t = 0;
  }

  #idle(op: string): void {
    if (this.#pending) throw new KexueError('E_ARG', `${op}: a stepAsync is still running; await it first`);
  }

  #prepare(grads: unknown, opts: OpOptions | undefined, op: string): { backend: BackendChoice | undefined; args: [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array] } {
    this.#idle(op);
    const backend = backendOpt(options<OpOptions>(opts, op), op);
    const g = floats(grads, 'grads', op).data;
    if (g.length !== this.params.length) throw new KexueError('E_SHAPE', `${op}: grads must hold ${this.params.length} values (one per parameter); got ${g.length}`);
    if (!Number.isFinite(this.lr) || this.lr < 0) throw new KexueError('E_RANGE', `${op}: lr must be a finite number >= 0; got ${describe(this.lr)}`);
    const t = this.#t + 1;
    const hyper = Float64Array.of(this.lr, this.beta1, this.beta2, this.eps, this.weightDecay, 1 - this.beta1 ** t, 1 - this.beta2 ** t);
    return { backend, args: [this.params, g, this.#m, this.#v, hyper] };
  }

  /** One step with grads = dLoss/dparams (non-finite gradients: E_RANGE, nothing changed). */
  step(grads: Float64Array | Float32Array, opts?: OpOptions): this {
    const { backend, args } = this.#prepare(grads, opts, 'Adam.step');
    runOp('adam', backend, args);
    this.#t++;
    return this;
  }

  /** step() off the event loop; the optimiser refuses other calls until it settles. */
  async stepAsync(grads: Float64Array | Float32Array, opts?: OpOptions): Promise<this> {
    const { backend, args } = this.#prepare(grads, opts, 'Adam.stepAsync');
    this.#pending = true;
    try {
      await runOpAsync('adam', backend, args);
    } finally {
      this.#pending = false;
    }
    this.#t++;
    return this;
  }
}
