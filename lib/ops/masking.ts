// BERT MLM corruption, MAE random masking, DropToken and the expected-embedding fix
// (techniques.md section 1).
import { KexueError } from '../errors.js';
import { Tensor, allocate, describe, type Shape } from '../tensor.js';
import { asyncOp, syncOp, type Prepared } from './op.js';
import { backendOpt, idsArg, integer, options, probability, rngOpt, tensorArg, threshold24, type OpOptions, type RandomOptions } from './args.js';

const INT32_MAX = 2147483647;

/** Split of the selected tokens: [to MASK, to a random token, unchanged]; non-negative, sums to 1. */
export type MlmSplit = readonly [number, number, number];

function splitArg(v: unknown, op: string): MlmSplit {
  if (v === undefined) return [0.8, 0.1, 0.1];
  if (!Array.isArray(v) || v.length !== 3 || v.some((x) => typeof x !== 'number' || !Number.isFinite(x) || x < 0))
    throw new KexueError('E_RANGE', `${op}: split must be three non-negative numbers [mask, random, keep]; got ${describe(v)}`);
  const s = v[0] + v[1] + v[2];
  if (Math.abs(s - 1) > 1e-9) throw new KexueError('E_RANGE', `${op}: split must sum to 1; got [${v.join(', ')}] (sum ${s})`);
  return [v[0], v[1], v[2]];
}

/** The special-token table [vocab] (the mask token always counts as special) and the other ids, ascending. */
function vocabularyTables(vocabSize: number, maskTokenId: number, specialTokenIds: unknown, op: string) {
  const special = new Uint8Array(vocabSize);
  if (specialTokenIds !== undefined) {
    if (specialTokenIds === null || typeof specialTokenIds !== 'object' || typeof (specialTokenIds as ArrayLike<unknown>).length !== 'number')
      throw new KexueError('E_ARG', `${op}: specialTokenIds must be an array of token ids; got ${describe(specialTokenIds)}`);
    const ids = specialTokenIds as ArrayLike<unknown>;
    for (let i = 0; i < ids.length; i++) special[integer(ids[i], `specialTokenIds[${i}]`, op, 0, vocabSize - 1)] = 1;
  }
  special[maskTokenId] = 1;
  let count = 0;
  for (let i = 0; i < vocabSize; i++) count += special[i] ? 0 : 1;
  const candidates = new Int32Array(count);
  for (let i = 0, k = 0; i < vocabSize; i++) if (!special[i]) candidates[k++] = i;
  return { special, candidates };
}

export interface MlmOptions extends RandomOptions {
  vocabSize: number;
  maskTokenId: number;
  /** Never selected, never used as a random replacement (CLS, SEP, PAD, ...). maskTokenId is always special. */
  specialTokenIds?: ArrayLike<number>;
  /** Probability that a non-special token is selected. Default 0.15. */
  maskProb?: number;
  /** [mask, random, keep] for the selected tokens. Default [0.8, 0.1, 0.1]. */
  split?: MlmSplit;
  /** Label of the positions that are not selected. Default -100 (PyTorch's CrossEntropyLoss ignore_index). */
  ignoreIndex?: number;
}

export interface MlmResult {
  /** The corrupted ids, same shape as the input. */
  inputIds: Tensor<Int32Array>;
  /** The original id at selected positions, ignoreIndex elsewhere. */
  labels: Tensor<Int32Array>;
}

