// The consistency experiments of "the dropout view of MLM and MAE" (techniques.md section 1):
// how far the mean attention output under corruption is from the clean output when a fraction p of
// the key/value rows is (a) replaced by one [MASK] vector (MLM) or (b) removed (MAE, DropToken);
// (c) how the expected-embedding fix removes the mean train/inference mismatch of MLM's 80/10/10
// corruption; and the DropToken identity (dropping a token == zeroing its attention column and
// renormalising). Every draw comes from the library's Philox ops, so a seed reproduces a run.
import { KexueError } from '../errors.js';
import { Tensor, describe } from '../tensor.js';
import type { BackendChoice } from '../backends/types.js';
import { attention } from './attention.js';
import { dropTokens, expectedEmbedding, maeMask, mlmMask } from './masking.js';
import { normal, uniform } from './random.js';
import { backendOpt, integer, options, probability, rngOpt } from './args.js';
import { oomError } from './mlp_train.js';

export type MaskVectorKind = 'random' | 'mean' | 'zero';

export interface MaskConsistencyOptions {
  /** tokens (keys and queries) */
  N: number;
  /** head dimension */
  D: number;
  /** drop rates p in [0, 1): the fraction of key/value rows corrupted (N - round(N (1 - p)) rows per draw, maeMask's count) */
  dropRates: readonly number[];
  /** corruption draws averaged per rate (draws x N x D at most 2^27) */
  draws: number;
  /** Philox seed: an integer in [0, 2^64), a number up to 2^53 - 1 or a bigint */
  seed: number | bigint;
  /**
   * The MLM replacement (one key row and one value row for every corrupted position): 'random' (a
   * fixed draw from the rows' own distribution, N(0, I); the default), 'mean' (the mean key and
   * value rows) or 'zero'.
   */
  maskVector?: MaskVectorKind;
  /** MLM selection probability of the expected-embedding experiment (default 0.15) */
  maskProb?: number;
  /** vocabulary of the expected-embedding experiment, [MASK] included (default 32) */
  vocab?: number;
  /** run the expected-embedding experiment (default true; false leaves `expected` out) */
  expectedEmbedding?: boolean;
  backend?: BackendChoice;
}

export interface RateConsistency {
  rate: number;
  /** rows corrupted per draw: N - round(N (1 - p)) (maeMask keeps round(N (1 - p)) rows; round(N p) but for ties) */
  corrupted: number;
  /** (a) ||mean_t Attn(Q, K'_t, V'_t) - Attn(Q, K, V)||_F / ||Attn(Q, K, V)||_F, rows replaced by the mask vector */
  mlm: number;
  /** (b) the same with those rows removed (hidden by the attention op's explicit mask) */
  mae: number;
}

/**
 * (c) MLM corruption of token ids (BERT's split), embedded with a table E. M = the mean over draws
 * (the training-time mean); each error is ||M - R||_F / ||M||_F against the inference input R built
 * from the raw table E or from the fixed table expectedEmbedding(E).
 */
export interface ExpectedEmbeddingConsistency {
  /** the embeddings themselves (what a linear probe or the value stream sees) */
  embeddingRaw: number;
  embeddingFixed: number;
  /** ||E[e'] - e_x|| / ||E[e']|| in closed form: the error embeddingRaw tends to as draws grow */
  embeddingRawExact: number;
  /** attention outputs, keys from positions and values from the embeddings (linear in the embeddings) */
  valuesRaw: number;
  valuesFixed: number;
  /** attention outputs, keys and values both from the embeddings (softmax: the fix is first order) */
  keysValuesRaw: number;
  keysValuesFixed: number;
}

export interface MaskConsistencyResult {
  N: number;
  D: number;
  draws: number;
  maskVector: MaskVectorKind;
  rates: RateConsistency[];
  /** absent when the options say expectedEmbedding: false */
  expected?: ExpectedEmbeddingConsistency;
}

/** ||a - b||_F / ||ref||_F in float64. */
function relError(a: ArrayLike<number>, b: ArrayLike<number>, ref: ArrayLike<number>): number {
  let d = 0, s = 0;
  for (let i = 0; i < a.length; i++) {
    d += (a[i] - b[i]) ** 2;
    s += ref[i] ** 2;
  }
  return Math.sqrt(d / s);
}

/** src (any shape) stacked `times` times along a new leading axis. */
function repeat<T extends Float64Array | Int32Array>(src: T, times: number): T {
  const out = new (src.constructor as new (n: number) => T)(src.length * times);
  for (let t = 0; t < times; t++) out.set(src, t * src.length);
  return out;
}

