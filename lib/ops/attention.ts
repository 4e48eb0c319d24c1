// Masked scaled-dot-product attention (techniques.md section 2): O = softmax(scale Q K^T + bias) V
// with causal / noSelf / causalNoSelf / anticausal kinds (per head if wanted), key padding, an
// explicit boolean mask and an additive bias, grouped-query heads, and Philox dropout on the
// probabilities. Causal alignment is bottom right: query i sees key j when j <= i + (Nk - Nq).
import { KexueError } from '../errors.js';
import { Tensor, allocate, describe, type FloatArray, type Shape } from '../tensor.js';
import { MASK_KINDS } from '../backends/js/attention.js';
import type { AttentionInputs } from '../backends/types.js';
import { asyncOp, syncOp, type Prepared } from './op.js';
import { assertFiniteArray, backendOpt, finite, options, probability, rngOpt, tensorArg, threshold24, type OpOptions } from './args.js';

export type MaskKind = (typeof MASK_KINDS)[number];

export interface AttentionOptions extends OpOptions {
  /** A mask kind for every head, or one per head. Default 'none' (bidirectional). */
  mask?: MaskKind | readonly MaskKind[];
  /** [B]: batch item b sees keys 0 .. keyLengths[b] - 1 only (key padding). */
  keyLengths?: Int32Array | readonly number[];
  /** Boolean mask (uint8, nonzero = visible) of shape [Nq, Nk] or broadcastable to [B, H, Nq, Nk]. */
  maskTensor?: Tensor<Uint8Array>;
  /** Additive bias on the scores, same dtype as q, shape [Nq, Nk] or broadcastable to [B, H, Nq, Nk]. */
  bias?: Tensor<Float32Array | Float64Array>;
  /** Score scale; default 1 / sqrt(D). */
  scale?: number;
  /** Dropout on the probabilities: kept where uniform([B, H, Nq, Nk], seed, stream) >= p, scaled by 1 / (1 - p). */
  dropout?: { p: number; seed: number | bigint; stream?: number | bigint };
}

export interface AttentionForwardOptions extends AttentionOptions {
  /** Also return the row log-sum-exp [B, H, Nq] (-Infinity for a row with no visible key). */
  returnLse?: boolean;
  /** Also return the probabilities [B, H, Nq, Nk] (before dropout): O(N^2) memory. */
  returnProbs?: boolean;
}

export interface AttentionResult<T extends FloatArray> {
  /** [B, H, Nq, Dv]; 0 for a row with no visible key. */
  output: Tensor<T>;
  lse?: Tensor<T>;
  probs?: Tensor<T>;
}

export interface AttentionGradients<T extends FloatArray> {
  dq: Tensor<T>;
  dk: Tensor<T>;
  dv: Tensor<T>;
}

/** Strides that broadcast a tensor of shape `shape` (right-aligned, numpy rules) over [B, H, Nq, Nk]. */
function broadcastStrides(shape: Shape, full: readonly number[], what: string, op: string): number[] {
  if (shape.length < 2 || shape.length > 4)
    throw new KexueError('E_SHAPE', `${op}: ${what} must have rank 2 to 4 ([Nq, Nk] up to [B, H, Nq, Nk]); got [${shape.join(', ')}]`);
  const s = [1, 1, 1, 1].slice(0, 4 - shape.length).concat(shape as number[]);
  const strides = [0, 0, 0, 0];
  let acc = 1;
  for (let d = 3; d >= 0; d--) {
    if (s[d] !== 1 && s[d] !== full[d])
      throw new KexueError('E_SHAPE', `${op}: ${what} of shape [${shape.join(', ')}] does not broadcast to [B, H, Nq, Nk] = [${full.join(', ')}]`);
    strides[d] = s[d] === 1 ? 0 : acc;
    acc *= s[d];
  }
  return strides;
}

function headKinds(mask: unknown, H: number, op: string): Int32Array {
  const kinds = new Int32Array(H);
  const code = (m: unknown, what: string) => {
    const i = (MASK_KINDS as readonly unknown[]).indexOf(m);
    if (i < 0) throw new KexueError('E_ARG', `${op}: ${what} must be one of ${MASK_KINDS.map((k) => `'${k}'`).join(', ')}; got ${describe(m)}`);
    return i;
  };
  if (mask === undefined) return kinds;
  if (Array.isArray(mask)) {
    if (mask.length !== H) throw new KexueError('E_SHAPE', `${op}: mask has ${mask.length} kinds but there are ${H} heads`);
    mask.forEach((m, h) => (kinds[h] = code(m, `mask[${h}]`)));
  } else kinds.fill(code(mask, 'mask'));
  return kinds;
}

