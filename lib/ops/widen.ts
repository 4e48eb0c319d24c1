// Function-preserving growth of a Transformer (techniques.md section 6): `widen` makes every width
// k times larger (integer k) so that the wider model computes exactly the same logits and every
// hidden vector keeps its norm; `deepen` inserts blocks that are the identity on the residual
// stream; `widenTo` reaches a width that is not a multiple of the old one and reports the error
// that leaves. Works on the weights format of lib/ops/transformer.ts.
//
// Derivation of the scales (rep = repeat_interleave by k, r(x) = rep(x) / sqrt(k); every hidden
// vector h of width d becomes h' = r(h) of width kd, so |h'| = |h|). For W [m, n] and
// K = kron(W, ones(k, k)): K rep(x) = k rep(W x), because each output copy sums k equal input
// copies. Hence:
// - embeddings, positions, a separate head: columns repeated, / sqrt(k): the rows are r(e), and
//   logits r(h).r(e) = h.e (also for the tied head).
// - LayerNorm / RMSNorm: r(h) has mean mean(h)/sqrt(k) and variance var(h)/k, so
//   (r(h) - mean') / sqrt(var' + eps/k) = rep((h - mean) / sqrt(var + eps)); gain and bias
//   repeated / sqrt(k) give r(LN(h)). Hence eps' = eps / k.
// - V, O (width to width): kron(W) / k maps r(x) to k rep(Wx) / (k sqrt(k)) = r(Wx); bias r(b).
//   The attention probabilities are unchanged (below), so each head's output is r(o_h).
// - Q, K: kron(W) * c maps r(x) to c sqrt(k) rep(Wx). With s = c sqrt(k), each head's q', k' are
//   s rep(q_h), s rep(k_h) of width kD (rep keeps coordinate e of head h inside head h: index
//   (hD + e)k + a = h(kD) + (ek + a), for any head count), so q'.k' = k s^2 q.k and the logit
//   q'.k' / sqrt(kD) = s^2 sqrt(k) q.k / sqrt(D). Unchanged iff s = k^(-1/4), i.e.
//   c = k^(-1/4) / sqrt(k) = k^(1/4) / k (techniques.md), bias rep(b) * s = rep(b) k^(1/4) / sqrt(k).
// - FFN: kron(W1) / sqrt(k) maps r(x) to rep(W1 x): the inner activations are plain repeats (bias
//   repeated unscaled) and the activation commutes with repetition; kron(W2) / (k sqrt(k)) maps
//   rep(a) to k rep(W2 a) / (k sqrt(k)) = r(W2 a); bias r(b2).
// Residual sums of r(.) vectors stay r(.), so by induction every hidden state is r(h).
import { KexueError } from '../errors.js';
import { Tensor, allocate, describe, type FloatArray } from '../tensor.js';
import { backendOpt, finite, integer, options, rngOpt, type OpOptions } from './args.js';
import { normal, uniform } from './random.js';
import type { MaskKind } from './attention.js';
import {
  LAYER_TENSORS,
  randomLayer,
  transformerForward,
  validateTransformer,
  type NormWeights,
  type TransformerLayer,
  type TransformerWeights,
} from './transformer.js';

type T = Tensor<FloatArray>;

/** A tensor like `t` (same dtype) of shape `shape`, element i = f(i). */
function build(t: T, shape: number[], f: (i: number) => number): T {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = allocate(t.dtype as 'float32' | 'float64', n);
  for (let i = 0; i < n; i++) out[i] = f(i);
  return new Tensor(out, shape);
}

/** The last dimension repeated in place (x1, x1, x2, x2, ...) k times, times s. */
function repCols(t: T, k: number, s: number): T {
  const c = t.shape[t.shape.length - 1];
  const a = t.data;
  return build(t, [...t.shape.slice(0, -1), c * k], (i) => a[Math.floor(i / (c * k)) * c + Math.floor((i % (c * k)) / k)] * s);
}

/** kron(W, ones(k, k)) * s for W [m, n]. */
function kron(t: T, k: number, s: number): T {
  const [m, n] = t.shape;
  const a = t.data;
  return build(t, [m * k, n * k], (i) => a[Math.floor(i / (n * k * k)) * n + Math.floor((i % (n * k)) / k)] * s);
}