function prepMlm(ids: Tensor<Int32Array> | Int32Array | number[], opts: MlmOptions): Prepared<MlmResult> {
  const op = 'mlmMask';
  const o = options<MlmOptions>(opts, op);
  const t = idsArg(ids, 'ids', op);
  const vocabSize = integer(o.vocabSize, 'vocabSize', op, 1, INT32_MAX);
  const maskTokenId = integer(o.maskTokenId, 'maskTokenId', op, 0, vocabSize - 1);
  const maskProb = o.maskProb === undefined ? 0.15 : probability(o.maskProb, 'maskProb', op, true);
  const split = splitArg(o.split, op);
  const ignoreIndex = o.ignoreIndex === undefined ? -100 : integer(o.ignoreIndex, 'ignoreIndex', op, -2147483648, INT32_MAX);
  const rng = rngOpt(o, op);
  const { special, candidates } = vocabularyTables(vocabSize, maskTokenId, o.specialTokenIds, op);
  const data = t.data;
  for (let i = 0; i < data.length; i++)
    if (data[i] < 0 || data[i] >= vocabSize) throw new KexueError('E_RANGE', `${op}: ids[${i}] = ${data[i]} is outside [0, ${vocabSize})`);
  if (candidates.length === 0 && split[1] > 0 && maskProb > 0)
    throw new KexueError('E_RANGE', `${op}: every id is special, so no random replacement can be drawn (split[1] = ${split[1]})`);
  const inputIds = allocate('int32', t.size);
  const labels = allocate('int32', t.size);
  return {
    op,
    backend: backendOpt(o, op),
    args: [rng, 0, data, special, candidates, maskTokenId, threshold24(maskProb), threshold24(split[0]), threshold24(split[0] + split[1]), ignoreIndex, inputIds, labels],
    result: () => ({ inputIds: new Tensor(inputIds, t.shape), labels: new Tensor(labels, t.shape) }),
  };
}

/**
 * BERT's masked-language-model corruption. Token i (flat index) draws Philox block i of
 * (seed, stream): word 0 selects it (uniform < maskProb), word 1 picks mask / random / keep by the
 * split, word 2 picks the random replacement among the non-special ids (floor(w * count / 2^32)).
 */
export const mlmMask = syncOp(prepMlm);
export const mlmMaskAsync = asyncOp(prepMlm);

/** round(tokens * (1 - ratio)): the number of tokens MAE and DropToken keep. */
export function keptTokens(tokens: number, ratio: number): number {
  return Math.round(tokens * (1 - ratio));
}

export interface MaeOptions extends RandomOptions {
  batch: number;
  tokens: number;
  /** Fraction of tokens dropped, in [0, 1) (0.75 for images in MAE). */
  ratio: number;
}

export interface MaeResult {
  /** [batch, keep]: the kept token indices (the first `keep` of the argsort of the noise). */
  idsKeep: Tensor<Int32Array>;
  /** [batch, tokens]: the inverse permutation (scatter decoder outputs back with it). */
  idsRestore: Tensor<Int32Array>;
  /** [batch, tokens]: 1 = dropped, 0 = kept, in the original order. */
  mask: Tensor<Uint8Array>;
}

function prepMae(opts: MaeOptions): Prepared<MaeResult> {
  const op = 'maeMask';
  const o = options<MaeOptions>(opts, op);
  const batch = integer(o.batch, 'batch', op, 0, INT32_MAX);
  const tokens = integer(o.tokens, 'tokens', op, 0, INT32_MAX);
  const ratio = probability(o.ratio, 'ratio', op);
  const rng = rngOpt(o, op);
  const keep = keptTokens(tokens, ratio);
  const idsKeep = allocate('int32', batch * keep);
  const idsRestore = allocate('int32', batch * tokens);
  const mask = allocate('uint8', batch * tokens);
  return {
    op,
    backend: backendOpt(o, op),
    args: [rng, batch, tokens, keep, idsKeep, idsRestore, mask],
    result: () => ({
      idsKeep: new Tensor(idsKeep, [batch, keep]),
      idsRestore: new Tensor(idsRestore, [batch, tokens]),
      mask: new Tensor(mask, [batch, tokens]),
    }),
  };
}

/**
 * MAE's per-sample random masking: noise = `uniform([batch, tokens], seed, stream)` (24-bit
 * values), a stable argsort (ties by index), the first round(tokens * (1 - ratio)) kept.
 */
export const maeMask = syncOp(prepMae);
export const maeMaskAsync = asyncOp(prepMae);

export interface DropTokensOptions extends RandomOptions {
  /** Fraction of tokens dropped, in [0, 1) (the article found 0.1 to 0.15 best). */
  ratio: number;
}

export interface DropTokensResult<T extends Float32Array | Float64Array> {
  /** [batch, keep, dim]: the kept rows, in their original order. */
  output: Tensor<T>;
  /** [batch, keep]: the original position of each kept row (ascending), to gather position embeddings. */
  positions: Tensor<Int32Array>;
}

