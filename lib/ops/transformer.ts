// A small Transformer (token + learned position embeddings, L blocks of multi-head self-attention
// and a feed-forward layer, LayerNorm or RMSNorm, pre- or post-norm, a tied or separate output
// head): the weights format, its validation, seeded random weights, and the forward pass. The
// forward runs on the library's own kernels: the float64 `gemm` for every projection (strided
// calls write each head's slice straight into the [batch, heads, N, dHead] layout the attention op
// reads, so no transposing copies) and `attention` for the masked softmax, on the chosen backend.
// Norms, GELU (erf form, as the igMlp reference) and the residual additions are plain TypeScript.
// lib/ops/widen.ts builds function-preserving wider and deeper copies of these weights.
import { KexueError } from '../errors.js';
import { Tensor, describe, type FloatArray } from '../tensor.js';
import { runOp } from '../backends/dispatch.js';
import type { BackendChoice } from '../backends/types.js';
import { erf } from '../backends/js/ig.js';
import { attention, type MaskKind } from './attention.js';
import { normal } from './random.js';
import { assertFiniteArray, backendOpt, dtypeOpt, options, rngOpt, type OpOptions } from './args.js';

export type TransformerNorm = 'layernorm' | 'rmsnorm';
export type TransformerActivation = 'gelu' | 'relu';

/** The sizes and choices of a Transformer. Optional fields have the defaults noted. */
export interface TransformerConfig {
  vocab: number;
  dModel: number;
  heads: number;
  /** per-head width; default dModel / heads (which must then be an integer) */
  dHead?: number;
  /** feed-forward inner width */
  dFF: number;
  /** number of blocks */
  layers: number;
  /** the longest sequence (rows of the position table) */
  maxLen: number;
  /** default 'layernorm' */
  norm?: TransformerNorm;
  /** the epsilon inside the norm; default 1e-5 */
  eps?: number;
  /** feed-forward activation; default 'gelu' (exact, erf form) */
  activation?: TransformerActivation;
  /** pre-norm blocks x + f(norm(x)) (default true); false: post-norm x = norm(x + f(x)) */
  prenorm?: boolean;
  /** logits = h E^T with the token embedding E (default true); false: a separate head [vocab, dModel] */
  tiedHead?: boolean;
}

export type ResolvedTransformerConfig = Required<TransformerConfig>;

/** A norm's parameters: gain [dModel] and an optional bias [dModel] (absent = 0). */
export interface NormWeights<T extends FloatArray = FloatArray> {
  gain: Tensor<T>;
  bias?: Tensor<T>;
}

/** One block. Linear weights in PyTorch layout [out, in]; inner = heads * dHead. */
export interface TransformerLayer<T extends FloatArray = FloatArray> {
  ln1: NormWeights<T>;
  /** [inner, dModel] each, biases [inner] */
  wq: Tensor<T>;
  bq: Tensor<T>;
  wk: Tensor<T>;
  bk: Tensor<T>;
  wv: Tensor<T>;
  bv: Tensor<T>;
  /** [dModel, inner], bias [dModel] */
  wo: Tensor<T>;
  bo: Tensor<T>;
  ln2: NormWeights<T>;
  /** [dFF, dModel], bias [dFF] */
  w1: Tensor<T>;
  b1: Tensor<T>;
  /** [dModel, dFF], bias [dModel] */
  w2: Tensor<T>;
  b2: Tensor<T>;
}

/** A whole model. Every tensor has one dtype (float32 or float64). */
export interface TransformerWeights<T extends FloatArray = FloatArray> {
  config: TransformerConfig;
  /** [vocab, dModel] */
  embed: Tensor<T>;
  /** learned positions [maxLen, dModel] */
  pos: Tensor<T>;
  layers: TransformerLayer<T>[];
  /** the norm after the last block (absent: none; post-norm models usually have none) */
  lnFinal?: NormWeights<T>;
  /** [vocab, dModel]; present exactly when config.tiedHead is false */
  head?: Tensor<T>;
}

/** The tensors of a layer, in a fixed order (used for noise streams, copying and validation). */
export const LAYER_TENSORS = ['wq', 'bq', 'wk', 'bk', 'wv', 'bv', 'wo', 'bo', 'w1', 'b1', 'w2', 'b2'] as const;

