// The pure-TypeScript reference of the sampling kernels: float64 arithmetic, the same Philox words
// and the same operation order as native/core/random.cc, so every backend is compared with it bit
// for bit. Clarity first; it is also the baseline the benchmarks compare against.
import type { FloatArray } from '../../tensor.js';
import type { Kernels, Rng } from '../types.js';
import { attentionBackwardReference, attentionReference } from './attention.js';
import { igMlpReference } from './ig.js';
import { sectorMcReference } from './sector.js';
import { adamReference, mlpBackwardReference, mlpForwardReference } from './mlp_train.js';
import { choleskyKernel, eighKernel, featureStatsKernel, gemmKernel, solveKernel, sqrtmKernel, w2TraceReference } from './linalg.js';
import { boxMuller, philox4x32_10, philoxBlock, streamWords, wordsToUniformF64 } from './philox.js';

/** floor(w * m / 2^32) exactly, for w < 2^32 and m < 2^31. */
export function scaleWord(w: number, m: number): number {
  const mh = Math.floor(m / 65536);
  const ml = m % 65536;
  const a = w * ml; // < 2^48: exact
  const b = w * mh; // < 2^47: exact
  return Math.floor((b + Math.floor(a / 65536)) / 65536);
}

export const jsKernels: Kernels = {
  attention: attentionReference,
  attentionBackward: attentionBackwardReference,
  w2Trace: w2TraceReference,
  cholesky: choleskyKernel,
  eigh: eighKernel,
  sqrtm: sqrtmKernel,
  solve: solveKernel,
  featureStats: featureStatsKernel,
  gemm: gemmKernel,
  igMlp: igMlpReference,
  sectorMc: sectorMcReference,
  mlpForward: mlpForwardReference,
  mlpBackward: mlpBackwardReference,
  adam: adamReference,

  philox(counter, key, out) {
    philox4x32_10(counter, key, out);
  },

  words(rng, offset, out) {
    streamWords(rng, offset, out.length, out);
  },

  uniform(rng, offset, out) {
    const n = out.length;
    if (out instanceof Float32Array) {
      const w = streamWords(rng, offset, n);
      for (let i = 0; i < n; i++) out[i] = (w[i] >>> 8) * 5.9604644775390625e-8;
    } else {
      const w = streamWords(rng, 2 * offset, 2 * n);
      for (let i = 0; i < n; i++) out[i] = wordsToUniformF64(w[2 * i], w[2 * i + 1]);
    }
  },

  normal(rng, offset, mean, std, out) {
    const n = out.length;
    if (n === 0) return;
    // Element i uses the Box-Muller pair of words 2 (i >> 1), 2 (i >> 1) + 1: cos if even, sin if odd.
    const firstPair = Math.floor(offset / 2);
    const lastPair = Math.floor((offset + n - 1) / 2);
    const w = streamWords(rng, 2 * firstPair, 2 * (lastPair - firstPair + 1));
    const z = new Float64Array(2);
    for (let p = firstPair; p <= lastPair; p++) {
      const k = 2 * (p - firstPair);
      boxMuller(w[k], w[k + 1], z);
      const g = 2 * p - offset;
      if (g >= 0 && g < n) out[g] = mean + std * z[0];
      if (g + 1 >= 0 && g + 1 < n) out[g + 1] = mean + std * z[1];
    }
  },

  bernoulli(rng, offset, threshold, out) {
    const w = streamWords(rng, offset, out.length);
    for (let i = 0; i < out.length; i++) out[i] = w[i] >>> 8 < threshold ? 1 : 0;
  },

  dropout(rng, offset, threshold, scale, x, out, mask) {
    const w = streamWords(rng, offset, x.length);
    // For float32, out[i] = x * scale is rounded once on the store: the correctly rounded float32
    // product, as in C (the double product of two float32 values is exact).
    for (let i = 0; i < x.length; i++) {
      const keep = w[i] >>> 8 >= threshold;
      out[i] = keep ? x[i] * scale : 0;
      if (mask) mask[i] = keep ? 1 : 0;
    }
  },

  mlmMask(rng, offset, ids, special, candidates, maskTokenId, selectThreshold, maskThreshold, randomThreshold, ignoreIndex, inputIds, labels) {
    const w = new Uint32Array(4);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      inputIds[i] = id;
      labels[i] = ignoreIndex;
      if (special[id]) continue;
      philoxBlock(rng, offset + i, w);
      if (w[0] >>> 8 >= selectThreshold) continue;
      labels[i] = id;
      const u = w[1] >>> 8;
      if (u < maskThreshold) inputIds[i] = maskTokenId;
      else if (u < randomThreshold) inputIds[i] = candidates[scaleWord(w[2], candidates.length)];
    }
  },

  maeMask(rng, batch, tokens, keep, idsKeep, idsRestore, mask) {
    for (let b = 0; b < batch; b++) {
      const order = argsortNoise(rng, b, tokens);
      for (let r = 0; r < keep; r++) idsKeep[b * keep + r] = order[r];
      for (let r = 0; r < tokens; r++) idsRestore[b * tokens + order[r]] = r;
      for (let t = 0; t < tokens; t++) mask[b * tokens + t] = idsRestore[b * tokens + t] >= keep ? 1 : 0;
    }
  },

  dropTokens(rng, batch, tokens, dim, keep, x, out, positions) {
    for (let b = 0; b < batch; b++) {
      const order = argsortNoise(rng, b, tokens);
      const kept = new Uint8Array(tokens);
      for (let r = 0; r < keep; r++) kept[order[r]] = 1;
      let c = 0;
      for (let t = 0; t < tokens; t++) {
        if (!kept[t]) continue;
        positions[b * keep + c] = t;
        out.set(x.subarray((b * tokens + t) * dim, (b * tokens + t + 1) * dim), (b * keep + c) * dim);
        c++;
      }
    }
  },

  expectedEmbedding(vocab, dim, special, maskTokenId, a, b, c, table, out) {
    const mean = new Float64Array(dim);
    let count = 0;
    for (let r = 0; r < vocab; r++) {
      if (special[r]) continue;
      count++;
      for (let j = 0; j < dim; j++) mean[j] += table[r * dim + j];
    }
    for (let j = 0; j < dim; j++) mean[j] = mean[j] / count;
    const m = maskTokenId * dim;
    for (let r = 0; r < vocab; r++) {
      for (let j = 0; j < dim; j++) {
        const t = table[r * dim + j];
        out[r * dim + j] = special[r] ? t : a * t + b * table[m + j] + c * mean[j];
      }
    }
  },
};

/** MAE's argsort of the noise of sample b: 24-bit keys (the uniform() values), ties by index. */
function argsortNoise(rng: Rng, b: number, tokens: number): Int32Array {
  const w = streamWords(rng, b * tokens, tokens);
  const order = Int32Array.from({ length: tokens }, (_, i) => i);
  order.sort((i, j) => (w[i] >>> 8) - (w[j] >>> 8) || i - j);
  return order;
}

export type { FloatArray };
