// T-TA ("Transformer-based Text Autoencoder", techniques.md section 2): a stack of attention layers
// in which no output at position i depends on token i, at any depth. Layer 1 takes its queries from
// the position embeddings only and its keys/values from token + position embeddings (the layer-1
// inputs) under the noSelf mask; every later layer takes its queries from the previous layer's
// output and its keys/values again from the layer-1 inputs. Everything that mixes positions goes
// through the attention op; the projections (the float64 gemm kernel), the residual, LayerNorm and
// the FFN act on one row at a time.
import { KexueError } from '../errors.js';
import { Tensor, describe, type FloatArray } from '../tensor.js';
import { runOp } from '../backends/dispatch.js';
import type { BackendChoice } from '../backends/types.js';
import { attention, type MaskKind } from './attention.js';
import { normal } from './random.js';
import { assertFiniteArray, backendOpt, integer, options, rngOpt } from './args.js';

/** One T-TA layer. Matrices in PyTorch Linear layout [out, in], all float64. */
export interface TtaLayer {
  /** [d, d] each, biases [d]: the query projection reads the query stream, key/value the layer-1 inputs. */
  wq: Tensor<Float64Array>;
  bq: Tensor<Float64Array>;
  wk: Tensor<Float64Array>;
  bk: Tensor<Float64Array>;
  wv: Tensor<Float64Array>;
  bv: Tensor<Float64Array>;
  /** output projection [d, d], bias [d]; added to the query stream (the residual) */
  wo: Tensor<Float64Array>;
  bo: Tensor<Float64Array>;
  /** LayerNorm after the attention residual (post-LN, as BERT), gain and shift [d] */
  ln1?: { gamma: Tensor<Float64Array>; beta: Tensor<Float64Array> };
  /** position-wise FFN x + W2 gelu(W1 x + b1) + b2 with W1 [f, d], W2 [d, f] */
  ffn?: { w1: Tensor<Float64Array>; b1: Tensor<Float64Array>; w2: Tensor<Float64Array>; b2: Tensor<Float64Array> };
  /** LayerNorm after the FFN residual */
  ln2?: { gamma: Tensor<Float64Array>; beta: Tensor<Float64Array> };
}

export interface TtaWeights {
  d: number;
  heads: number;
  layers: TtaLayer[];
}

export interface RandomTtaOptions {
  /** model width; a multiple of heads */
  d: number;
  heads: number;
  layers: number;
  /** FFN hidden width (0 or absent: no FFN) */
  ffn?: number;
  /** LayerNorms after each residual (default true) */
  layerNorm?: boolean;
  /** Philox seed of every weight: an integer in [0, 2^64), a number up to 2^53 - 1 or a bigint */
  seed: number | bigint;
}

export interface TtaOptions {
  backend?: BackendChoice;
  /** The attention mask of every layer: 'noSelf' (T-TA, the default); 'none' leaks token i into row i. */
  mask?: MaskKind;
  /** Where layer 1's queries come from: 'position' (T-TA, the default) or 'input' (token + position: leaks). */
  queries?: 'position' | 'input';
}

export interface TtaResult<T extends FloatArray> {
  /** every layer's output (the query stream after the layer), [batch, N, d] each, in the input's dtype */
  outputs: Tensor<T>[];
}

const LN_EPS = 1e-5;

/**
 * Random T-TA weights (Philox normal draws, one stream per tensor): projections with std 1/sqrt(in)
 * (so activations keep their scale), biases and LayerNorm shifts with std 0.1, gains 1 + N(0, 0.1^2).
 */
export function randomTtaWeights(opts: RandomTtaOptions): TtaWeights {
  const op = 'randomTtaWeights';
  const o = options<RandomTtaOptions>(opts, op);
  const d = integer(o.d, 'd', op, 1, 1 << 16);
  const heads = integer(o.heads, 'heads', op, 1, d);
  if (d % heads !== 0) throw new KexueError('E_RANGE', `${op}: heads (${heads}) must divide d (${d})`);
  const L = integer(o.layers, 'layers', op, 1, 1024);
  const f = o.ffn === undefined ? 0 : integer(o.ffn, 'ffn', op, 0, 1 << 16);
  if (o.layerNorm !== undefined && typeof o.layerNorm !== 'boolean') throw new KexueError('E_ARG', `${op}: layerNorm must be a boolean; got ${describe(o.layerNorm)}`);
  const ln = o.layerNorm ?? true;
  rngOpt(o, op);
  const seed = o.seed!;
  let stream = 0;
  const draw = (shape: number[], std: number, mean = 0) =>
    normal(shape, { seed, stream: stream++, dtype: 'float64', std, mean }) as Tensor<Float64Array>;
  const norm = () => ({ gamma: draw([d], 0.1, 1), beta: draw([d], 0.1) });
  const layers: TtaLayer[] = [];
  for (let l = 0; l < L; l++) {
    const s = 1 / Math.sqrt(d);
    const layer: TtaLayer = {
      wq: draw([d, d], s), bq: draw([d], 0.1),
      wk: draw([d, d], s), bk: draw([d], 0.1),
      wv: draw([d, d], s), bv: draw([d], 0.1),
      wo: draw([d, d], s), bo: draw([d], 0.1),
    };
    if (ln) layer.ln1 = norm();
    if (f > 0) {
      layer.ffn = { w1: draw([f, d], s), b1: draw([f], 0.1), w2: draw([d, f], 1 / Math.sqrt(f)), b2: draw([d], 0.1) };
      if (ln) layer.ln2 = norm();
    }
    layers.push(layer);
  }
  return { d, heads, layers };
}