interface Checked<T extends FloatArray> {
  inputs: AttentionInputs;
  q: Tensor<T>;
  k: Tensor<T>;
  v: Tensor<T>;
}

/** Checks q, k, v and the options; returns the kernel inputs. */
function checkInputs<T extends FloatArray>(q: unknown, k: unknown, v: unknown, opts: AttentionOptions, op: string): Checked<T> {
  const o = options<AttentionOptions>(opts, op);
  const tq = tensorArg<T>(q, 'q', op, ['float32', 'float64']);
  const tk = tensorArg<T>(k, 'k', op, ['float32', 'float64']);
  const tv = tensorArg<T>(v, 'v', op, ['float32', 'float64']);
  for (const [t, name] of [[tq, 'q'], [tk, 'k'], [tv, 'v']] as const)
    if (t.rank !== 4) throw new KexueError('E_SHAPE', `${op}: ${name} must have rank 4 ([batch, heads, tokens, dim]); got [${t.shape.join(', ')}]`);
  if (tk.dtype !== tq.dtype || tv.dtype !== tq.dtype) throw new KexueError('E_DTYPE', `${op}: q, k and v must have one dtype; got ${tq.dtype}, ${tk.dtype}, ${tv.dtype}`);
  const [B, H, Nq, D] = tq.shape;
  const [Bk, Hkv, Nk, Dk] = tk.shape;
  const [Bv, Hv, Nv, Dv] = tv.shape;
  const shapes = `q [${tq.shape.join(', ')}], k [${tk.shape.join(', ')}], v [${tv.shape.join(', ')}]`;
  if (Bk !== B || Bv !== B) throw new KexueError('E_SHAPE', `${op}: batch sizes differ: ${shapes}`);
  if (Dk !== D) throw new KexueError('E_SHAPE', `${op}: q and k head dims differ: ${shapes}`);
  if (Hv !== Hkv || Nv !== Nk) throw new KexueError('E_SHAPE', `${op}: k and v must have the same heads and tokens: ${shapes}`);
  if (Hkv < 1 || H % Hkv !== 0) throw new KexueError('E_SHAPE', `${op}: query heads (${H}) must be a multiple of key/value heads (${Hkv})`);
  // A NaN in q would make a whole score row NaN, which the online softmax cannot tell from a row
  // whose keys are all hidden (output 0): non-finite inputs are refused rather than hidden.
  for (const [t, name] of [[tq, 'q'], [tk, 'k'], [tv, 'v']] as const) assertFiniteArray(t.data, name, op);
  const full = [B, H, Nq, Nk];
  let keyLengths: Int32Array | null = null;
  if (o.keyLengths !== undefined) {
    const kl = o.keyLengths as ArrayLike<unknown>;
    if (kl === null || typeof kl !== 'object' || kl.length !== B) throw new KexueError('E_SHAPE', `${op}: keyLengths must hold ${B} lengths (one per batch item); got ${describe(kl)}`);
    keyLengths = new Int32Array(B);
    for (let b = 0; b < B; b++) {
      const n = kl[b];
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > Nk) throw new KexueError('E_RANGE', `${op}: keyLengths[${b}] must be an integer in [0, ${Nk}]; got ${describe(n)}`);
      keyLengths[b] = n;
    }
  }
  let mask: Uint8Array | null = null;
  let maskStrides = [0, 0, 0, 0];
  if (o.maskTensor !== undefined) {
    const m = tensorArg<Uint8Array>(o.maskTensor, 'maskTensor', op, ['uint8']);
    maskStrides = broadcastStrides(m.shape, full, 'maskTensor', op);
    mask = m.data;
  }
  let bias: FloatArray | null = null;
  let biasStrides = [0, 0, 0, 0];
  if (o.bias !== undefined) {
    const t = tensorArg<FloatArray>(o.bias, 'bias', op, [tq.dtype]);
    biasStrides = broadcastStrides(t.shape, full, 'bias', op);
    assertFiniteArray(t.data, 'bias', op, true);
    bias = t.data;
  }
  const scale = o.scale === undefined ? 1 / Math.sqrt(D) : finite(o.scale, 'scale', op);
  let dropoutRng = null;
  let dropoutThreshold = 0;
  let dropoutScale = 1;
  if (o.dropout !== undefined) {
    const d = options<{ p: number; seed: number | bigint; stream?: number | bigint }>(o.dropout, `${op}: dropout`);
    const p = probability(d.p, 'dropout.p', op);
    dropoutRng = rngOpt(d, `${op}: dropout`);
    dropoutThreshold = threshold24(p);
    dropoutScale = 1 / (1 - p);
  }
  return {
    q: tq,
    k: tk,
    v: tv,
    inputs: {
      B, H, Hkv, Nq, Nk, D, Dv,
      q: tq.data, k: tk.data, v: tv.data,
      headKinds: headKinds(o.mask, H, op),
      keyLengths, mask, maskStrides, bias, biasStrides, scale,
      dropoutRng, dropoutThreshold, dropoutScale,
    },
  };
}