function prepDropTokens<T extends Float32Array | Float64Array>(x: Tensor<T>, opts: DropTokensOptions): Prepared<DropTokensResult<T>> {
  const op = 'dropTokens';
  const o = options<DropTokensOptions>(opts, op);
  const t = tensorArg<T>(x, 'x', op, ['float32', 'float64']);
  if (t.rank !== 3) throw new KexueError('E_SHAPE', `${op}: x must have shape [batch, tokens, dim]; got [${t.shape.join(', ')}]`);
  const [batch, tokens, dim] = t.shape;
  const ratio = probability(o.ratio, 'ratio', op);
  const rng = rngOpt(o, op);
  const keep = keptTokens(tokens, ratio);
  const out = allocate(t.dtype as 'float32', batch * keep * dim) as unknown as T;
  const positions = allocate('int32', batch * keep);
  return {
    op,
    backend: backendOpt(o, op),
    args: [rng, batch, tokens, dim, keep, t.data, out, positions],
    result: () => ({ output: new Tensor(out, [batch, keep, dim] as Shape), positions: new Tensor(positions, [batch, keep]) }),
  };
}

/**
 * DropToken: drops a fraction of the tokens of each sample, as MAE does (the same kept set as
 * `maeMask` with the same seed and stream), keeping the survivors' order and positions.
 */
export const dropTokens = syncOp(prepDropTokens) as <T extends Float32Array | Float64Array>(x: Tensor<T>, opts: DropTokensOptions) => DropTokensResult<T>;
export const dropTokensAsync = asyncOp(prepDropTokens) as <T extends Float32Array | Float64Array>(x: Tensor<T>, opts: DropTokensOptions) => Promise<DropTokensResult<T>>;

export interface ExpectedEmbeddingOptions extends OpOptions {
  maskTokenId: number;
  specialTokenIds?: ArrayLike<number>;
  maskProb?: number;
  split?: MlmSplit;
}

function prepExpected<T extends Float32Array | Float64Array>(table: Tensor<T>, opts: ExpectedEmbeddingOptions): Prepared<Tensor<T>> {
  const op = 'expectedEmbedding';
  const o = options<ExpectedEmbeddingOptions>(opts, op);
  const t = tensorArg<T>(table, 'table', op, ['float32', 'float64']);
  if (t.rank !== 2 || t.shape[0] < 1) throw new KexueError('E_SHAPE', `${op}: table must have shape [vocab, dim] with vocab >= 1; got [${t.shape.join(', ')}]`);
  const [vocab, dim] = t.shape;
  const maskTokenId = integer(o.maskTokenId, 'maskTokenId', op, 0, vocab - 1);
  const p = o.maskProb === undefined ? 0.15 : probability(o.maskProb, 'maskProb', op, true);
  const [qm, qr, qk] = splitArg(o.split, op);
  const { special, candidates } = vocabularyTables(vocab, maskTokenId, o.specialTokenIds, op);
  if (candidates.length === 0) throw new KexueError('E_RANGE', `${op}: every row is special; there is no vocabulary to average`);
  const out = allocate(t.dtype as 'float32', t.size) as unknown as T;
  return {
    op,
    backend: backendOpt(o, op),
    args: [vocab, dim, special, maskTokenId, 1 - p + p * qk, p * qm, p * qr, t.data, out],
    result: () => new Tensor(out, t.shape),
  };
}

/**
 * The fine-tuning embedding table of the dropout view of MLM: every non-special row e_i becomes
 * E[e'] = (1 - p + p q_keep) e_i + p q_mask e_MASK + p q_rand mean(non-special rows), computed in
 * float64; special rows (and the mask row) are unchanged.
 */
export const expectedEmbedding = syncOp(prepExpected) as <T extends Float32Array | Float64Array>(table: Tensor<T>, opts: ExpectedEmbeddingOptions) => Tensor<T>;
export const expectedEmbeddingAsync = asyncOp(prepExpected) as <T extends Float32Array | Float64Array>(table: Tensor<T>, opts: ExpectedEmbeddingOptions) => Promise<Tensor<T>>;
