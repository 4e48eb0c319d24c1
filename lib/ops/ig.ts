// Integrated gradients (techniques.md section 4): the path integral of dF/dx from a baseline x' to
// the input x, approximated by one of five quadratures, for a built-in MLP (the fused igMlp kernel
// on the chosen backend: forward, backward and the weighted sum without materialising every path
// point) or any external model given as output/gradient callbacks on batches of path points.
// The engine is written once as a plan (a generator yielding the model calls) and runs
// synchronously or, for integratedGradientsAsync, awaiting Promise-returning callbacks and running
// the kernels off the event loop.
import { createRequire } from 'node:module';
import { KexueError } from '../errors.js';
import { Tensor, describe, type FloatArray } from '../tensor.js';
import { backendOpt, options, type OpOptions } from './args.js';
import { runOp, runOpAsync } from '../backends/dispatch.js';
import { MLP_ACTIVATIONS, type MlpActivation } from '../backends/js/ig.js';
import { uniform } from './random.js';
import type { BackendChoice } from '../backends/types.js';

// ---- quadrature ----------------------------------------------------------------------------------

export type IgMethod = 'riemann_left' | 'riemann_right' | 'riemann_middle' | 'riemann_trapezoid' | 'gausslegendre';
const METHODS: readonly IgMethod[] = ['riemann_left', 'riemann_right', 'riemann_middle', 'riemann_trapezoid', 'gausslegendre'];

/** Gauss-Legendre nodes (ascending) and weights on [-1, 1] by Newton's method on P_m (exact to rounding). */
function gaussLegendre(m: number): { x: Float64Array; w: Float64Array } {
  const x = new Float64Array(m), w = new Float64Array(m);
  for (let i = 0; i < Math.ceil(m / 2); i++) {
    let z = Math.cos((Math.PI * (i + 0.75)) / (m + 0.5));
    let dp = 0;
    for (let it = 0; it < 100; it++) {
      let p0 = 1, p1 = z;
      for (let k = 2; k <= m; k++) {
        const p2 = ((2 * k - 1) * z * p1 - (k - 1) * p0) / k;
        p0 = p1;
        p1 = p2;
      }
      if (m === 1) p0 = 1;
      dp = (m * (z * p1 - p0)) / (z * z - 1);
      const dz = p1 / dp;
      z -= dz;
      if (Math.abs(dz) < 1e-16) {
        // one more evaluation for the derivative at the converged node
        let q0 = 1, q1 = z;
        for (let k = 2; k <= m; k++) {
          const q2 = ((2 * k - 1) * z * q1 - (k - 1) * q0) / k;
          q0 = q1;
          q1 = q2;
        }
        dp = m === 1 ? 1 : (m * (z * q1 - q0)) / (z * z - 1);
        break;
      }
    }
    if (m === 1) {
      x[0] = 0;
      w[0] = 2;
      break;
    }
    x[m - 1 - i] = z;
    x[i] = -z;
    w[i] = w[m - 1 - i] = 2 / ((1 - z * z) * dp * dp);
  }
  if (m % 2 === 1) x[(m - 1) / 2] = 0; // the middle node is exactly 0
  // as numpy's leggauss (Captum's source of nodes): weights scaled to sum to exactly 2
  let sum = 0;
  for (let i = 0; i < m; i++) sum += w[i];
  for (let i = 0; i < m; i++) w[i] *= 2 / sum;
  return { x, w };
}

/**
 * The nodes alpha_k in [0, 1] and weights of a quadrature of the path integral (techniques.md
 * section 4; Captum's definitions): riemann_left k/m, right (k+1)/m, middle (k+1/2)/m, weights
 * 1/m; riemann_trapezoid k/(m-1) with weights 1/(m-1) halved at both ends (m >= 2);
 * gausslegendre: the Legendre nodes mapped to [0, 1] with their weights halved.
 */