/** The mean over the leading axis of x [draws, size]. */
function meanOver(x: ArrayLike<number>, draws: number, size: number): Float64Array {
  const m = new Float64Array(size);
  for (let t = 0; t < draws; t++) for (let i = 0; i < size; i++) m[i] += x[t * size + i];
  for (let i = 0; i < size; i++) m[i] /= draws;
  return m;
}

/** Rows ids[i] of table [vocab, D]: [ids.length, D]. */
function embed(table: Float64Array, ids: ArrayLike<number>, D: number): Float64Array {
  const out = new Float64Array(ids.length * D);
  for (let i = 0; i < ids.length; i++) out.set(table.subarray(ids[i] * D, (ids[i] + 1) * D), i * D);
  return out;
}

const f64 = (shape: number[], seed: number | bigint, stream: number) => normal(shape, { seed, stream, dtype: 'float64' }).data as Float64Array;

/** The mean over `draws` batch items of attention(q, k_t, v_t) ([draws, N, D] each, one head). */
function meanAttention(q: Float64Array, k: Float64Array, v: Float64Array, draws: number, N: number, D: number, backend: BackendChoice | undefined, maskTensor?: Tensor<Uint8Array>): Float64Array {
  const sh = [draws, 1, N, D];
  const o = attention(new Tensor(q, sh), new Tensor(k, sh), new Tensor(v, sh), { backend, ...(maskTensor ? { maskTensor } : {}) }).output;
  return meanOver(o.data, draws, N * D);
}

/** The most elements one array of these experiments may hold: 2^27 (1 GiB of float64; a run holds several). */
export const CONSISTENCY_MAX_ELEMENTS = 2 ** 27;

function checkSizes(o: Partial<{ N: number; D: number; draws: number; seed: number | bigint }>, op: string) {
  const N = integer(o.N, 'N', op, 1, 1 << 16);
  const D = integer(o.D, 'D', op, 1, 1 << 12);
  const draws = integer(o.draws, 'draws', op, 1, 1 << 20);
  rngOpt(o, op);
  if (draws * N * D > CONSISTENCY_MAX_ELEMENTS)
    throw new KexueError('E_RANGE', `${op}: draws x N x D = ${draws} x ${N} x ${D} = ${draws * N * D} elements per array; the limit is 2^27 = ${CONSISTENCY_MAX_ELEMENTS}`);
  return { N, D, draws, seed: o.seed! };
}

/**
 * The MLM-vs-MAE consistency experiment and the expected-embedding fix (techniques.md section 1).
 * Q, K, V are N(0, 1) draws [N, D]; for each drop rate, `draws` maeMask samples pick the corrupted
 * rows, shared by (a) and (b). Everything runs in float64 on the attention op of `backend`.
 */
export function maskConsistency(opts: MaskConsistencyOptions): MaskConsistencyResult {
  const op = 'maskConsistency';
  try {
    return runMaskConsistency(opts, op);
  } catch (e) {
    throw oomError(e, op);
  }
}

