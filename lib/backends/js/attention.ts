// The pure-TypeScript reference of masked scaled-dot-product attention (techniques.md section 2):
// the whole score row in float64, a plain softmax, no tiling. Every other backend is tested
// against it. Clarity first.
import type { AttentionArgs, AttentionBackwardArgs, AttentionInputs } from '../types.js';
import { streamWords } from './philox.js';

/** Mask kinds as the kernels number them. */
export const MASK_KINDS = ['none', 'causal', 'noSelf', 'causalNoSelf', 'anticausal'] as const;

/** Whether query i may see key j under mask kind `kind`, with off = Nk - Nq (bottom-right alignment). */
export function kindAllows(kind: number, i: number, j: number, off: number): boolean {
  const d = i + off;
  switch (kind) {
    case 1:
      return j <= d;
    case 2:
      return j !== d;
    case 3:
      return j < d;
    case 4:
      return j >= d;
    default:
      return true;
  }
}

/** Scores of one query row (float64), -Infinity where hidden. */
function scoreRow(a: AttentionInputs, b: number, h: number, i: number, row: Float64Array): void {
  const { H, Hkv, Nq, Nk, D } = a;
  const hk = Math.floor(h / (H / Hkv));
  const off = Nk - Nq;
  const kind = a.headKinds[h];
  const keyLen = a.keyLengths ? a.keyLengths[b] : Nk;
  const qo = ((b * H + h) * Nq + i) * D;
  for (let j = 0; j < Nk; j++) {
    let visible = j < keyLen && kindAllows(kind, i, j, off);
    if (visible && a.mask) visible = a.mask[b * a.maskStrides[0] + h * a.maskStrides[1] + i * a.maskStrides[2] + j * a.maskStrides[3]] !== 0;
    if (!visible) {
      row[j] = -Infinity;
      continue;
    }
    const ko = ((b * Hkv + hk) * Nk + j) * D;
    let s = 0;
    for (let d = 0; d < D; d++) s += a.q[qo + d] * a.k[ko + d];
    s *= a.scale;
    if (a.bias) s += a.bias[b * a.biasStrides[0] + h * a.biasStrides[1] + i * a.biasStrides[2] + j * a.biasStrides[3]];
    row[j] = s;
  }
}

/** Softmax of a score row in place; returns the log-sum-exp (-Infinity when every key is hidden). */
function softmaxRow(row: Float64Array): number {
  let m = -Infinity;
  for (const s of row) if (s > m) m = s;
  if (m === -Infinity) {
    row.fill(0);
    return -Infinity;
  }
  let l = 0;
  for (let j = 0; j < row.length; j++) {
    row[j] = Math.exp(row[j] - m);
    l += row[j];
  }
  for (let j = 0; j < row.length; j++) row[j] /= l;
  return m + Math.log(l);
}

/** The dropout keep factors of one probability row: mask / (1 - p), or 1 without dropout. */
function dropoutRow(a: AttentionInputs, b: number, h: number, i: number, keep: Float64Array): void {
  if (!a.dropoutRng) {
    keep.fill(1);
    return;
  }
  const { H, Nq, Nk } = a;
  const w = streamWords(a.dropoutRng, ((b * H + h) * Nq + i) * Nk, Nk);
  for (let j = 0; j < Nk; j++) keep[j] = w[j] >>> 8 >= a.dropoutThreshold ? a.dropoutScale : 0;
}

export function attentionReference(a: AttentionArgs): void {
  const { B, H, Hkv, Nq, Nk, Dv } = a;
  const row = new Float64Array(Nk);
  const keep = new Float64Array(Nk);
  const acc = new Float64Array(Dv);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++) {
      const hk = Math.floor(h / (H / Hkv));
      for (let i = 0; i < Nq; i++) {
        scoreRow(a, b, h, i, row);
        const lse = softmaxRow(row);
        const r = (b * H + h) * Nq + i;
        if (a.lse) a.lse[r] = lse;
        if (a.probs) a.probs.set(row, r * Nk);
        dropoutRow(a, b, h, i, keep);
        acc.fill(0);
        for (let j = 0; j < Nk; j++) {
          const pj = row[j] * keep[j];
          if (pj === 0) continue;
          const vo = ((b * Hkv + hk) * Nk + j) * Dv;
          for (let e = 0; e < Dv; e++) acc[e] += pj * a.v[vo + e];
        }
        a.out.set(acc, r * Dv);
      }
    }
}

/**
 * Gradients of sum(dOut * out) with respect to q, k and v (no tiling: one row at a time).
 * With P the probabilities, M the dropout factors and Pd = P M:
 * dV = Pd^T dO; dPd = dO V^T; dS = P (dPd M - rowsum(Pd dPd)); dQ = scale dS K; dK = scale dS^T Q.
 */
export function attentionBackwardReference(a: AttentionBackwardArgs): void {
  const { B, H, Hkv, Nq, Nk, D, Dv } = a;
  const row = new Float64Array(Nk);
  const keep = new Float64Array(Nk);
  const dp = new Float64Array(Nk);
  const dq = new Float64Array(D);
  const dk = new Float64Array(a.dk.length);
  const dv = new Float64Array(a.dv.length);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++) {
      const hk = Math.floor(h / (H / Hkv));
      for (let i = 0; i < Nq; i++) {
        scoreRow(a, b, h, i, row);
        softmaxRow(row);
        dropoutRow(a, b, h, i, keep);
        const r = (b * H + h) * Nq + i;
        const doo = r * Dv;
        // dPd_j = dO . v_j; rowsum(Pd dPd)
        let dot = 0;
        for (let j = 0; j < Nk; j++) {
          if (row[j] === 0) {
            dp[j] = 0;
            continue;
          }
          const vo = ((b * Hkv + hk) * Nk + j) * Dv;
          let s = 0;
          for (let e = 0; e < Dv; e++) s += a.dOut[doo + e] * a.v[vo + e];
          dp[j] = s;
          dot += row[j] * keep[j] * s;
          // dV_j += Pd_j dO
          const pd = row[j] * keep[j];
          if (pd !== 0) for (let e = 0; e < Dv; e++) dv[vo + e] += pd * a.dOut[doo + e];
        }
        dq.fill(0);
        const qo = r * D;
        for (let j = 0; j < Nk; j++) {
          if (row[j] === 0) continue;
          const ds = row[j] * (dp[j] * keep[j] - dot) * a.scale;
          const ko = ((b * Hkv + hk) * Nk + j) * D;
          for (let d = 0; d < D; d++) {
            dq[d] += ds * a.k[ko + d];
            dk[ko + d] += ds * a.q[qo + d];
          }
        }
        a.dq.set(dq, qo);
      }
    }
  a.dk.set(dk);
  a.dv.set(dv);
}