export function quadrature(method: IgMethod, steps: number): { nodes: Float64Array; weights: Float64Array } {
  const op = 'quadrature';
  if (!METHODS.includes(method)) throw new KexueError('E_ARG', `${op}: method must be one of ${METHODS.join(', ')}; got ${describe(method)}`);
  if (!Number.isInteger(steps) || steps < 1 || steps > 1e6) throw new KexueError('E_RANGE', `${op}: steps must be an integer in [1, 1e6]; got ${describe(steps)}`);
  const m = steps;
  const nodes = new Float64Array(m), weights = new Float64Array(m);
  if (method === 'gausslegendre') {
    const { x, w } = gaussLegendre(m);
    for (let k = 0; k < m; k++) {
      nodes[k] = 0.5 * (x[k] + 1);
      weights[k] = 0.5 * w[k];
    }
  } else if (method === 'riemann_trapezoid') {
    if (m < 2) throw new KexueError('E_RANGE', `${op}: riemann_trapezoid needs steps >= 2; got ${m}`);
    for (let k = 0; k < m; k++) {
      nodes[k] = k / (m - 1);
      weights[k] = (k === 0 || k === m - 1 ? 0.5 : 1) / (m - 1);
    }
  } else {
    const shift = method === 'riemann_left' ? 0 : method === 'riemann_right' ? 1 : 0.5;
    for (let k = 0; k < m; k++) {
      nodes[k] = (k + shift) / m;
      weights[k] = 1 / m;
    }
  }
  return { nodes, weights };
}

// ---- models --------------------------------------------------------------------------------------

export type { MlpActivation };

export interface MlpLayerSpec {
  /** [out, in], as PyTorch's Linear.weight */
  weight: Tensor;
  /** [out]; zeros when omitted */
  bias?: Tensor;
  /** default 'identity'; 'softmax' only on the last layer */
  activation?: MlpActivation;
}

/** A built-in MLP: evaluated forward and backward by the igMlp kernel on the chosen backend. */
export class Mlp {
  readonly kind = 'mlp';
  readonly inputSize: number;
  readonly outputSize: number;
  /** [L, d_0..d_L, activation codes] (the igMlp kernel's header) */
  readonly spec: Float64Array;
  /** W_1, b_1, W_2, b_2, ... float64 */
  readonly params: Float64Array;
  readonly activations: MlpActivation[];
  readonly dims: number[];

  constructor(spec: Float64Array, params: Float64Array, dims: number[], activations: MlpActivation[]) {
    this.spec = spec;
    this.params = params;
    this.dims = dims;
    this.activations = activations;
    this.inputSize = dims[0];
    this.outputSize = dims[dims.length - 1];
  }
}

/** Builds a built-in MLP from PyTorch-layout layers ({ weight [out, in], bias [out], activation }). */
export function mlp(config: { layers: MlpLayerSpec[] }): Mlp {
  const op = 'mlp';
  if (config === null || typeof config !== 'object' || !Array.isArray(config.layers) || config.layers.length === 0)
    throw new KexueError('E_ARG', `${op}: expected { layers: [{ weight, bias?, activation? }, ...] } with at least one layer; got ${describe(config)}`);
  const dims: number[] = [];
  const acts: MlpActivation[] = [];
  const parts: Float64Array[] = [];
  config.layers.forEach((layer, l) => {
    const w = layer?.weight;
    if (!(w instanceof Tensor) || w.shape.length !== 2 || (w.dtype !== 'float32' && w.dtype !== 'float64'))
      throw new KexueError('E_SHAPE', `${op}: layers[${l}].weight must be a float Tensor [out, in]; got ${describe(w)}`);
    const [out, inp] = w.shape;
    if (l === 0) dims.push(inp);
    else if (inp !== dims[l]) throw new KexueError('E_SHAPE', `${op}: layers[${l}].weight is [${out}, ${inp}] but layer ${l - 1} has ${dims[l]} outputs`);
    if (out < 1 || inp < 1) throw new KexueError('E_SHAPE', `${op}: layers[${l}].weight must not be empty; got [${out}, ${inp}]`);
    dims.push(out);
    const b = layer.bias;
    if (b !== undefined && (!(b instanceof Tensor) || b.size !== out || (b.dtype !== 'float32' && b.dtype !== 'float64')))
      throw new KexueError('E_SHAPE', `${op}: layers[${l}].bias must be a float Tensor [${out}]; got ${describe(b)}`);
    const a = layer.activation ?? 'identity';
    if (!MLP_ACTIVATIONS.includes(a)) throw new KexueError('E_ARG', `${op}: layers[${l}].activation must be one of ${MLP_ACTIVATIONS.join(', ')}; got ${describe(a)}`);
    if (a === 'softmax' && l !== config.layers.length - 1) throw new KexueError('E_ARG', `${op}: softmax is allowed on the last layer only (layer ${l})`);
    acts.push(a);
    const wd = Float64Array.from(w.data as FloatArray);
    const bd = b ? Float64Array.from(b.data as FloatArray) : new Float64Array(out);
    for (const v of [wd, bd]) if (!v.every(Number.isFinite)) throw new KexueError('E_RANGE', `${op}: layers[${l}] has non-finite weights`);
    parts.push(wd, bd);
  });
  const L = acts.length;
  const spec = Float64Array.from([L, ...dims, ...acts.map((a) => MLP_ACTIVATIONS.indexOf(a))]);
  const params = new Float64Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) params.set(p, o), (o += p.length);
  return new Mlp(spec, params, dims, acts);
}