function posInt(v: unknown, what: string, op: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 2 ** 31 - 1)
    throw new KexueError('E_RANGE', `${op}: ${what} must be a positive integer; got ${describe(v)}`);
  return v;
}

/** The config with its defaults filled in; throws a KexueError naming the first bad field. */
export function resolveConfig(c: unknown, op = 'transformer'): ResolvedTransformerConfig {
  if (c === null || typeof c !== 'object' || Array.isArray(c)) throw new KexueError('E_ARG', `${op}: config must be an object; got ${describe(c)}`);
  const o = c as TransformerConfig;
  const vocab = posInt(o.vocab, 'config.vocab', op);
  const dModel = posInt(o.dModel, 'config.dModel', op);
  const heads = posInt(o.heads, 'config.heads', op);
  if (o.dHead === undefined && dModel % heads !== 0)
    throw new KexueError('E_RANGE', `${op}: config.heads (${heads}) must divide config.dModel (${dModel}) unless config.dHead is given`);
  const dHead = o.dHead === undefined ? dModel / heads : posInt(o.dHead, 'config.dHead', op);
  const dFF = posInt(o.dFF, 'config.dFF', op);
  const maxLen = posInt(o.maxLen, 'config.maxLen', op);
  if (typeof o.layers !== 'number' || !Number.isInteger(o.layers) || o.layers < 0)
    throw new KexueError('E_RANGE', `${op}: config.layers must be a non-negative integer; got ${describe(o.layers)}`);
  const norm = o.norm ?? 'layernorm';
  if (norm !== 'layernorm' && norm !== 'rmsnorm') throw new KexueError('E_ARG', `${op}: config.norm must be 'layernorm' or 'rmsnorm'; got ${describe(norm)}`);
  const eps = o.eps ?? 1e-5;
  if (typeof eps !== 'number' || !Number.isFinite(eps) || eps < 0) throw new KexueError('E_RANGE', `${op}: config.eps must be a finite number >= 0; got ${describe(eps)}`);
  const activation = o.activation ?? 'gelu';
  if (activation !== 'gelu' && activation !== 'relu') throw new KexueError('E_ARG', `${op}: config.activation must be 'gelu' or 'relu'; got ${describe(activation)}`);
  const prenorm = o.prenorm ?? true;
  const tiedHead = o.tiedHead ?? true;
  if (typeof prenorm !== 'boolean') throw new KexueError('E_ARG', `${op}: config.prenorm must be a boolean; got ${describe(prenorm)}`);
  if (typeof tiedHead !== 'boolean') throw new KexueError('E_ARG', `${op}: config.tiedHead must be a boolean; got ${describe(tiedHead)}`);
  return { vocab, dModel, heads, dHead, dFF, layers: o.layers, maxLen, norm, eps, activation, prenorm, tiedHead };
}

/**
 * Checks a whole model: the config, every tensor's presence, shape, dtype (one float dtype for
 * all) and finiteness. Returns the resolved config and the dtype. E_ARG for a missing part,
 * E_SHAPE for a wrong shape, E_DTYPE for a wrong or mixed dtype, E_RANGE for a non-finite entry.
 */
