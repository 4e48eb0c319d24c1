import type { FloatArray } from '../tensor.js';

export type BackendName = 'cuda' | 'cpu' | 'wasm' | 'js';
export type BackendChoice = BackendName | 'auto';
/** The order `auto` tries, and the order an op falls through when a backend lacks it. */
export const BACKEND_ORDER: readonly BackendName[] = ['cuda', 'cpu', 'wasm', 'js'];

export interface BackendInfo {
  name: BackendName;
  available: boolean;
  /** Why the backend is unavailable (absent when it is available). */
  reason?: string;
  /** Instruction set in use: 'avx2', 'sse2', 'scalar', 'wasm-simd128', 'cuda', 'js'. */
  simd: string;
  /** Threads one op uses. */
  threads: number;
  /** The device (CPU model, GPU name, or the JS engine). */
  device: string;
  /** The ops this backend implements; the others fall through to the next backend. */
  ops: string[];
}

/** rng = Uint32Array [seedLo, seedHi, streamLo, streamHi]. */
export type Rng = Uint32Array;

/**
 * The kernel interface every backend implements (all of it, or a part: ops it lacks fall through).
 * Arguments are checked by lib/ops before any call; outputs are preallocated by the caller.
 * `offset` is the global index of the first element (so large tensors can be filled in chunks).
 */