type Maybe<T> = T | Promise<T>;
type Values = ArrayLike<number> | Tensor;

/**
 * Any model, through two callbacks on a batch of P path points [P, ...features] (float64) and the
 * target index of each point: output returns the P target outputs, gradient the P gradients of
 * those outputs with respect to the points ([P, ...features] or P * features numbers). Either may
 * return a Promise (with integratedGradientsAsync).
 */
export interface ExternalModel {
  output(points: Tensor<Float64Array>, target: Int32Array): Maybe<Values>;
  gradient(points: Tensor<Float64Array>, target: Int32Array): Maybe<Values>;
  /** Optional: throw a KexueError for an input shape [B, ...features] or targets the model cannot take, before any call. */
  check?(shape: readonly number[], target: Int32Array): void;
}

// ---- options and result ----------------------------------------------------------------------------

export type Baseline = 'zeros' | number | Tensor | { random: number; seed: number | bigint; low?: number; high?: number };

export interface IgOptions extends OpOptions {
  /** 'zeros' (default), a number, a tensor broadcastable to the input, or { random: count, seed, low = 0, high = 1 } (the mean attribution over count uniform random baselines). */
  baseline?: Baseline;
  /** Which output is attributed: a class index for every input, or one per input ([B]). Default 0. */
  target?: number | Int32Array | number[];
  /** Path points per input (default 50). */
  steps?: number;
  /** Default 'gausslegendre'. */
  method?: IgMethod;
  /** At most this many path points per model call (external models; default steps). Built-in models bound their memory themselves. */
  internalBatchSize?: number;
  /** Multiply the averaged gradient by (x - x') (default true). */
  multiplyByInputs?: boolean;
}

export interface IgResult<T extends FloatArray = FloatArray> {
  /** [B, ...features], the input's dtype */
  attributions: Tensor<T>;
  /** sum_i IG_i - (F(x) - F(x')) per input, computed with (x - x') (mean over random baselines) */
  delta: Float64Array;
  /** F(x) per input */
  output: Float64Array;
  /** F(x') per input (mean over random baselines) */
  baselineOutput: Float64Array;
}

// ---- the engine ------------------------------------------------------------------------------------

type Call =
  | { kind: 'kernel'; args: Parameters<import('../backends/types.js').Kernels['igMlp']> }
  | { kind: 'model'; fn: 'output' | 'gradient'; points: Tensor<Float64Array>; target: Int32Array; what: string };
type Plan<R> = Generator<Call, R, unknown>;

