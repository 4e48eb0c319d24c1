// Saving and loading built-in models: a JSON description plus a binary weights file (raw
// little-endian float64, in the igMlp kernel's packing: W_1 [d_1, d_0] row-major, b_1, W_2, b_2,
// ...), so weights stay exact and the JSON stays small and readable. In memory as
// { json, weights } for web pages; on disk as NAME.json + the .bin file the JSON names.
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { KexueError } from '../errors.js';
import { Tensor, describe } from '../tensor.js';
import { Mlp, mlp, type MlpActivation } from '../ops/ig.js';
import { AttentionBlock, attentionBlockFromPacked } from '../ops/attention_block.js';
import type { MaskKind } from '../ops/attention.js';

export interface ModelJson {
  kexue: 'model';
  version: 1;
  kind: 'mlp' | 'attentionBlock';
  /** mlp: layer widths d_0..d_L */
  dims?: number[];
  /** mlp */
  activations?: MlpActivation[];
  /** attentionBlock: sizes and options (weights packed as wq, bq, wk, bk, wv, bv, wo, bo) */
  d?: number;
  inner?: number;
  classes?: number;
  heads?: number;
  mask?: MaskKind | MaskKind[];
  pooling?: 'mean' | number;
  /** the weights file, relative to the JSON file */
  weights: string;
  dtype: 'float64';
  byteLength: number;
}

const LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function formatError(message: string): KexueError {
  return new KexueError('E_FORMAT', message);
}

/** The model as a JSON description and its weights (raw little-endian float64). */
export function modelToBuffers(model: Mlp | AttentionBlock, weightsName = 'weights.bin'): { json: ModelJson; weights: Uint8Array } {
  if (!(model instanceof Mlp) && !(model instanceof AttentionBlock))
    throw new KexueError('E_ARG', `modelToBuffers: expected a built-in model (mlp(...) or attentionBlock(...)); got ${describe(model)}`);
  const p = model instanceof Mlp ? model.params.slice() : model.packedWeights();
  const bytes = new Uint8Array(p.buffer);
  if (!LE) for (let i = 0; i < bytes.length; i += 8) bytes.subarray(i, i + 8).reverse();
  const common = { kexue: 'model', version: 1, weights: weightsName, dtype: 'float64', byteLength: bytes.length } as const;
  if (model instanceof Mlp) return { json: { ...common, kind: 'mlp', dims: [...model.dims], activations: [...model.activations] }, weights: bytes };
  const mask = typeof model.mask === 'string' ? model.mask : [...model.mask];
  return {
    json: { ...common, kind: 'attentionBlock', d: model.d, inner: model.inner, classes: model.classes, heads: model.heads, mask, pooling: model.pooling },
    weights: bytes,
  };
}

/** The model back from modelToBuffers' output (E_FORMAT when they do not fit together). */
export function modelFromBuffers(json: unknown, weights: Uint8Array): Mlp | AttentionBlock {
  const j = json as Partial<ModelJson> | null;
  if (j === null || typeof j !== 'object' || j.kexue !== 'model' || (j.kind !== 'mlp' && j.kind !== 'attentionBlock'))
    throw formatError('not a kexue model description (expected { kexue: "model", kind: "mlp" | "attentionBlock", ... })');
  if (j.version !== 1) throw formatError(`unsupported model version ${describe(j.version)} (this kexue reads version 1)`);
  if (j.dtype !== 'float64') throw formatError(`unsupported weights dtype ${describe(j.dtype)} (expected 'float64')`);
  if (!(weights instanceof Uint8Array) || weights.length % 8 !== 0 || j.byteLength !== weights.length)
    throw formatError(`the weights have ${weights?.length} bytes; byteLength says ${describe(j.byteLength)}`);
  if (j.kind === 'attentionBlock') {
    const { d, inner, classes, heads } = j;
    if (![d, inner, classes, heads].every((v) => Number.isInteger(v) && (v as number) >= 1)) throw formatError('attentionBlock: d, inner, classes and heads must be positive integers');
    const copy = weights.slice();
    if (!LE) for (let i = 0; i < copy.length; i += 8) copy.subarray(i, i + 8).reverse();
    try {
      return attentionBlockFromPacked({ d: d!, inner: inner!, classes: classes!, heads: heads! }, { mask: j.mask, pooling: j.pooling }, new Float64Array(copy.buffer));
    } catch (e) {
      throw formatError(`the model description is invalid: ${(e as Error).message}`);
    }
  }
  const dims = j.dims, acts = j.activations;
  if (!Array.isArray(dims) || dims.length < 2 || !dims.every((d) => Number.isInteger(d) && d >= 1)) throw formatError('dims must be at least two positive integers');
  if (!Array.isArray(acts) || acts.length !== dims.length - 1) throw formatError(`activations must have ${dims.length - 1} entries`);
  let count = 0;
  for (let l = 1; l < dims.length; l++) count += dims[l] * (dims[l - 1] + 1);
  if (!(weights instanceof Uint8Array) || weights.length !== 8 * count || j.byteLength !== weights.length)
    throw formatError(`the weights have ${weights?.length} bytes; the description needs ${8 * count} (byteLength says ${describe(j.byteLength)})`);
  const copy = weights.slice();
  if (!LE) for (let i = 0; i < copy.length; i += 8) copy.subarray(i, i + 8).reverse();
  const p = new Float64Array(copy.buffer);
  let o = 0;
  const layers = acts.map((activation, l) => {
    const dout = dims[l + 1], din = dims[l];
    const weight = new Tensor(p.slice(o, o + dout * din), [dout, din]);
    o += dout * din;
    const bias = new Tensor(p.slice(o, o + dout), [dout]);
    o += dout;
    return { weight, bias, activation };
  });
  try {
    return mlp({ layers });
  } catch (e) {
    throw formatError(`the model description is invalid: ${(e as Error).message}`);
  }
}

/** Writes NAME.json and, beside it, NAME.bin (or the weights file named). */
export function saveModel(model: Mlp | AttentionBlock, jsonPath: string, weightsPath?: string): void {
  const bin = weightsPath ?? jsonPath.replace(/\.json$/i, '') + '.bin';
  const rel = dirname(bin) === dirname(jsonPath) ? basename(bin) : bin;
  const { json, weights } = modelToBuffers(model, rel);
  writeFileSync(bin, weights);
  writeFileSync(jsonPath, JSON.stringify(json, null, 2) + '\n');
}

/** Reads a model saved by saveModel. */
export function loadModel(jsonPath: string): Mlp | AttentionBlock {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(jsonPath, 'utf8'));
  } catch (e) {
    throw formatError(`${jsonPath}: not a readable JSON file (${(e as Error).message})`);
  }
  const w = (json as { weights?: unknown })?.weights;
  if (typeof w !== 'string') throw formatError(`${jsonPath}: no weights file named`);
  const binPath = w.startsWith('/') ? w : join(dirname(jsonPath), w);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(binPath));
  } catch (e) {
    throw formatError(`${jsonPath}: cannot read the weights file ${binPath} (${(e as Error).message})`);
  }
  return modelFromBuffers(json, bytes);
}