function runMaskConsistency(opts: MaskConsistencyOptions, op: string): MaskConsistencyResult {
  const o = options<MaskConsistencyOptions>(opts, op);
  const { N, D, draws, seed } = checkSizes(o, op);
  const backend = backendOpt(o, op);
  if (!Array.isArray(o.dropRates) || o.dropRates.length === 0)
    throw new KexueError('E_ARG', `${op}: dropRates must be a non-empty array of rates in [0, 1); got ${describe(o.dropRates)}`);
  const rates = o.dropRates.map((p, i) => probability(p, `dropRates[${i}]`, op));
  const maskVector = o.maskVector ?? 'random';
  if (!['random', 'mean', 'zero'].includes(maskVector)) throw new KexueError('E_ARG', `${op}: maskVector must be 'random', 'mean' or 'zero'; got ${describe(maskVector)}`);
  const vocab = o.vocab === undefined ? 32 : integer(o.vocab, 'vocab', op, 2, 1 << 20);
  if (vocab * D > CONSISTENCY_MAX_ELEMENTS)
    throw new KexueError('E_RANGE', `${op}: the embedding table vocab x D = ${vocab} x ${D} = ${vocab * D} elements; the limit is 2^27 = ${CONSISTENCY_MAX_ELEMENTS}`);
  const maskProb = o.maskProb === undefined ? 0.15 : probability(o.maskProb, 'maskProb', op);
  if (o.expectedEmbedding !== undefined && typeof o.expectedEmbedding !== 'boolean')
    throw new KexueError('E_ARG', `${op}: expectedEmbedding must be a boolean; got ${describe(o.expectedEmbedding)}`);
  const q = f64([N, D], seed, 0), k = f64([N, D], seed, 1), v = f64([N, D], seed, 2);
  let km: Float64Array, vm: Float64Array;
  if (maskVector === 'random') (km = f64([D], seed, 3)), (vm = f64([D], seed, 4));
  else if (maskVector === 'zero') (km = new Float64Array(D)), (vm = new Float64Array(D));
  else (km = meanOver(k, N, D)), (vm = meanOver(v, N, D));
  const sh = [1, 1, N, D];
  const full = attention(new Tensor(q, sh), new Tensor(k, sh), new Tensor(v, sh), { backend }).output.data as Float64Array;
  const qs = repeat(q, draws), ks = repeat(k, draws), vs = repeat(v, draws);
  const out: RateConsistency[] = rates.map((rate, r) => {
    const dropped = maeMask({ batch: draws, tokens: N, ratio: rate, seed, stream: 10 + r }).mask.data;
    // (a) MLM: the dropped rows become the mask vector.
    const kc = ks.slice(), vc = vs.slice();
    for (let x = 0; x < draws * N; x++)
      if (dropped[x]) kc.set(km, x * D), vc.set(vm, x * D);
    const mlm = relError(meanAttention(qs, kc, vc, draws, N, D, backend), full, full);
    // (b) MAE: the dropped rows are hidden from every query ([draws, 1, 1, N], 1 = visible).
    const visible = new Tensor(dropped.map((x) => 1 - x), [draws, 1, 1, N]);
    const mae = relError(meanAttention(qs, ks, vs, draws, N, D, backend, visible), full, full);
    return { rate, corrupted: N - Math.round(N * (1 - rate)), mlm, mae };
  });
  if (o.expectedEmbedding === false) return { N, D, draws, maskVector, rates: out };
  return { N, D, draws, maskVector, rates: out, expected: expectedEmbeddingExperiment(N, D, draws, seed, vocab, maskProb, backend) };
}

/** (c): token ids 1 .. vocab-1 (0 is [MASK], the only special id), BERT's 80/10/10 split. */
function expectedEmbeddingExperiment(N: number, D: number, draws: number, seed: number | bigint, vocab: number, maskProb: number, backend: BackendChoice | undefined): ExpectedEmbeddingConsistency {
  const table = f64([vocab, D], seed, 20);
  const ids = Int32Array.from(uniform([N], { seed, stream: 21, dtype: 'float64' }).data, (u) => 1 + Math.floor(u * (vocab - 1)));
  const fixedTable = expectedEmbedding(new Tensor(table, [vocab, D]), { maskTokenId: 0, maskProb, backend }).data as Float64Array;
  const corrupted = mlmMask(new Tensor(repeat(ids, draws), [draws, N]), { vocabSize: vocab, maskTokenId: 0, maskProb, seed, stream: 22, backend }).inputIds.data;
  const xs = embed(table, corrupted, D);
  const raw = embed(table, ids, D), fixed = embed(fixedTable, ids, D);
  const mean = meanOver(xs, draws, N * D);
  // Closed form of E[e'] - e_x with the split (0.8, 0.1, 0.1): p (0.8 (e_m - e_x) + 0.1 (ebar - e_x)).
  const ebar = meanOver(table.subarray(D), vocab - 1, D);
  const bias = new Float64Array(N * D);
  for (let i = 0; i < N; i++)
    for (let e = 0; e < D; e++) bias[i * D + e] = maskProb * (0.8 * (table[e] - raw[i * D + e]) + 0.1 * (ebar[e] - raw[i * D + e]));
  const expectedRows = raw.map((x, j) => x + bias[j]);
  const q = f64([N, D], seed, 23), kpos = f64([N, D], seed, 24);
  const sh = [1, 1, N, D];
  const att = (k: Float64Array, v: Float64Array) => attention(new Tensor(q, sh), new Tensor(k, sh), new Tensor(v, sh), { backend }).output.data as Float64Array;
  const qs = repeat(q, draws);
  const mValues = meanAttention(qs, repeat(kpos, draws), xs, draws, N, D, backend);
  const mKeysValues = meanAttention(qs, xs, xs, draws, N, D, backend);
  return {
    embeddingRaw: relError(mean, raw, mean),
    embeddingFixed: relError(mean, fixed, mean),
    embeddingRawExact: relError(expectedRows, raw, expectedRows),
    valuesRaw: relError(mValues, att(kpos, raw), mValues),
    valuesFixed: relError(mValues, att(kpos, fixed), mValues),
    keysValuesRaw: relError(mKeysValues, att(raw, raw), mKeysValues),
    keysValuesFixed: relError(mKeysValues, att(fixed, fixed), mKeysValues),
  };
}