function broadcastTo(src: Tensor, shape: number[], op: string): Float64Array {
  const s = src.shape;
  if (s.length > shape.length) throw new KexueError('E_SHAPE', `${op}: baseline [${s.join(', ')}] does not broadcast to the input [${shape.join(', ')}]`);
  const off = shape.length - s.length;
  const strides = new Array<number>(shape.length).fill(0);
  let st = 1;
  for (let i = s.length - 1; i >= 0; i--) {
    const dim = shape[i + off];
    if (s[i] !== dim && s[i] !== 1) throw new KexueError('E_SHAPE', `${op}: baseline [${s.join(', ')}] does not broadcast to the input [${shape.join(', ')}]`);
    strides[i + off] = s[i] === 1 ? 0 : st;
    st *= s[i];
  }
  const size = shape.reduce((a, b) => a * b, 1);
  const out = new Float64Array(size);
  const idx = new Array<number>(shape.length).fill(0);
  const data = src.data as ArrayLike<number>;
  for (let f = 0; f < size; f++) {
    let o = 0;
    for (let d = 0; d < shape.length; d++) o += idx[d] * strides[d];
    out[f] = data[o];
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

function valuesOf(v: unknown, count: number, what: string, op: string): Float64Array {
  let arr: ArrayLike<number> | undefined;
  if (v instanceof Tensor) arr = v.data as ArrayLike<number>;
  else if (Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView))) arr = v as ArrayLike<number>;
  if (arr === undefined) throw new KexueError('E_ARG', `${op}: ${what} must return an array, typed array or Tensor of ${count} numbers; got ${describe(v)}`);
  if (arr.length !== count) throw new KexueError('E_SHAPE', `${op}: ${what} returned ${arr.length} values; expected ${count}`);
  const out = Float64Array.from(arr as ArrayLike<number>);
  for (let i = 0; i < count; i++)
    if (!Number.isFinite(out[i])) throw new KexueError('E_RANGE', `${op}: ${what} returned a non-finite value (${out[i]}) at index ${i}`);
  return out;
}