export function validateTransformer(w: unknown, op = 'transformer'): { config: ResolvedTransformerConfig; dtype: 'float32' | 'float64' } {
  if (w === null || typeof w !== 'object') throw new KexueError('E_ARG', `${op}: weights must be an object { config, embed, pos, layers, ... }; got ${describe(w)}`);
  const m = w as TransformerWeights;
  const cfg = resolveConfig(m.config, op);
  const { vocab, dModel: d, heads, dHead, dFF, maxLen } = cfg;
  const inner = heads * dHead;
  let dtype: 'float32' | 'float64' | undefined;
  const check = (t: unknown, shape: number[], what: string) => {
    if (!(t instanceof Tensor)) throw new KexueError('E_ARG', `${op}: ${what} must be a Tensor [${shape.join(', ')}]; got ${describe(t)}`);
    if (t.dtype !== 'float32' && t.dtype !== 'float64') throw new KexueError('E_DTYPE', `${op}: ${what} must be float32 or float64; got ${t.dtype}`);
    if (dtype === undefined) dtype = t.dtype;
    else if (t.dtype !== dtype) throw new KexueError('E_DTYPE', `${op}: every weight must have one dtype; ${what} is ${t.dtype}, earlier ones ${dtype}`);
    if (t.shape.join() !== shape.join()) throw new KexueError('E_SHAPE', `${op}: ${what} must have shape [${shape.join(', ')}]; got [${t.shape.join(', ')}]`);
    assertFiniteArray(t.data as FloatArray, what, op);
  };
  const checkNorm = (n: unknown, what: string) => {
    if (n === null || typeof n !== 'object') throw new KexueError('E_ARG', `${op}: ${what} must be { gain, bias? }; got ${describe(n)}`);
    check((n as NormWeights).gain, [d], `${what}.gain`);
    if ((n as NormWeights).bias !== undefined) check((n as NormWeights).bias, [d], `${what}.bias`);
  };
  check(m.embed, [vocab, d], 'embed');
  check(m.pos, [maxLen, d], 'pos');
  if (!Array.isArray(m.layers) || m.layers.length !== cfg.layers)
    throw new KexueError('E_ARG', `${op}: layers must be an array of config.layers = ${cfg.layers} blocks; got ${describe(m.layers)}`);
  const shapes: Record<(typeof LAYER_TENSORS)[number], number[]> = {
    wq: [inner, d], bq: [inner], wk: [inner, d], bk: [inner], wv: [inner, d], bv: [inner],
    wo: [d, inner], bo: [d], w1: [dFF, d], b1: [dFF], w2: [d, dFF], b2: [d],
  };
  m.layers.forEach((l, i) => {
    if (l === null || typeof l !== 'object') throw new KexueError('E_ARG', `${op}: layers[${i}] must be an object; got ${describe(l)}`);
    checkNorm(l.ln1, `layers[${i}].ln1`);
    checkNorm(l.ln2, `layers[${i}].ln2`);
    for (const name of LAYER_TENSORS) check(l[name], shapes[name], `layers[${i}].${name}`);
  });
  if (m.lnFinal !== undefined) checkNorm(m.lnFinal, 'lnFinal');
  if (cfg.tiedHead && m.head !== undefined) throw new KexueError('E_ARG', `${op}: config.tiedHead is true, so there must be no separate head`);
  if (!cfg.tiedHead) check(m.head, [vocab, d], 'head');
  return { config: cfg, dtype: dtype! };
}

export interface RandomTransformerOptions extends OpOptions {
  /** required: the Philox seed (each tensor draws its own stream) */
  seed: number | bigint;
  /** weights dtype; default 'float32' */
  dtype?: 'float32' | 'float64';
}

/** Draws one tensor: N(mean, std^2) from Philox stream `stream` of `seed`. */
function draw(shape: number[], seed: number | bigint, stream: number, std: number, mean: number, dtype: 'float32' | 'float64', backend?: BackendChoice): Tensor<FloatArray> {
  return normal(shape, { seed, stream, std, mean, dtype, backend });
}

/** Random weights for block `index` (streams 16 (index + 1) ..): used by randomTransformer and deepen. */
export function randomLayer(cfg: ResolvedTransformerConfig, seed: number | bigint, index: number, dtype: 'float32' | 'float64', backend?: BackendChoice): TransformerLayer {
  const { dModel: d, heads, dHead, dFF } = cfg;
  const inner = heads * dHead;
  let s = 16 * (index + 1);
  const t = (shape: number[], std: number, mean = 0) => draw(shape, seed, s++, std, mean, dtype, backend);
  const lin = (out: number, inp: number) => [t([out, inp], 1 / Math.sqrt(inp)), t([out], 0.2)] as const;
  const norm = (): NormWeights => ({ gain: t([d], 0.2, 1), bias: t([d], 0.2) });
  const ln1 = norm();
  const [wq, bq] = lin(inner, d), [wk, bk] = lin(inner, d), [wv, bv] = lin(inner, d), [wo, bo] = lin(d, inner);
  const ln2 = norm();
  const [w1, b1] = lin(dFF, d), [w2, b2] = lin(d, dFF);
  return { ln1, wq, bq, wk, bk, wv, bv, wo, bo, ln2, w1, b1, w2, b2 };
}

/**
 * Random weights for tests and demos, from Philox normals: embeddings and positions N(0, 1),
 * linear weights N(0, 1/in), biases N(0, 0.04), norm gains N(1, 0.04) and biases N(0, 0.04).
 * The same seed gives the same weights on every backend.
 */