/** Every tensor of a model in a fixed order (noise streams follow it). */
function allTensors(w: TransformerWeights): T[] {
  const norm = (n: NormWeights | undefined) => (n ? [n.gain, ...(n.bias ? [n.bias] : [])] : []);
  return [
    w.embed,
    w.pos,
    ...w.layers.flatMap((l) => [...norm(l.ln1), ...LAYER_TENSORS.map((name) => l[name]), ...norm(l.ln2)]),
    ...norm(w.lnFinal),
    ...(w.head ? [w.head] : []),
  ];
}

export interface WidenOptions extends OpOptions {
  /** the integer width factor k >= 1 (every width: dModel, dHead, dFF) */
  factor: number;
  /**
   * Relative size of symmetry-breaking noise (default 0: the function is preserved exactly). Each
   * widened tensor W gets noise * rms(W) * z added, z a Philox standard normal (stream = the
   * tensor's index in a fixed order), so the k copies of a weight differ.
   */
  noise?: number;
  /** the Philox seed of the noise (required when noise > 0) */
  seed?: number | bigint;
}

/**
 * The model widened k times (techniques.md section 6): dModel, dHead and dFF become k times larger,
 * the head count stays, eps becomes eps / k, and every scale follows the derivation at the top of
 * this file, so the logits are unchanged and every hidden state becomes repeat_interleave(h, k) /
 * sqrt(k) (same norm). The dtype of the weights is kept (float32 weights are rounded once).
 */
export function widen(weights: TransformerWeights, opts: WidenOptions): TransformerWeights {
  const op = 'widen';
  const { config: cfg } = validateTransformer(weights, op);
  const o = options<WidenOptions>(opts, op);
  const k = integer(o.factor, 'factor', op, 1, 1024);
  const noise = o.noise === undefined ? 0 : finite(o.noise, 'noise', op);
  if (noise < 0) throw new KexueError('E_RANGE', `${op}: noise must be >= 0; got ${noise}`);
  const backend = backendOpt(o, op);
  const rk = Math.sqrt(k), qk = k ** 0.25;
  const rep = (t: T, s: number) => repCols(t, k, s);
  const norm = (n: NormWeights): NormWeights => ({ gain: rep(n.gain, 1 / rk), ...(n.bias ? { bias: rep(n.bias, 1 / rk) } : {}) });
  const layer = (l: TransformerLayer): TransformerLayer => ({
    ln1: norm(l.ln1),
    wq: kron(l.wq, k, qk / k),
    bq: rep(l.bq, qk / rk),
    wk: kron(l.wk, k, qk / k),
    bk: rep(l.bk, qk / rk),
    wv: kron(l.wv, k, 1 / k),
    bv: rep(l.bv, 1 / rk),
    wo: kron(l.wo, k, 1 / k),
    bo: rep(l.bo, 1 / rk),
    ln2: norm(l.ln2),
    w1: kron(l.w1, k, 1 / rk),
    b1: rep(l.b1, 1),
    w2: kron(l.w2, k, 1 / (k * rk)),
    b2: rep(l.b2, 1 / rk),
  });
  const out: TransformerWeights = {
    config: { ...weights.config, dModel: cfg.dModel * k, dHead: cfg.dHead * k, dFF: cfg.dFF * k, eps: cfg.eps / k },
    embed: rep(weights.embed, 1 / rk),
    pos: rep(weights.pos, 1 / rk),
    layers: weights.layers.map(layer),
    ...(weights.lnFinal ? { lnFinal: norm(weights.lnFinal) } : {}),
    ...(weights.head ? { head: rep(weights.head, 1 / rk) } : {}),
  };
  if (noise > 0) {
    rngOpt(o, `${op}: noise`);
    allTensors(out).forEach((t, stream) => {
      const a = t.data;
      let ss = 0;
      for (let i = 0; i < a.length; i++) ss += a[i] * a[i];
      const amp = noise * Math.sqrt(ss / a.length);
      const z = normal([a.length], { seed: o.seed!, stream, dtype: 'float64', backend }).data;
      for (let i = 0; i < a.length; i++) a[i] += amp * z[i];
    });
  }
  return out;
}

export interface DeepenOptions extends OpOptions {
  /** where to insert identity blocks: an index (or indices) in 0 .. layers of the original model,
   * a new block going before the original block of that index (layers = after the last); an index
   * given twice inserts two blocks there */
  at: number | readonly number[];
  /**
   * The new blocks' other weights: 'copy' (default) copies the original block just before the
   * insertion point (block 0 for index 0); 'random' draws them (randomTransformer's scheme, needs
   * seed). Either way wo, bo, w2 and b2 are zero, so each new block adds 0 to the residual stream.
   */
  init?: 'copy' | 'random';
  seed?: number | bigint;
}