function* igPlan(model: Mlp | ExternalModel, input: Tensor, opts: IgOptions, op: string): Plan<IgResult> {
  const o = options<IgOptions>(opts, op);
  if (!(input instanceof Tensor) || (input.dtype !== 'float32' && input.dtype !== 'float64') || input.shape.length < 2)
    throw new KexueError('E_SHAPE', `${op}: input must be a float Tensor [B, ...features]; got ${describe(input)}`);
  const shape = [...input.shape];
  const B = shape[0];
  const d = shape.slice(1).reduce((a, b) => a * b, 1);
  const x = Float64Array.from(input.data as FloatArray);
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i])) throw new KexueError('E_RANGE', `${op}: input has a non-finite entry at flat index ${i}`);
  const builtin = model instanceof Mlp;
  if (!builtin && (model === null || typeof model !== 'object' || typeof (model as ExternalModel).output !== 'function' || typeof (model as ExternalModel).gradient !== 'function'))
    throw new KexueError('E_ARG', `${op}: model must be a built-in model (mlp(...)) or { output(points, target), gradient(points, target) }; got ${describe(model)}`);
  if (builtin && (shape.length !== 2 || d !== model.inputSize))
    throw new KexueError('E_SHAPE', `${op}: the MLP takes inputs [B, ${model.inputSize}]; got [${shape.join(', ')}]`);
  const steps = o.steps ?? 50;
  if (!Number.isInteger(steps) || steps < 1) throw new KexueError('E_RANGE', `${op}: steps must be a positive integer; got ${describe(steps)}`);
  const method = o.method ?? 'gausslegendre';
  if (!METHODS.includes(method)) throw new KexueError('E_ARG', `${op}: method must be one of ${METHODS.join(', ')}; got ${describe(method)}`);
  const { nodes, weights } = quadrature(method, steps);
  const ibs = o.internalBatchSize ?? steps;
  if (!Number.isInteger(ibs) || ibs < 1) throw new KexueError('E_RANGE', `${op}: internalBatchSize must be a positive integer; got ${describe(ibs)}`);
  const multiply = o.multiplyByInputs ?? true;
  if (typeof multiply !== 'boolean') throw new KexueError('E_ARG', `${op}: multiplyByInputs must be a boolean; got ${describe(multiply)}`);
  // targets
  const t = o.target ?? 0;
  const target = new Int32Array(B);
  if (typeof t === 'number') target.fill(t);
  else if (t instanceof Int32Array || Array.isArray(t)) {
    if (t.length !== B) throw new KexueError('E_SHAPE', `${op}: target must have one entry per input (${B}); got ${t.length}`);
    target.set(t);
  } else throw new KexueError('E_ARG', `${op}: target must be an integer or an Int32Array [B]; got ${describe(t)}`);
  for (let b = 0; b < B; b++) {
    const v = typeof t === 'number' ? t : (t as ArrayLike<number>)[b];
    const max = builtin ? model.outputSize : Infinity;
    if (!Number.isInteger(v) || v < 0 || v >= max)
      throw new KexueError('E_RANGE', `${op}: target ${v}${typeof t === 'number' ? '' : ` (input ${b})`} is out of range${builtin ? ` [0, ${max})` : ''}`);
  }
  if (!builtin && typeof (model as ExternalModel).check === 'function') (model as ExternalModel).check!(shape, target);
  // baselines
  const bl = o.baseline ?? 'zeros';
  const baselines: Float64Array[] = [];
  if (bl === 'zeros') baselines.push(new Float64Array(B * d));
  else if (typeof bl === 'number') {
    if (!Number.isFinite(bl)) throw new KexueError('E_RANGE', `${op}: baseline must be finite; got ${bl}`);
    baselines.push(new Float64Array(B * d).fill(bl));
  } else if (bl instanceof Tensor) baselines.push(broadcastTo(bl, shape, op));
  else if (bl !== null && typeof bl === 'object' && 'random' in bl) {
    const { random: count, seed, low = 0, high = 1 } = bl;
    if (!Number.isInteger(count) || count < 1) throw new KexueError('E_RANGE', `${op}: baseline.random must be a positive integer; got ${describe(count)}`);
    if (!Number.isFinite(low) || !Number.isFinite(high) || !(high > low)) throw new KexueError('E_RANGE', `${op}: baseline low and high must be finite with low < high`);
    for (let r = 0; r < count; r++) {
      const u = uniform([B * d], { seed, stream: r, dtype: 'float64' }).data as Float64Array;
      baselines.push(u.map((v) => low + (high - low) * v));
    }
  } else throw new KexueError('E_ARG', `${op}: baseline must be 'zeros', a number, a Tensor or { random, seed }; got ${describe(bl)}`);
  for (const base of baselines) for (let i = 0; i < base.length; i++) if (!Number.isFinite(base[i])) throw new KexueError('E_RANGE', `${op}: baseline has a non-finite entry at flat index ${i}`);

  const attr = new Float64Array(B * d);
  const delta = new Float64Array(B);
  const output = new Float64Array(B);
  const baselineOutput = new Float64Array(B);
  const R = baselines.length;
  for (const base of baselines) {
    const avg = new Float64Array(B * d);
    const fx = new Float64Array(B), fb = new Float64Array(B);
    if (builtin) {
      const outs = new Float64Array(2 * B);
      yield { kind: 'kernel', args: [model.spec, model.params, B, x, base, target, nodes, weights, avg, outs] };
      for (let b = 0; b < B; b++) (fx[b] = outs[2 * b]), (fb[b] = outs[2 * b + 1]);
    } else {
      // F(x) and F(x') (2B points), then the path points in chunks of ibs, in (input, node) order
      const ends: Float64Array[] = [];
      for (let s0 = 0; s0 < 2 * B; s0 += ibs) {
        const P = Math.min(ibs, 2 * B - s0);
        const pts = new Float64Array(P * d);
        const tg = new Int32Array(P);
        for (let p = 0; p < P; p++) {
          const q = s0 + p, b = q % B;
          pts.set((q < B ? x : base).subarray(b * d, (b + 1) * d), p * d);
          tg[p] = target[b];
        }
        const r = yield { kind: 'model', fn: 'output', points: new Tensor(pts, [P, ...shape.slice(1)]), target: tg, what: `model.output (points ${s0}..${s0 + P - 1} of the ${2 * B} inputs and baselines)` };
        ends.push(valuesOf(r, P, `model.output (points ${s0}..${s0 + P - 1} of the ${2 * B} inputs and baselines)`, op));
      }
      const all = new Float64Array(2 * B);
      let o2 = 0;
      for (const e of ends) all.set(e, o2), (o2 += e.length);
      fx.set(all.subarray(0, B));
      fb.set(all.subarray(B));
      const total = B * steps;
      for (let s0 = 0; s0 < total; s0 += ibs) {
        const P = Math.min(ibs, total - s0);
        const pts = new Float64Array(P * d);
        const tg = new Int32Array(P);
        for (let p = 0; p < P; p++) {
          const q = s0 + p, b = Math.floor(q / steps), k = q % steps, a = nodes[k];
          for (let i = 0; i < d; i++) pts[p * d + i] = base[b * d + i] + a * (x[b * d + i] - base[b * d + i]);
          tg[p] = target[b];
        }
        const what = `model.gradient (path points ${s0}..${s0 + P - 1} of ${total}: input ${Math.floor(s0 / steps)}, step ${s0 % steps})`;
        const r = yield { kind: 'model', fn: 'gradient', points: new Tensor(pts, [P, ...shape.slice(1)]), target: tg, what };
        const g = valuesOf(r, P * d, what, op);
        for (let p = 0; p < P; p++) {
          const q = s0 + p, b = Math.floor(q / steps), w = weights[q % steps];
          for (let i = 0; i < d; i++) avg[b * d + i] += w * g[p * d + i];
        }
      }
    }
    for (let b = 0; b < B; b++) {
      let s = 0;
      for (let i = b * d; i < (b + 1) * d; i++) {
        const full = (x[i] - base[i]) * avg[i];
        s += full;
        attr[i] += (multiply ? full : avg[i]) / R;
      }
      delta[b] += (s - (fx[b] - fb[b])) / R;
      output[b] = fx[b];
      baselineOutput[b] += fb[b] / R;
    }
  }
  const data = input.dtype === 'float32' ? Float32Array.from(attr) : attr;
  return { attributions: new Tensor(data, shape), delta, output, baselineOutput };
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && (typeof v === 'object' || typeof v === 'function') && typeof (v as { then?: unknown }).then === 'function';
}