export function randomTransformer(config: TransformerConfig, opts: RandomTransformerOptions): TransformerWeights {
  const op = 'randomTransformer';
  const o = options<RandomTransformerOptions>(opts, op);
  rngOpt(o, op);
  const seed = o.seed!;
  const dtype = dtypeOpt(o.dtype, ['float32', 'float64'] as const, 'float32', op);
  const backend = backendOpt(o, op);
  const cfg = resolveConfig(config, op);
  const { vocab, dModel: d, maxLen } = cfg;
  const layers = Array.from({ length: cfg.layers }, (_, i) => randomLayer(cfg, seed, i, dtype, backend));
  const w: TransformerWeights = {
    config: { ...config },
    embed: draw([vocab, d], seed, 0, 1, 0, dtype, backend),
    pos: draw([maxLen, d], seed, 1, 1, 0, dtype, backend),
    layers,
    lnFinal: { gain: draw([d], seed, 2, 0.2, 1, dtype, backend), bias: draw([d], seed, 3, 0.2, 0, dtype, backend) },
  };
  if (!cfg.tiedHead) w.head = draw([vocab, d], seed, 4, 1 / Math.sqrt(d), 0, dtype, backend);
  return w;
}

export interface TransformerForwardOptions extends OpOptions {
  /** the attention mask kind for every head, or one per head; default 'causal' */
  mask?: MaskKind | readonly MaskKind[];
  /** [batch]: item b attends to its first keyLengths[b] tokens only (key padding) */
  keyLengths?: Int32Array | readonly number[];
  /**
   * 'float64': every step in float64. 'float32': float32 inference, emulated: the attention kernel
   * runs in float32 and every activation (projections, norms, residual stream, logits) is rounded
   * to float32 as it is produced; the matrix products accumulate in float64 (the library's one
   * GEMM) before that rounding. Default: the weights' dtype.
   */
  dtype?: 'float32' | 'float64';
  /** also return the residual stream after the embeddings and after every block */
  returnHidden?: boolean;
}

export interface TransformerOutput<T extends FloatArray = FloatArray> {
  /** [batch, N, vocab] */
  logits: Tensor<T>;
  /** layers + 1 tensors [batch, N, dModel]: after the embeddings, then after each block */
  hidden?: Tensor<T>[];
}

/** Token ids as [B, N] int32: a Tensor or Int32Array (rank 1 or 2), number[] (one sequence) or number[][]. */
function idsOf(ids: unknown, vocab: number, maxLen: number, op: string): { B: number; N: number; data: Int32Array } {
  let B: number, N: number, data: Int32Array;
  if (ids instanceof Tensor) {
    if (ids.dtype !== 'int32' || (ids.rank !== 1 && ids.rank !== 2))
      throw new KexueError('E_DTYPE', `${op}: ids must be an int32 Tensor [N] or [batch, N]; got ${describe(ids)} [${ids.shape.join(', ')}]`);
    [B, N] = ids.rank === 1 ? [1, ids.shape[0]] : [ids.shape[0], ids.shape[1]];
    data = ids.data as Int32Array;
  } else if (ids instanceof Int32Array) {
    [B, N, data] = [1, ids.length, ids];
  } else if (Array.isArray(ids) && ids.length > 0 && Array.isArray(ids[0])) {
    B = ids.length;
    N = (ids[0] as unknown[]).length;
    data = new Int32Array(B * N);
    ids.forEach((row, b) => {
      if (!Array.isArray(row) || row.length !== N) throw new KexueError('E_SHAPE', `${op}: ids[${b}] must be an array of ${N} ids (rows of one length)`);
      row.forEach((v, n) => (data[b * N + n] = idInt(v, `ids[${b}][${n}]`, op)));
    });
  } else if (Array.isArray(ids)) {
    [B, N] = [1, ids.length];
    data = Int32Array.from(ids, (v, n) => idInt(v, `ids[${n}]`, op));
  } else throw new KexueError('E_DTYPE', `${op}: ids must be an int32 Tensor, an Int32Array, or an array of integer ids; got ${describe(ids)}`);
  if (N < 1 || B < 1) throw new KexueError('E_SHAPE', `${op}: ids must hold at least one token per sequence`);
  if (N > maxLen) throw new KexueError('E_RANGE', `${op}: sequences of ${N} tokens are longer than config.maxLen = ${maxLen}`);
  for (let i = 0; i < data.length; i++)
    if (data[i] < 0 || data[i] >= vocab) throw new KexueError('E_RANGE', `${op}: id ${data[i]} (at ${i}) is out of range [0, ${vocab})`);
  return { B, N, data };
}