/** rows x W^T + b ([rows, out] from x [rows, inp], W [out, inp]) on the gemm kernel: c starts as b, beta 1. */
function linear(x: Float64Array, rows: number, W: Float64Array, b: Float64Array, out: number, inp: number, backend: BackendChoice | undefined): Float64Array {
  const y = new Float64Array(rows * out);
  for (let r = 0; r < rows; r++) y.set(b, r * out);
  runOp('gemm', backend, [rows, out, inp, x, inp, false, W, inp, true, y, out, 1, 1]);
  return y;
}

/** [B, N, H, dh] (row-major activations) -> [B, H, N, dh] (the attention op's layout), or back. */
function splitHeads(a: Float64Array, B: number, N: number, H: number, dh: number, toHeads: boolean): Float64Array {
  const out = new Float64Array(a.length);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++)
      for (let n = 0; n < N; n++) {
        const flat = ((b * N + n) * H + h) * dh;
        const split = ((b * H + h) * N + n) * dh;
        if (toHeads) out.set(a.subarray(flat, flat + dh), split);
        else out.set(a.subarray(split, split + dh), flat);
      }
  return out;
}

/** LayerNorm of every row in place (float64; biased variance, eps 1e-5). */
function layerNorm(x: Float64Array, rows: number, d: number, gamma: Float64Array, beta: Float64Array): void {
  for (let r = 0; r < rows; r++) {
    const o = r * d;
    let mean = 0;
    for (let e = 0; e < d; e++) mean += x[o + e];
    mean /= d;
    let v = 0;
    for (let e = 0; e < d; e++) v += (x[o + e] - mean) ** 2;
    const inv = 1 / Math.sqrt(v / d + LN_EPS);
    for (let e = 0; e < d; e++) x[o + e] = (x[o + e] - mean) * inv * gamma[e] + beta[e];
  }
}

/** GELU, tanh form (Hendrycks and Gimpel): 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
function gelu(x: number): number {
  return 0.5 * x * (1 + Math.tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)));
}

function checkWeights(w: unknown, op: string): TtaWeights {
  if (w === null || typeof w !== 'object') throw new KexueError('E_ARG', `${op}: weights must be an object { d, heads, layers }; got ${describe(w)}`);
  const { d, heads, layers } = w as TtaWeights;
  integer(d, 'weights.d', op, 1, 1 << 16);
  integer(heads, 'weights.heads', op, 1, d);
  if (d % heads !== 0) throw new KexueError('E_RANGE', `${op}: weights.heads (${heads}) must divide weights.d (${d})`);
  if (!Array.isArray(layers) || layers.length === 0) throw new KexueError('E_ARG', `${op}: weights.layers must be a non-empty array; got ${describe(layers)}`);
  const f64 = (t: unknown, shape: number[], what: string) => {
    if (!(t instanceof Tensor) || t.dtype !== 'float64' || t.shape.join() !== shape.join())
      throw new KexueError('E_SHAPE', `${op}: ${what} must be a float64 Tensor [${shape.join(', ')}]; got ${describe(t)}`);
    assertFiniteArray(t.data as Float64Array, `weights.${what}`, op);
  };
  layers.forEach((l, i) => {
    if (l === null || typeof l !== 'object') throw new KexueError('E_ARG', `${op}: weights.layers[${i}] must be an object; got ${describe(l)}`);
    for (const k of ['wq', 'wk', 'wv', 'wo'] as const) f64(l[k], [d, d], `layers[${i}].${k}`);
    for (const k of ['bq', 'bk', 'bv', 'bo'] as const) f64(l[k], [d], `layers[${i}].${k}`);
    for (const k of ['ln1', 'ln2'] as const)
      if (l[k] !== undefined) {
        f64(l[k]!.gamma, [d], `layers[${i}].${k}.gamma`);
        f64(l[k]!.beta, [d], `layers[${i}].${k}.beta`);
      }
    if (l.ffn !== undefined) {
      const f = l.ffn.w1 instanceof Tensor ? l.ffn.w1.shape[0] : -1;
      f64(l.ffn.w1, [f, d], `layers[${i}].ffn.w1`);
      f64(l.ffn.b1, [f], `layers[${i}].ffn.b1`);
      f64(l.ffn.w2, [d, f], `layers[${i}].ffn.w2`);
      f64(l.ffn.b2, [d], `layers[${i}].ffn.b2`);
    } else if (l.ln2 !== undefined) throw new KexueError('E_ARG', `${op}: layers[${i}].ln2 needs an ffn`);
  });
  return { d, heads, layers };
}

/**
 * Runs a T-TA stack: tokenEmb [batch, N, d] and posEmb [N, d] (float32 or float64, one dtype).
 * Projections, residuals, LayerNorm and FFN run in float64 (gemm kernel); the attention runs in the
 * inputs' dtype, and each layer's output is stored in that dtype. Returns every layer's output.
 */