function callModel(model: ExternalModel, c: Extract<Call, { kind: 'model' }>, op: string): unknown {
  try {
    return model[c.fn](c.points, c.target);
  } catch (e) {
    throw new KexueError('E_ARG', `${op}: ${c.what} threw: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

/**
 * Integrated gradients of model at input [B, ...features]: attributions, the completeness delta,
 * F(x) and F(x'). Built-in models run on the chosen backend; external models' callbacks must
 * return their values synchronously here (use integratedGradientsAsync for Promises).
 */
export function integratedGradients(model: Mlp | ExternalModel, input: Tensor, opts: IgOptions = {}): IgResult {
  const op = 'integratedGradients';
  const backend = backendOpt(options<OpOptions>(opts, op), op);
  const plan = igPlan(model, input, opts, op);
  let r = plan.next();
  while (!r.done) {
    const c = r.value;
    if (c.kind === 'kernel') {
      runOp('igMlp', backend, c.args);
      r = plan.next();
    } else {
      const v = callModel(model as ExternalModel, c, op);
      if (isThenable(v)) throw new KexueError('E_ARG', `${op}: ${c.what} returned a Promise; use integratedGradientsAsync for asynchronous models`);
      r = plan.next(v);
    }
  }
  return r.value;
}

/** integratedGradients with kernels off the event loop and Promise-returning callbacks awaited. */
export async function integratedGradientsAsync(model: Mlp | ExternalModel, input: Tensor, opts: IgOptions = {}): Promise<IgResult> {
  const op = 'integratedGradientsAsync';
  const backend: BackendChoice | undefined = backendOpt(options<OpOptions>(opts, op), op);
  const plan = igPlan(model, input, opts, op);
  let r = plan.next();
  while (!r.done) {
    const c = r.value;
    if (c.kind === 'kernel') {
      await runOpAsync('igMlp', backend, c.args);
      r = plan.next();
    } else {
      let v: unknown;
      try {
        v = await callModel(model as ExternalModel, c, op);
      } catch (e) {
        throw e instanceof KexueError ? e : new KexueError('E_ARG', `${op}: ${c.what} rejected: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      }
      r = plan.next(v);
    }
  }
  return r.value;
}