/**
 * The model with identity blocks inserted (pre-norm models only: a block whose output projections
 * are zero adds exactly 0 to the residual stream, so the logits are bit-for-bit unchanged; in a
 * post-norm model the block would still apply its norms, so deepen rejects those).
 */
export function deepen(weights: TransformerWeights, opts: DeepenOptions): TransformerWeights {
  const op = 'deepen';
  const { config: cfg, dtype } = validateTransformer(weights, op);
  const o = options<DeepenOptions>(opts, op);
  if (!cfg.prenorm)
    throw new KexueError('E_ARG', `${op}: a post-norm block with zero output projections still applies its norms (x -> norm(x)), so it is not the identity; deepen needs config.prenorm = true`);
  const L = cfg.layers;
  const at = typeof o.at === 'number' ? [o.at] : o.at;
  if (!Array.isArray(at) || at.length === 0) throw new KexueError('E_ARG', `${op}: at must be a block index or a non-empty array of them; got ${describe(o.at)}`);
  const where = at.map((a, i) => integer(a, `at[${i}]`, op, 0, L)).sort((a, b) => a - b);
  const init = o.init ?? 'copy';
  if (init !== 'copy' && init !== 'random') throw new KexueError('E_ARG', `${op}: init must be 'copy' or 'random'; got ${describe(init)}`);
  if (init === 'copy' && L === 0) throw new KexueError('E_ARG', `${op}: init 'copy' needs at least one block to copy; use init 'random'`);
  if (init === 'random') rngOpt(o, op);
  const backend = backendOpt(o, op);
  const copy = (t: T) => new Tensor(t.data.slice(), t.shape);
  const zero = (t: T) => new Tensor(allocate(dtype, t.size), t.shape);
  const copyNorm = (n: NormWeights): NormWeights => ({ gain: copy(n.gain), ...(n.bias ? { bias: copy(n.bias) } : {}) });
  const copyLayer = (src: TransformerLayer): TransformerLayer => {
    const l = { ln1: copyNorm(src.ln1), ln2: copyNorm(src.ln2) } as TransformerLayer;
    for (const name of LAYER_TENSORS) l[name] = copy(src[name]);
    return l;
  };
  const fresh = (at: number, count: number): TransformerLayer => {
    // random blocks take streams after the original model's (randomLayer index L + count)
    const l = copyLayer(init === 'copy' ? weights.layers[Math.max(0, at - 1)] : randomLayer(cfg, o.seed!, L + count, dtype, backend));
    for (const name of ['wo', 'bo', 'w2', 'b2'] as const) l[name] = zero(l[name]);
    return l;
  };
  // every tensor of the result is a fresh copy: editing the deeper model leaves `weights` alone
  const layers: TransformerLayer[] = [];
  let inserted = 0;
  for (let i = 0; i <= L; i++) {
    for (const a of where) if (a === i) layers.push(fresh(i, inserted++));
    if (i < L) layers.push(copyLayer(weights.layers[i]));
  }
  return {
    config: { ...weights.config, layers: layers.length },
    embed: copy(weights.embed),
    pos: copy(weights.pos),
    layers,
    ...(weights.lnFinal ? { lnFinal: copyNorm(weights.lnFinal) } : {}),
    ...(weights.head ? { head: copy(weights.head) } : {}),
  };
}

export interface WidenToOptions extends OpOptions {
  /** ids [batch, N] the error is measured on (default: 2 random sequences of min(16, maxLen) tokens) */
  probe?: Tensor<Int32Array> | Int32Array | readonly number[] | readonly (readonly number[])[];
  /** the mask the error is measured with (default 'causal') */
  mask?: MaskKind | readonly MaskKind[];
  /** seed of the random probe ids (default 0) */
  seed?: number | bigint;
}

export interface WidenToResult {
  weights: TransformerWeights;
  /** true when the construction is exact up to rounding (integer factor, or RMSNorm) */
  exact: boolean;
  /** max |logit difference| on the probe (float64 forward) */
  maxAbsError: number;
  /** maxAbsError / max |logit| */
  relError: number;
}

