// The pure-TypeScript reference of the training kernels of the built-in MLP (Kernels.mlpForward,
// mlpBackward and adam in lib/backends/types.ts): float64, plain loops, every sum over the batch
// taken in row order. Written here rather than taken from a package because the native and wasm
// kernels are tested against it element for element, so its order of operations must be the
// documented one. The activations are igMlp's (lib/backends/js/ig.ts), so the two kernels agree.
//
// Network: h_0 = x, z_l = W_l h_{l-1} + b_l, a_l = act_l(z_l); W_l [d_l, d_{l-1}] row-major, b_l
// [d_l] (params = W_1, b_1, W_2, b_2, ...). acts holds z_1, a_1, z_2, a_2, ... each [batch, d_l].
import { act, actBackward, parseMlpSpec as parseSpec } from './ig.js';

/** The spec's sizes and codes as small integers (float64 indices would slow every loop several-fold). */
function parseMlpSpec(spec: Float64Array): { L: number; dims: number[]; acts: number[] } {
  const { L, dims, acts } = parseSpec(spec);
  return { L: L | 0, dims: dims.map((d) => d | 0), acts: acts.map((a) => a | 0) };
}

/** Offsets of z_l and a_l (l = 1..L, index l - 1) in acts, and of W_l in params. */
function layout(dims: number[], batch: number): { zOff: number[]; aOff: number[]; wOff: number[] } {
  const zOff: number[] = [], aOff: number[] = [], wOff: number[] = [];
  let a = 0, w = 0;
  for (let l = 1; l < dims.length; l++) {
    zOff.push(a);
    aOff.push(a + batch * dims[l]);
    wOff.push(w);
    a += 2 * batch * dims[l];
    w += dims[l] * dims[l - 1] + dims[l];
  }
  return { zOff, aOff, wOff };
}

/** a [rows, cols] -> its transpose [cols, rows]. */
function transpose(a: Float64Array, rows: number, cols: number): Float64Array {
  const t = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c];
  return t;
}

/** The activation of every row of z [batch, d] into a (softmax row by row; the rest elementwise). */
function activateRows(code: number, z: Float64Array, a: Float64Array, batch: number, d: number): void {
  if (code !== 5) return act(code, z, a);
  for (let b = 0; b < batch; b++) act(code, z.subarray(b * d, (b + 1) * d), a.subarray(b * d, (b + 1) * d));
}

/**
 * out[i, j] = init[j] + sum_k a[i, k] b[j, k] for a [M, K], b [N, K] (row-major, from offsets
 * aOff, bOff; init null = 0), each sum taken in the order k = 0, 1, ..., K - 1. Four outputs per
 * pass over a's row (independent sums, so the order of each stays the same) for speed.
 */
function rowDots(a: Float64Array, aOff: number, b: Float64Array, bOff: number, M: number, N: number, K: number, out: Float64Array, init: Float64Array | null, initOff: number): void {
  for (let i = 0; i < M; i++) {
    const ai = aOff + i * K, oi = i * N;
    let j = 0;
    for (; j + 3 < N; j += 4) {
      const b0 = bOff + j * K, b1 = b0 + K, b2 = b1 + K, b3 = b2 + K;
      let s0 = init ? init[initOff + j] : 0, s1 = init ? init[initOff + j + 1] : 0;
      let s2 = init ? init[initOff + j + 2] : 0, s3 = init ? init[initOff + j + 3] : 0;
      for (let k = 0; k < K; k++) {
        const x = a[ai + k];
        s0 += x * b[b0 + k];
        s1 += x * b[b1 + k];
        s2 += x * b[b2 + k];
        s3 += x * b[b3 + k];
      }
      out[oi + j] = s0;
      out[oi + j + 1] = s1;
      out[oi + j + 2] = s2;
      out[oi + j + 3] = s3;
    }
    for (; j < N; j++) {
      const bj = bOff + j * K;
      let s = init ? init[initOff + j] : 0;
      for (let k = 0; k < K; k++) s += a[ai + k] * b[bj + k];
      out[oi + j] = s;
    }
  }
}