export interface Kernels {
  philox(counter: Uint32Array, key: Uint32Array, out: Uint32Array): void;
  words(rng: Rng, offset: number, out: Uint32Array): void;
  uniform(rng: Rng, offset: number, out: FloatArray): void;
  normal(rng: Rng, offset: number, mean: number, std: number, out: FloatArray): void;
  bernoulli(rng: Rng, offset: number, threshold: number, out: Uint8Array): void;
  dropout(rng: Rng, offset: number, threshold: number, scale: number, x: FloatArray, out: FloatArray, mask: Uint8Array | null): void;
  mlmMask(
    rng: Rng,
    offset: number,
    ids: Int32Array,
    special: Uint8Array,
    candidates: Int32Array,
    maskTokenId: number,
    selectThreshold: number,
    maskThreshold: number,
    randomThreshold: number,
    ignoreIndex: number,
    inputIds: Int32Array,
    labels: Int32Array,
  ): void;
  maeMask(rng: Rng, batch: number, tokens: number, keep: number, idsKeep: Int32Array, idsRestore: Int32Array, mask: Uint8Array): void;
  dropTokens(rng: Rng, batch: number, tokens: number, dim: number, keep: number, x: FloatArray, out: FloatArray, positions: Int32Array): void;
  expectedEmbedding(vocab: number, dim: number, special: Uint8Array, maskTokenId: number, a: number, b: number, c: number, table: FloatArray, out: FloatArray): void;
  attention(args: AttentionArgs): void;
  attentionBackward(args: AttentionBackwardArgs): void;
  /**
   * out[0] = tr (S1^1/2 S2 S1^1/2)^1/2 by Cholesky S1 = L L^T and the eigenvalues of L^T S2 L
   * (clamped at 0); out[1] = -1. When S1 is not positive definite: out[1] = the failing pivot and
   * an E_RANGE error (the caller then takes the eigh route).
   */
  w2Trace(n: number, s1: Float64Array, s2: Float64Array, out: Float64Array): void;
  /**
   * L[c] = the lower Cholesky factor of a[c] (lower triangles read) for c < count; info[c] = the
   * first pivot that is not positive (L[c] then all zero) or -1. Only sizes make it throw.
   */
  cholesky(count: number, n: number, a: Float64Array, L: Float64Array, info: Float64Array): void;
  /** Eigenvalues (ascending) and, when vectors is given, eigenvectors (columns) of each symmetric a[c]. */
  eigh(count: number, n: number, a: Float64Array, values: Float64Array, vectors: Float64Array | null): void;
  /**
   * x[c] = a[c]^(1/2) (or ^(-1/2)); params = [method (SQRTM_METHODS index), inverse 0/1, tol,
   * maxIterations]; info[3c..3c+3) = [status, iterations, residual] with status 0, 7 (not
   * positive semi-definite), 8 (no convergence) or 1 (non-finite): those do not throw. a and x are
   * both float64 or both float32 (float32 may run in float64 and round).
   */
  sqrtm(count: number, n: number, a: FloatArray, x: FloatArray, params: Float64Array, info: Float64Array): void;
  /** x = a^-1 b (a [n, n], b and x [n, m]); info[0] = 1 when a is singular (x unspecified), else 0. */
  solve(n: number, m: number, a: Float64Array, b: Float64Array, x: Float64Array, info: Float64Array): void;
  /** c = alpha op(a) op(b) + beta c (row-major; op(a) m x k, op(b) k x n; beta 0 ignores c). */
  gemm(m: number, n: number, k: number, a: Float64Array, lda: number, transA: boolean, b: Float64Array, ldb: number, transB: boolean, c: Float64Array, ldc: number, alpha: number, beta: number): void;
  /**
   * Integrated gradients of a built-in MLP, fused (no path point is materialised beyond the
   * kernel's own batches): for each input b < batch and node k, the point
   * p = base_b + alphas[k] (x_b - base_b) goes forward through the network and back, and
   * avgGrad_b += weights[k] dF/dp with F = the last layer's output target[b]; outputs[2b] = F(x_b),
   * outputs[2b + 1] = F(base_b). spec = [L, d_0..d_L, activation codes 1..L] (MLP_ACTIVATIONS in
   * lib/backends/js/ig.ts); params = W_1 [d_1, d_0], b_1, W_2, b_2, ... (row-major, PyTorch
   * Linear layout). x, base and avgGrad are [batch, d_0]. float64.
   */
  igMlp(
    spec: Float64Array,
    params: Float64Array,
    batch: number,
    x: Float64Array,
    base: Float64Array,
    target: Int32Array,
    alphas: Float64Array,
    weights: Float64Array,
    avgGrad: Float64Array,
    outputs: Float64Array,
  ): void;
  /**
   * Adds the rows of x [m, n] to running statistics in place: count[0] samples so far, their
   * mean[n] and comoment[n, n] = sum (x_r - mean)(x_r - mean)^T (float64; Chan's update).
   * Non-finite features: E_RANGE with the statistics unchanged.
   */
  featureStats(m: number, n: number, x: FloatArray, count: Float64Array, mean: Float64Array, comoment: Float64Array): void;
  /**
   * Sector-probability Monte Carlo (native/core/sector.h): trial t = trialOffset + i (i < trials)
   * takes the angles w_j = word t n + j of the stream (integers in [0, 2^32), units of 2^-32
   * turn); hits[0] = the number of trials whose largest circular gap (sorted differences and the
   * wrap-around 2^32 - max + min) is >= threshold (an integer in [0, 2^32]). Exact integers: the
   * same count on every backend and thread count. n in [1, 1e6], (trialOffset + trials) n <= 2^53 - 1.
   */
  sectorMc(rng: Rng, n: number, trialOffset: number, trials: number, threshold: number, hits: Float64Array): void;
  /**
   * Training forward pass of the built-in MLP (spec and params as in igMlp) on x [batch, d_0].
   * acts receives, for each layer l = 1..L in order, the pre-activation z_l [batch, d_l] followed
   * by the activation a_l [batch, d_l] (length 2 batch (d_1 + ... + d_L)); the network's output is
   * the last block, a_L. float64.
   */
  mlpForward(spec: Float64Array, params: Float64Array, batch: number, x: Float64Array, acts: Float64Array): void;
  /**
   * Backward pass from mlpForward's acts: gradOut [batch, d_L] = dLoss/da_L. Writes gradParams
   * (the layout of params: dW_1, db_1, ...; summed over the batch rows in row order, so the bits
   * do not depend on threads) and, when gradX has batch d_0 elements, gradX = dLoss/dx (a
   * zero-length gradX skips it). softmax's backward is a_L * (g - sum(g a_L)) per row.
   */
  mlpBackward(spec: Float64Array, params: Float64Array, batch: number, x: Float64Array, acts: Float64Array, gradOut: Float64Array, gradParams: Float64Array, gradX: Float64Array): void;
  /**
   * One Adam(W) step in place on params, with m and v (same length) its moment estimates:
   * hyper = [lr, beta1, beta2, eps, weightDecay, bc1, bc2], where the caller computes the bias
   * corrections once per step, bc1 = 1 - beta1 ** t and bc2 = 1 - beta2 ** t (t = the 1-based step
   * number; no backend computes a power, so every backend gets the same bits). Per element, with
   * b1 = beta1 etc. and the updated m and v used in the last line:
   *   m = b1 * m + (1 - b1) * g;  v = b2 * v + (1 - b2) * (g * g);
   *   p = p - lr * (wd * p + (m / bc1) / (Math.sqrt(v / bc2) + eps)).
   * Elementwise in exactly this order, no FMA: bit-identical on every backend.
   */
  adam(params: Float64Array, grads: Float64Array, m: Float64Array, v: Float64Array, hyper: Float64Array): void;
}