function idInt(v: unknown, what: string, op: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new KexueError('E_DTYPE', `${op}: ${what} must be an integer id; got ${describe(v)}`);
  return v;
}

const f64 = (t: Tensor | undefined): Float64Array | undefined => (t === undefined ? undefined : t.data instanceof Float64Array ? t.data : Float64Array.from(t.data as FloatArray));

/** Rows of x [rows, d] normalised (a new array): gain * (x - mean) / sqrt(var + eps) + bias (mean 0 for RMSNorm). */
export function normRows(x: Float64Array, rows: number, d: number, gain: ArrayLike<number>, bias: ArrayLike<number> | undefined, kind: TransformerNorm, eps: number): Float64Array {
  const y = new Float64Array(x.length);
  for (let r = 0; r < rows; r++) {
    const o = r * d;
    let mean = 0;
    if (kind === 'layernorm') {
      for (let j = 0; j < d; j++) mean += x[o + j];
      mean /= d;
    }
    let v = 0;
    for (let j = 0; j < d; j++) v += (x[o + j] - mean) ** 2;
    const inv = 1 / Math.sqrt(v / d + eps);
    for (let j = 0; j < d; j++) y[o + j] = gain[j] * ((x[o + j] - mean) * inv) + (bias ? bias[j] : 0);
  }
  return y;
}

/** The feed-forward activation, in place: relu, or exact GELU x (1 + erf(x / sqrt 2)) / 2. */
export function activate(z: Float64Array, kind: TransformerActivation): void {
  if (kind === 'relu') for (let i = 0; i < z.length; i++) z[i] = z[i] > 0 ? z[i] : 0;
  else for (let i = 0; i < z.length; i++) z[i] = 0.5 * z[i] * (1 + erf(z[i] * Math.SQRT1_2));
}

/** Fills rows x cols with the bias repeated on every row. */
function biasRows(bias: Float64Array, rows: number): Float64Array {
  const out = new Float64Array(rows * bias.length);
  for (let r = 0; r < rows; r++) out.set(bias, r * bias.length);
  return out;
}

/**
 * Logits of a Transformer for token ids [batch, N] (or one sequence): [batch, N, vocab].
 * Block (pre-norm): x += Wo attn(norm1(x)) + bo, then x += W2 act(W1 norm2(x) + b1) + b2; the final
 * norm (if any) and the head (the token embedding when tied) give the logits. Post-norm:
 * x = norm1(x + attn(x)), x = norm2(x + ffn(x)). Attention scale 1/sqrt(dHead), mask default
 * 'causal' (every mask kind of the attention op, or one per head).
 */