/**
 * Widens dModel to any `dModel` >= the current one. A multiple of the current width is `widen`
 * (exact). Otherwise coordinate i is repeated r_i times (r_i = floor or ceil of dModel / d, the first
 * dModel mod d coordinates once more) and each copy divided by sqrt(r_i): norms are kept, every
 * linear map in and out of the residual stream is exact (W'[:, (j, b)] = W[:, j] / sqrt(r_j),
 * W'[(i, a), :] = W[i, :] / sqrt(r_i)), the inner widths (heads, dHead, dFF) are unchanged, and
 * RMSNorm is exact with gain * sqrt(d / dModel) and eps * d / dModel. LayerNorm is not: the mean
 * of the uneven copies is sum_i sqrt(r_i) h_i / dModel, not a multiple of mean(h), so the result
 * reports the logit error this leaves, measured on probe ids.
 */
export function widenTo(weights: TransformerWeights, dModel: number, opts: WidenToOptions = {}): WidenToResult {
  const op = 'widenTo';
  const { config: cfg } = validateTransformer(weights, op);
  const o = options<WidenToOptions>(opts, op);
  const d = cfg.dModel;
  const D = integer(dModel, 'dModel', op, d, 2 ** 24);
  const backend = backendOpt(o, op);
  let out: TransformerWeights;
  let exact = true;
  if (D % d === 0) out = widen(weights, { factor: D / d, backend });
  else {
    exact = cfg.norm === 'rmsnorm';
    const src = new Int32Array(D), scale = new Float64Array(D);
    for (let i = 0, j = 0; i < d; i++) {
      const r = Math.floor(D / d) + (i < D % d ? 1 : 0);
      for (let a = 0; a < r; a++, j++) (src[j] = i), (scale[j] = 1 / Math.sqrt(r));
    }
    const g = Math.sqrt(d / D);
    // last dimension (residual coordinates as columns) or first dimension (as rows) expanded
    const cols = (t: T, s = 1) => build(t, [...t.shape.slice(0, -1), D], (i) => t.data[Math.floor(i / D) * d + src[i % D]] * scale[i % D] * s);
    const rows = (t: T) => {
      const n = t.size / d;
      return build(t, [D, ...t.shape.slice(1)], (i) => t.data[src[Math.floor(i / n)] * n + (i % n)] * scale[Math.floor(i / n)]);
    };
    const norm = (n: NormWeights): NormWeights => ({
      gain: build(n.gain, [D], (i) => n.gain.data[src[i]] * g),
      ...(n.bias ? { bias: cols(n.bias) } : {}),
    });
    const same = (t: T) => new Tensor(t.data.slice(), t.shape);
    out = {
      config: { ...weights.config, dModel: D, dHead: cfg.dHead, eps: (cfg.eps * d) / D },
      embed: cols(weights.embed),
      pos: cols(weights.pos),
      layers: weights.layers.map((l) => ({
        ln1: norm(l.ln1),
        wq: cols(l.wq), bq: same(l.bq), wk: cols(l.wk), bk: same(l.bk), wv: cols(l.wv), bv: same(l.bv),
        wo: rows(l.wo), bo: rows(l.bo),
        ln2: norm(l.ln2),
        w1: cols(l.w1), b1: same(l.b1), w2: rows(l.w2), b2: rows(l.b2),
      })),
      ...(weights.lnFinal ? { lnFinal: norm(weights.lnFinal) } : {}),
      ...(weights.head ? { head: cols(weights.head) } : {}),
    };
  }
  let probe = o.probe;
  if (probe === undefined) {
    const N = Math.min(16, cfg.maxLen);
    const u = uniform([2 * N], { seed: o.seed ?? 0, dtype: 'float64', backend }).data;
    probe = new Tensor(Int32Array.from(u, (x) => Math.min(cfg.vocab - 1, Math.floor(x * cfg.vocab))), [2, N]);
  }
  const fw = { mask: o.mask, backend, dtype: 'float64' } as const;
  const a = transformerForward(weights, probe, fw).logits.data, b = transformerForward(out, probe, fw).logits.data;
  let err = 0, mag = 0;
  for (let i = 0; i < a.length; i++) (err = Math.max(err, Math.abs(a[i] - b[i]))), (mag = Math.max(mag, Math.abs(a[i])));
  return { weights: out, exact, maxAbsError: err, relError: err / (mag || 1) };
}