/** sqrtm's methods, in the kernels' numbering (native/core/linalg.h SqrtmMethod). */
export const SQRTM_METHODS = ['eigh', 'newtonSchulz', 'denmanBeavers'] as const;

/**
 * One attention call: shapes, inputs, optional masks (each broadcast through 4 strides over
 * [B, H, Nq, Nk], 0 for a broadcast dimension), and the outputs to fill. Arrays are float32 or
 * float64 (all the same). headKinds[h] numbers the mask kind of head h (see MASK_KINDS).
 */
export interface AttentionInputs {
  B: number;
  H: number;
  Hkv: number;
  Nq: number;
  Nk: number;
  D: number;
  Dv: number;
  q: FloatArray;
  k: FloatArray;
  v: FloatArray;
  headKinds: Int32Array;
  keyLengths: Int32Array | null;
  mask: Uint8Array | null;
  maskStrides: number[];
  bias: FloatArray | null;
  biasStrides: number[];
  scale: number;
  /** Philox key/stream of the dropout on the probabilities, or null. */
  dropoutRng: Rng | null;
  /** ceil(p 2^24): probability (b, h, i, j) is kept when its word >>> 8 is at least this. */
  dropoutThreshold: number;
  /** 1 / (1 - p). */
  dropoutScale: number;
}

export interface AttentionArgs extends AttentionInputs {
  out: FloatArray;
  lse: FloatArray | null;
  probs: FloatArray | null;
}

export interface AttentionBackwardArgs extends AttentionInputs {
  dOut: FloatArray;
  dq: FloatArray;
  dk: FloatArray;
  dv: FloatArray;
}

export type OpName = keyof Kernels;

/** Promise forms, where the backend runs them off the event loop itself (the native addon). */
export type AsyncKernels = { [K in OpName]?: (...args: Parameters<Kernels[K]>) => Promise<void> };

export interface Backend {
  readonly name: BackendName;
  /** Fixed when the backend loads; checked on every op, so it must be cheap. */
  readonly available: boolean;
  /** The full description (reads device and thread information: for reporting). */
  info(): BackendInfo;
  readonly kernels: Partial<Kernels>;
  readonly asyncKernels?: AsyncKernels;
}

/**
 * Where each op's outputs are (the worker-thread path copies these back): an argument index, or
 * [argument index, property] for ops that take one arguments object.
 */
export type OutputPath = number | readonly [number, string];
export const OUTPUT_ARGS: { readonly [K in OpName]: readonly OutputPath[] } = {
  philox: [2],
  words: [2],
  uniform: [2],
  normal: [4],
  bernoulli: [3],
  dropout: [5, 6],
  mlmMask: [10, 11],
  maeMask: [4, 5, 6],
  dropTokens: [6, 7],
  expectedEmbedding: [8],
  attention: [
    [0, 'out'],
    [0, 'lse'],
    [0, 'probs'],
  ],
  attentionBackward: [
    [0, 'dq'],
    [0, 'dk'],
    [0, 'dv'],
  ],
  w2Trace: [3],
  cholesky: [3, 4],
  eigh: [3, 4],
  sqrtm: [3, 5],
  solve: [4, 5],
  featureStats: [3, 4, 5],
  gemm: [9],
  igMlp: [8, 9],
  sectorMc: [5],
  mlpForward: [4],
  mlpBackward: [6, 7],
  adam: [0, 2, 3],
};

/** The output arrays of a call's arguments, in OUTPUT_ARGS order (null where absent). */
export function outputsOf(op: OpName, args: readonly unknown[]): (ArrayBufferView | null)[] {
  return OUTPUT_ARGS[op].map((p) => {
    const v = typeof p === 'number' ? args[p] : (args[p[0]] as Record<string, unknown>)[p[1]];
    return (v ?? null) as ArrayBufferView | null;
  });
}

/** Every op of the kernel interface. */
export const OP_NAMES = Object.keys(OUTPUT_ARGS) as OpName[];