export interface DropTokenEquivalenceOptions {
  N: number;
  D: number;
  /** DropToken ratio in [0, 1) */
  ratio: number;
  /** Philox seed: an integer in [0, 2^64), a number up to 2^53 - 1 or a bigint */
  seed: number | bigint;
  dtype?: 'float32' | 'float64';
  backend?: BackendChoice;
}

export interface DropTokenEquivalence {
  /** the kept key indices (ascending) */
  kept: Int32Array;
  /** attention over the compacted keys/values (dropTokens): [N, D] */
  compact: Float64Array;
  /** attention over all keys with the dropped columns hidden by the explicit mask: [N, D] */
  masked: Float64Array;
  /** the full probabilities with the dropped columns zeroed and every row renormalised (float64), times V: [N, D] */
  renormalised: Float64Array;
  /** max |P_renormalised[i, kept c] - P_compact[i, c]| */
  probsMaxDiff: number;
  /** whether compact and masked have the same bits */
  bitIdentical: boolean;
}

/**
 * DropToken's identity: dropping key/value rows (dropTokens, same kept set as maeMask) gives the
 * attention output that zeroing those columns of the full attention matrix and renormalising gives.
 */
export function dropTokenEquivalence(opts: DropTokenEquivalenceOptions): DropTokenEquivalence {
  const op = 'dropTokenEquivalence';
  try {
    return runDropTokenEquivalence(opts, op);
  } catch (e) {
    throw oomError(e, op);
  }
}

function runDropTokenEquivalence(opts: DropTokenEquivalenceOptions, op: string): DropTokenEquivalence {
  const o = options<DropTokenEquivalenceOptions>(opts, op);
  const { N, D, seed } = checkSizes({ ...o, draws: 1 }, op);
  if (N * N > CONSISTENCY_MAX_ELEMENTS)
    throw new KexueError('E_RANGE', `${op}: the attention probabilities N x N = ${N} x ${N} = ${N * N} elements; the limit is 2^27 = ${CONSISTENCY_MAX_ELEMENTS}`);
  const ratio = probability(o.ratio, 'ratio', op);
  const dtype = o.dtype ?? 'float64';
  if (dtype !== 'float32' && dtype !== 'float64') throw new KexueError('E_DTYPE', `${op}: dtype must be 'float32' or 'float64'; got ${describe(dtype)}`);
  const backend = backendOpt(o, op);
  const draw = (stream: number) => normal([1, 1, N, D], { seed, stream, dtype });
  const q = draw(0), k = draw(1), v = draw(2);
  // The same seed and stream: dropTokens keeps exactly maeMask's set, for K and for V.
  const kc = dropTokens(k.reshape([1, N, D]), { ratio, seed, stream: 3, backend });
  const vc = dropTokens(v.reshape([1, N, D]), { ratio, seed, stream: 3, backend });
  const keep = kc.positions.data;
  const n = keep.length;
  const compact = attention(q, kc.output.reshape([1, 1, n, D]), vc.output.reshape([1, 1, n, D]), { backend, returnProbs: true });
  const visible = new Uint8Array(N);
  for (const j of keep) visible[j] = 1;
  const masked = attention(q, k, v, { backend, maskTensor: new Tensor(visible, [1, N]) }).output.data;
  const P = attention(q, k, v, { backend, returnProbs: true }).probs!.data;
  const renormalised = new Float64Array(N * D);
  let probsMaxDiff = 0;
  for (let i = 0; i < N; i++) {
    let z = 0;
    for (const j of keep) z += P[i * N + j];
    keep.forEach((j, c) => {
      const p = P[i * N + j] / z;
      probsMaxDiff = Math.max(probsMaxDiff, Math.abs(p - compact.probs!.data[i * n + c]));
      for (let e = 0; e < D; e++) renormalised[i * D + e] += p * v.data[j * D + e];
    });
  }
  const c = compact.output.data;
  let bitIdentical = true;
  for (let x = 0; x < c.length; x++) if (!Object.is(c[x], masked[x])) bitIdentical = false;
  return { kept: keep, compact: Float64Array.from(c), masked: Float64Array.from(masked), renormalised, probsMaxDiff, bitIdentical };
}