/** One score per token: attributions [B, N, d] summed over the embedding dimension -> [B, N] (float64). */
export function tokenAttributions(attributions: Tensor): Tensor<Float64Array> {
  const op = 'tokenAttributions';
  if (!(attributions instanceof Tensor) || attributions.shape.length !== 3 || (attributions.dtype !== 'float32' && attributions.dtype !== 'float64'))
    throw new KexueError('E_SHAPE', `${op}: attributions must be a float Tensor [B, N, d]; got ${describe(attributions)}`);
  const [B, N, d] = attributions.shape;
  const a = attributions.data as FloatArray;
  const out = new Float64Array(B * N);
  for (let t = 0; t < B * N; t++) {
    let s = 0;
    for (let i = 0; i < d; i++) s += a[t * d + i];
    out[t] = s;
  }
  return new Tensor(out, [B, N]);
}

// ---- tfjs adapter ---------------------------------------------------------------------------------

/** The parts of @tensorflow/tfjs the adapter uses (any tfjs flavour: tfjs, tfjs-node, ...). */
interface TfLike {
  tidy<T>(fn: () => T): T;
  tensor(values: Float32Array, shape: number[], dtype?: string): TfTensor;
  oneHot(indices: TfTensor, depth: number): TfTensor;
  tensor1d(values: Int32Array, dtype: 'int32'): TfTensor;
  grad(f: (x: TfTensor) => TfTensor): (x: TfTensor) => TfTensor;
}
interface TfTensor {
  mul(b: TfTensor): TfTensor;
  sum(axis?: number): TfTensor;
  dataSync(): Float32Array | Int32Array | Uint8Array;
  shape: number[];
  dispose(): void;
}
interface TfModel {
  predict(x: TfTensor): TfTensor | TfTensor[];
  apply?(x: TfTensor): TfTensor | TfTensor[];
  outputs?: { shape: (number | null)[] }[];
}

/**
 * An ExternalModel from a tfjs LayersModel (or anything with predict(x) -> [P, classes]): output
 * takes the target column, gradient is tf.grad of sum(model(x) * oneHot(target)), which gives each
 * row's own gradient. tfjs computes in float32. `tf` defaults to require('@tensorflow/tfjs') (an
 * optional peer dependency); pass your own namespace for tfjs-node or a custom build.
 */
export function fromTfjs(model: TfModel, opts: { tf?: unknown } = {}): ExternalModel {
  const op = 'fromTfjs';
  if (model === null || typeof model !== 'object' || typeof model.predict !== 'function')
    throw new KexueError('E_ARG', `${op}: expected a tfjs model with predict(); got ${describe(model)}`);
  let tf = opts.tf as TfLike | undefined;
  if (tf === undefined) {
    try {
      tf = createRequire(import.meta.url)('@tensorflow/tfjs') as TfLike;
    } catch (e) {
      throw new KexueError('E_BACKEND', `${op}: @tensorflow/tfjs is not installed (npm install @tensorflow/tfjs), or pass { tf }: ${(e as Error).message}`);
    }
  }
  const t = tf;
  const run = (x: TfTensor): TfTensor => {
    const y = (model.apply ? model.apply(x) : model.predict(x)) as TfTensor | TfTensor[];
    return Array.isArray(y) ? y[0] : y;
  };
  const asTf = (points: Tensor<Float64Array>) => t.tensor(Float32Array.from(points.data), [...points.shape], 'float32');
  return {
    output(points, target) {
      return t.tidy(() => {
        const y = run(asTf(points));
        const depth = y.shape[y.shape.length - 1];
        return Float64Array.from(y.mul(t.oneHot(t.tensor1d(target, 'int32'), depth)).sum(-1).dataSync());
      });
    },
    gradient(points, target) {
      return t.tidy(() => {
        const x = asTf(points);
        const depth = run(x).shape.at(-1)!;
        const mask = t.oneHot(t.tensor1d(target, 'int32'), depth);
        const g = t.grad((xx: TfTensor) => run(xx).mul(mask).sum())(x);
        return Float64Array.from(g.dataSync());
      });
    },
  };
}