function prepAttention<T extends FloatArray>(q: Tensor<T>, k: Tensor<T>, v: Tensor<T>, opts: AttentionForwardOptions = {}): Prepared<AttentionResult<T>> {
  const op = 'attention';
  const { inputs, q: tq } = checkInputs<T>(q, k, v, opts, op);
  const o = opts as AttentionForwardOptions;
  for (const f of ['returnLse', 'returnProbs'] as const)
    if (o[f] !== undefined && typeof o[f] !== 'boolean') throw new KexueError('E_ARG', `${op}: ${f} must be a boolean; got ${describe(o[f])}`);
  const { B, H, Nq, Nk, Dv } = inputs;
  const dt = tq.dtype as 'float32';
  const out = allocate(dt, B * H * Nq * Dv) as unknown as T;
  const lse = o.returnLse ? (allocate(dt, B * H * Nq) as unknown as T) : null;
  const probs = o.returnProbs ? (allocate(dt, B * H * Nq * Nk) as unknown as T) : null;
  return {
    op,
    backend: backendOpt(o, op),
    args: [{ ...inputs, out, lse, probs }],
    result: () => ({
      output: new Tensor(out, [B, H, Nq, Dv]),
      ...(lse ? { lse: new Tensor(lse, [B, H, Nq]) } : {}),
      ...(probs ? { probs: new Tensor(probs, [B, H, Nq, Nk]) } : {}),
    }),
  };
}

/**
 * Masked scaled-dot-product attention. q [B, H, Nq, D], k [B, Hkv, Nk, D], v [B, Hkv, Nk, Dv];
 * query head h reads key/value head floor(h / (H / Hkv)). A key is visible only when every mask
 * given allows it; a row with no visible key gives output 0, lse -Infinity and probs 0.
 */
export const attention = syncOp(prepAttention) as <T extends FloatArray>(q: Tensor<T>, k: Tensor<T>, v: Tensor<T>, opts?: AttentionForwardOptions) => AttentionResult<T>;
export const attentionAsync = asyncOp(prepAttention) as <T extends FloatArray>(q: Tensor<T>, k: Tensor<T>, v: Tensor<T>, opts?: AttentionForwardOptions) => Promise<AttentionResult<T>>;

function prepBackward<T extends FloatArray>(q: Tensor<T>, k: Tensor<T>, v: Tensor<T>, dOutput: Tensor<T>, opts: AttentionOptions = {}): Prepared<AttentionGradients<T>> {
  const op = 'attentionBackward';
  const { inputs, q: tq, k: tk, v: tv } = checkInputs<T>(q, k, v, opts, op);
  const { B, H, Nq, Dv } = inputs;
  const dO = tensorArg<T>(dOutput, 'dOutput', op, [tq.dtype]);
  if (dO.shape.join() !== [B, H, Nq, Dv].join())
    throw new KexueError('E_SHAPE', `${op}: dOutput must have the output's shape [${[B, H, Nq, Dv].join(', ')}]; got [${dO.shape.join(', ')}]`);
  assertFiniteArray(dO.data, 'dOutput', op);
  const dt = tq.dtype as 'float32';
  const dq = allocate(dt, tq.size) as unknown as T;
  const dk = allocate(dt, tk.size) as unknown as T;
  const dv = allocate(dt, tv.size) as unknown as T;
  return {
    op,
    backend: backendOpt(opts, op),
    args: [{ ...inputs, dOut: dO.data, dq, dk, dv }],
    result: () => ({ dq: new Tensor(dq, tq.shape), dk: new Tensor(dk, tk.shape), dv: new Tensor(dv, tv.shape) }),
  };
}

/** Gradients of sum(dOutput * attention(q, k, v).output) with respect to q, k and v (same options). */
export const attentionBackward = syncOp(prepBackward) as <T extends FloatArray>(q: Tensor<T>, k: Tensor<T>, v: Tensor<T>, dOutput: Tensor<T>, opts?: AttentionOptions) => AttentionGradients<T>;
export const attentionBackwardAsync = asyncOp(prepBackward) as <T extends FloatArray>(q: Tensor<T>, k: Tensor<T>, v: Tensor<T>, dOutput: Tensor<T>, opts?: AttentionOptions) => Promise<AttentionGradients<T>>;