export function ttaStack<T extends FloatArray>(weights: TtaWeights, tokenEmb: Tensor<T>, posEmb: Tensor<T>, opts: TtaOptions = {}): TtaResult<T> {
  const op = 'ttaStack';
  const o = options<TtaOptions>(opts, op);
  const { d, heads: H, layers } = checkWeights(weights, op);
  const backend = backendOpt(o, op);
  const mask = o.mask ?? 'noSelf';
  const queries = o.queries ?? 'position';
  if (queries !== 'position' && queries !== 'input') throw new KexueError('E_ARG', `${op}: queries must be 'position' or 'input'; got ${describe(queries)}`);
  if (!(tokenEmb instanceof Tensor) || (tokenEmb.dtype !== 'float32' && tokenEmb.dtype !== 'float64'))
    throw new KexueError('E_DTYPE', `${op}: tokenEmb must be a float32 or float64 Tensor; got ${describe(tokenEmb)}`);
  if (tokenEmb.rank !== 3 || tokenEmb.shape[2] !== d)
    throw new KexueError('E_SHAPE', `${op}: tokenEmb must be [batch, N, ${d}]; got [${tokenEmb.shape.join(', ')}]`);
  const [B, N] = tokenEmb.shape;
  if (!(posEmb instanceof Tensor) || posEmb.dtype !== tokenEmb.dtype)
    throw new KexueError('E_DTYPE', `${op}: posEmb must be a Tensor of tokenEmb's dtype (${tokenEmb.dtype}); got ${describe(posEmb)}`);
  if (posEmb.shape.join() !== [N, d].join()) throw new KexueError('E_SHAPE', `${op}: posEmb must be [${N}, ${d}]; got [${posEmb.shape.join(', ')}]`);
  assertFiniteArray(tokenEmb.data as FloatArray, 'tokenEmb', op);
  assertFiniteArray(posEmb.data as FloatArray, 'posEmb', op);
  const f32 = tokenEmb.dtype === 'float32';
  const rows = B * N;
  const dh = d / H;
  const tok = tokenEmb.data as FloatArray;
  const pos = posEmb.data as FloatArray;
  // Layer-1 inputs x0 = token + position (rounded to the dtype, as a float32 model would hold them).
  const x0 = new Float64Array(rows * d);
  for (let r = 0; r < rows; r++) for (let e = 0; e < d; e++) x0[r * d + e] = tok[r * d + e] + pos[(r % N) * d + e];
  if (f32) for (let x = 0; x < x0.length; x++) x0[x] = Math.fround(x0[x]);
  // The query stream: position embeddings only (T-TA), or the layer-1 inputs (the leaking contrast).
  let h: Float64Array;
  if (queries === 'input') h = x0.slice();
  else {
    h = new Float64Array(rows * d);
    for (let r = 0; r < rows; r++) for (let e = 0; e < d; e++) h[r * d + e] = pos[(r % N) * d + e];
  }
  const toDtype = (a: Float64Array) => (f32 ? Float32Array.from(a) : a) as T;
  const outputs: Tensor<T>[] = [];
  const sh = [B, H, N, dh];
  for (const l of layers) {
    const q = toDtype(splitHeads(linear(h, rows, l.wq.data, l.bq.data, d, d, backend), B, N, H, dh, true));
    const k = toDtype(splitHeads(linear(x0, rows, l.wk.data, l.bk.data, d, d, backend), B, N, H, dh, true));
    const v = toDtype(splitHeads(linear(x0, rows, l.wv.data, l.bv.data, d, d, backend), B, N, H, dh, true));
    const a = attention(new Tensor(q, sh), new Tensor(k, sh), new Tensor(v, sh), { mask, backend }).output;
    const merged = splitHeads(Float64Array.from(a.data as FloatArray), B, N, H, dh, false);
    const y = linear(merged, rows, l.wo.data, l.bo.data, d, d, backend);
    for (let x = 0; x < y.length; x++) h[x] += y[x];
    if (l.ln1) layerNorm(h, rows, d, l.ln1.gamma.data, l.ln1.beta.data);
    if (l.ffn) {
      const f = l.ffn.w1.shape[0];
      const z = linear(h, rows, l.ffn.w1.data, l.ffn.b1.data, f, d, backend);
      for (let x = 0; x < z.length; x++) z[x] = gelu(z[x]);
      const y2 = linear(z, rows, l.ffn.w2.data, l.ffn.b2.data, d, f, backend);
      for (let x = 0; x < y2.length; x++) h[x] += y2[x];
      if (l.ln2) layerNorm(h, rows, d, l.ln2.gamma.data, l.ln2.beta.data);
    }
    if (f32) for (let x = 0; x < h.length; x++) h[x] = Math.fround(h[x]);
    outputs.push(new Tensor(toDtype(h.slice()), [B, N, d]));
  }
  return { outputs };
}