/** The mlpForward kernel (see Kernels.mlpForward). */
export function mlpForwardReference(spec: Float64Array, params: Float64Array, batch: number, x: Float64Array, acts: Float64Array): void {
  const { L, dims, acts: codes } = parseMlpSpec(spec);
  const { zOff, aOff, wOff } = layout(dims, batch);
  let hin = x;
  for (let l = 1; l <= L; l++) {
    const din = dims[l - 1], dout = dims[l], W = wOff[l - 1], bias = W + dout * din;
    const z = acts.subarray(zOff[l - 1], zOff[l - 1] + batch * dout);
    const a = acts.subarray(aOff[l - 1], aOff[l - 1] + batch * dout);
    // z[b, i] = b_i + sum_j h[b, j] W[i, j], j in order
    rowDots(hin, 0, params, W, batch, dout, din, z, params, bias);
    activateRows(codes[l - 1], z, a, batch, dout);
    hin = a;
  }
}

/** The mlpBackward kernel (see Kernels.mlpBackward). */
export function mlpBackwardReference(
  spec: Float64Array,
  params: Float64Array,
  batch: number,
  x: Float64Array,
  acts: Float64Array,
  gradOut: Float64Array,
  gradParams: Float64Array,
  gradX: Float64Array,
): void {
  const { L, dims, acts: codes } = parseMlpSpec(spec);
  const { zOff, aOff, wOff } = layout(dims, batch);
  let ga: Float64Array = Float64Array.from(gradOut); // dLoss/da_l, [batch, d_l]
  for (let l = L; l >= 1; l--) {
    const din = dims[l - 1], dout = dims[l], W = wOff[l - 1], bias = W + dout * din;
    const z = acts.subarray(zOff[l - 1], zOff[l - 1] + batch * dout);
    const a = acts.subarray(aOff[l - 1], aOff[l - 1] + batch * dout);
    const gz = new Float64Array(batch * dout);
    if (codes[l - 1] !== 5) actBackward(codes[l - 1], z, a, ga, gz);
    else
      for (let b = 0; b < batch; b++) {
        const r = (v: Float64Array) => v.subarray(b * dout, (b + 1) * dout);
        actBackward(5, r(z), r(a), r(ga), r(gz));
      }
    const hin = l === 1 ? x : acts.subarray(aOff[l - 2], aOff[l - 2] + batch * din);
    // dW_l[i, j] = sum_b gz[b, i] h[b, j] and db_l[i] = sum_b gz[b, i], summed in row order b = 0, 1, ...
    const gzT = transpose(gz, batch, dout);
    rowDots(gzT, 0, transpose(hin, batch, din), 0, dout, din, batch, gradParams.subarray(W, bias), null, 0);
    for (let i = 0; i < dout; i++) {
      let sb = 0;
      for (let b = 0; b < batch; b++) sb += gzT[i * batch + b];
      gradParams[bias + i] = sb;
    }
    if (l === 1 && gradX.length === 0) break;
    // dLoss/dh_{l-1}[b, j] = sum_i gz[b, i] W[i, j], i in order
    const gin = l === 1 ? gradX : new Float64Array(batch * din);
    rowDots(gz, 0, transpose(params.subarray(W, bias), dout, din), 0, batch, din, dout, gin, null, 0);
    ga = gin;
  }
}

/**
 * The adam kernel (see Kernels.adam): hyper = [lr, beta1, beta2, eps, weightDecay, bc1, bc2] with
 * the bias corrections bc1 = 1 - beta1^t and bc2 = 1 - beta2^t computed once by the caller.
 */
export function adamReference(params: Float64Array, grads: Float64Array, m: Float64Array, v: Float64Array, hyper: Float64Array): void {
  const [lr, b1, b2, eps, wd, bc1, bc2] = hyper;
  for (let i = 0; i < params.length; i++) {
    const g = grads[i];
    const mi = b1 * m[i] + (1 - b1) * g;
    const vi = b2 * v[i] + (1 - b2) * (g * g);
    m[i] = mi;
    v[i] = vi;
    params[i] = params[i] - lr * (wd * params[i] + mi / bc1 / (Math.sqrt(vi / bc2) + eps));
  }
}