export function transformerForward(weights: TransformerWeights, ids: Tensor<Int32Array> | Int32Array | readonly number[] | readonly (readonly number[])[], opts: TransformerForwardOptions = {}): TransformerOutput {
  const op = 'transformerForward';
  const { config: cfg, dtype: wdt } = validateTransformer(weights, op);
  const o = options<TransformerForwardOptions>(opts, op);
  const backend = backendOpt(o, op);
  const dtype = dtypeOpt(o.dtype, ['float32', 'float64'] as const, wdt, op);
  if (o.returnHidden !== undefined && typeof o.returnHidden !== 'boolean') throw new KexueError('E_ARG', `${op}: returnHidden must be a boolean; got ${describe(o.returnHidden)}`);
  const { B, N, data: tok } = idsOf(ids, cfg.vocab, cfg.maxLen, op);
  const { dModel: d, heads: H, dHead: D, dFF, vocab, norm, eps, activation, prenorm } = cfg;
  const inner = H * D;
  const rows = B * N;
  const f32 = dtype === 'float32';
  const round = (a: Float64Array): Float64Array => {
    if (f32) for (let i = 0; i < a.length; i++) a[i] = Math.fround(a[i]);
    return a;
  };
  const gemm = (m: number, n: number, k: number, a: Float64Array, lda: number, b: Float64Array, ldb: number, c: Float64Array, ldc: number) =>
    runOp('gemm', backend, [m, n, k, a, lda, false, b, ldb, true, c, ldc, 1, 1]);
  // x [rows, in] -> x W^T + b [rows, out] (one gemm, the bias pre-filled)
  const linear = (x: Float64Array, W: Float64Array, b: Float64Array, out: number, inp: number) => {
    const y = biasRows(b, rows);
    gemm(rows, out, inp, x, inp, W, inp, y, out);
    return round(y);
  };
  const normed = (x: Float64Array, n: NormWeights) => round(normRows(x, rows, d, n.gain.data, n.bias?.data, norm, eps));
  // x [rows, d] -> q, k or v [B, H, N, D]: one gemm per (batch item, head) writes the head's slice.
  const project = (x: Float64Array, W: Float64Array, b: Float64Array) => {
    const y = new Float64Array(B * H * N * D);
    for (let bi = 0; bi < B; bi++)
      for (let h = 0; h < H; h++) {
        const c = y.subarray((bi * H + h) * N * D, (bi * H + h + 1) * N * D);
        for (let n = 0; n < N; n++) c.set(b.subarray(h * D, (h + 1) * D), n * D);
        gemm(N, D, d, x.subarray(bi * N * d, (bi + 1) * N * d), d, W.subarray(h * D * d, (h + 1) * D * d), d, c, D);
      }
    return round(y);
  };
  const attend = (x: Float64Array, l: TransformerLayer) => {
    const [q, k, v] = [project(x, f64(l.wq)!, f64(l.bq)!), project(x, f64(l.wk)!, f64(l.bk)!), project(x, f64(l.wv)!, f64(l.bv)!)];
    const shape = [B, H, N, D];
    const wrap = (a: Float64Array) => new Tensor(f32 ? Float32Array.from(a) : a, shape);
    const att = attention(wrap(q), wrap(k), wrap(v), { mask: o.mask ?? 'causal', keyLengths: o.keyLengths, backend }).output.data;
    const a64 = att instanceof Float64Array ? att : Float64Array.from(att);
    // y [rows, d] = sum_h o_h Wo[:, h slice]^T + bo: the head's columns of Wo are a strided view
    const y = biasRows(f64(l.bo)!, rows);
    const wo = f64(l.wo)!;
    for (let bi = 0; bi < B; bi++)
      for (let h = 0; h < H; h++)
        gemm(N, d, D, a64.subarray((bi * H + h) * N * D, (bi * H + h + 1) * N * D), D, wo.subarray(h * D), inner, y.subarray(bi * N * d, (bi + 1) * N * d), d);
    return round(y);
  };
  const ffn = (x: Float64Array, l: TransformerLayer) => {
    const z = linear(x, f64(l.w1)!, f64(l.b1)!, dFF, d);
    activate(z, activation);
    return linear(round(z), f64(l.w2)!, f64(l.b2)!, d, dFF);
  };
  const add = (x: Float64Array, y: Float64Array) => {
    for (let i = 0; i < x.length; i++) x[i] += y[i];
    return round(x);
  };

  const E = f64(weights.embed)!, P = f64(weights.pos)!;
  let x: Float64Array = new Float64Array(rows * d);
  for (let r = 0; r < rows; r++) {
    const t = tok[r], n = r % N;
    for (let j = 0; j < d; j++) x[r * d + j] = E[t * d + j] + P[n * d + j];
  }
  round(x);
  const hidden: Float64Array[] = [x.slice()];
  for (const l of weights.layers) {
    if (prenorm) {
      add(x, attend(normed(x, l.ln1), l));
      add(x, ffn(normed(x, l.ln2), l));
    } else {
      x = normed(add(x, attend(x, l)), l.ln1);
      x = normed(add(x, ffn(x, l)), l.ln2);
    }
    hidden.push(x.slice());
  }
  const y = weights.lnFinal ? normed(x, weights.lnFinal) : x;
  const logits = new Float64Array(rows * vocab);
  gemm(rows, vocab, d, y, d, cfg.tiedHead ? E : f64(weights.head)!, d, logits, vocab);
  round(logits);
  const out = (a: Float64Array, shape: number[]) => new Tensor(f32 ? Float32Array.from(a) : a, shape);
  return {
    logits: out(logits, [B, N, vocab]),
    ...(o.returnHidden ? { hidden: hidden.map((h) => out(h, [B, N, d])) } : {}),
  };
}
