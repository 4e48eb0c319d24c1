// The WebAssembly backend: the native/core kernels compiled to wasm32 with SIMD128
// (native/wasm/kexue.wasm, committed, so installing kexue needs no toolchain). Single-threaded;
// its Promise forms run in a worker thread (lib/backends/worker.ts).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { KexueError, type ErrorCode } from '../errors.js';
import type { FloatArray } from '../tensor.js';
import { OP_NAMES, type AttentionArgs, type AttentionBackwardArgs, type AttentionInputs, type Backend, type Kernels, type Rng } from './types.js';

// The few WebAssembly API types used here (TypeScript ships them only with the DOM library).
declare const WebAssembly: {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
};

interface WasmExports {
  memory: { buffer: ArrayBuffer };
  _initialize(): void;
  kx_alloc(bytes: number): number;
  kx_free(ptr: number): void;
  kx_isa(): number;
  kx_bad_index(): number;
  kx_philox(ctr: number, key: number, out: number): void;
  kx_words(rng: number, offset: number, n: number, out: number): number;
  kx_uniform_f32(rng: number, offset: number, n: number, out: number): number;
  kx_uniform_f64(rng: number, offset: number, n: number, out: number): number;
  kx_normal_f32(rng: number, offset: number, n: number, mean: number, std: number, out: number): number;
  kx_normal_f64(rng: number, offset: number, n: number, mean: number, std: number, out: number): number;
  kx_bernoulli(rng: number, offset: number, n: number, thr: number, out: number): number;
  kx_dropout_f32(rng: number, offset: number, n: number, thr: number, scale: number, x: number, out: number, mask: number): number;
  kx_dropout_f64(rng: number, offset: number, n: number, thr: number, scale: number, x: number, out: number, mask: number): number;
  kx_mlm(...args: number[]): number;
  kx_mae(rng: number, batch: number, tokens: number, keep: number, idsKeep: number, idsRestore: number, mask: number): number;
  kx_drop_tokens_f32(rng: number, batch: number, tokens: number, dim: number, keep: number, x: number, out: number, pos: number): number;
  kx_drop_tokens_f64(rng: number, batch: number, tokens: number, dim: number, keep: number, x: number, out: number, pos: number): number;
  kx_expected_embedding_f32(vocab: number, dim: number, special: number, maskId: number, a: number, b: number, c: number, table: number, out: number): number;
  kx_expected_embedding_f64(vocab: number, dim: number, special: number, maskId: number, a: number, b: number, c: number, table: number, out: number): number;
  kx_attention(header: number, f64: number): number;
  kx_w2_trace(n: number, s1: number, s2: number, out: number): number;
  kx_attention_backward(header: number, f64: number): number;
  kx_cholesky_batch(count: number, n: number, a: number, L: number, info: number): number;
  kx_eigh(count: number, n: number, a: number, values: number, vectors: number): number;
  kx_sqrtm(count: number, n: number, a: number, x: number, params: number, info: number): number;
  kx_solve(n: number, m: number, a: number, b: number, x: number, info: number): number;
  kx_gemm(h: number): number;
  kx_feature_stats(m: number, n: number, x: number, f32: number, count: number, mean: number, comoment: number): number;
  kx_ig_mlp(spec: number, specLen: number, params: number, paramsLen: number, batch: number, x: number, base: number, target: number, steps: number, alphas: number, weights: number, avgGrad: number, outputs: number): number;
  kx_sector_mc(rng: number, n: number, trialOffset: number, trials: number, threshold: number, hits: number): number;
  kx_mlp_forward(spec: number, specLen: number, params: number, paramsLen: number, batch: number, x: number, xLen: number, acts: number, actsLen: number): number;
  kx_mlp_backward(...args: number[]): number;
  kx_adam(n: number, params: number, grads: number, m: number, v: number, hyper: number, hyperLen: number): number;
}

const STATUS: Record<number, ErrorCode> = { 1: 'E_RANGE', 2: 'E_SHAPE', 3: 'E_DTYPE', 4: 'E_OOM', 5: 'E_BACKEND', 6: 'E_INTERNAL', 7: 'E_NOT_SPD', 8: 'E_NO_CONVERGENCE' };
/** Elements per call of the elementwise kernels: bounds the module's memory for any tensor size. */
const CHUNK = 1 << 20;

export const WASM_PATH = fileURLToPath(new URL('../../native/wasm/kexue.wasm', import.meta.url));

/** SIMD128 feature test: validate a tiny module that uses a v128 (as tfjs-backend-wasm does). */
function simdSupported(): boolean {
  // (module (func (result v128) (v128.const i32x4 0 0 0 0)))
  const bytes = new Uint8Array([
    0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 22, 1, 20, 0, 253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 11,
  ]);
  return WebAssembly.validate(bytes);
}

class WasmKernels implements Partial<Kernels> {
  constructor(private readonly ex: WasmExports) {}

  private alloc(bytes: number): number {
    const p = this.ex.kx_alloc(bytes);
    if (p === 0) throw new KexueError('E_OOM', `wasm backend: cannot allocate ${bytes} bytes in the module's memory (4 GiB at most)`);
    return p;
  }

  /** Allocates len(arrays) regions, copies the inputs (true, 'inout') in, runs fn, copies the outputs (false, 'inout') back, frees. */
  /** copyOnError: copy the outputs back even when the kernel fails (w2Trace reports the failing pivot there). */
  private run(arrays: (ArrayBufferView | null)[], inputs: (boolean | 'inout')[], fn: (ptrs: number[]) => number, what: string, copyOnError = false): void {
    const ptrs: number[] = [];
    try {
      for (const a of arrays) ptrs.push(a ? this.alloc(a.byteLength) : 0);
      const heap = () => new Uint8Array(this.ex.memory.buffer);
      arrays.forEach((a, i) => {
        if (a && inputs[i] !== false) heap().set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), ptrs[i]);
      });
      const status = fn(ptrs);
      const copyBack = () => {
        const h = heap();
        arrays.forEach((a, i) => {
          if (a && inputs[i] !== true) new Uint8Array(a.buffer, a.byteOffset, a.byteLength).set(h.subarray(ptrs[i], ptrs[i] + a.byteLength));
        });
      };
      if (status !== 0 && copyOnError) copyBack();
      if (status !== 0) {
        let msg = `${what} failed (${STATUS[status] ?? status})`;
        if (what === 'mlmMask' && status === 1 && this.ex.kx_bad_index() >= 0) msg = `${what}: ids[${this.ex.kx_bad_index()}] is out of range`;
        throw new KexueError(STATUS[status] ?? 'E_INTERNAL', `wasm backend: ${msg}`);
      }
      copyBack();
    } finally {
      for (const p of ptrs) if (p) this.ex.kx_free(p);
    }
  }

  /** Runs an elementwise kernel over [0, n) in chunks; slice(a, b) gives the chunk's arrays. */
  private chunks(n: number, fn: (begin: number, end: number) => void): void {
    for (let b = 0; b < n; b += CHUNK) fn(b, Math.min(n, b + CHUNK));
  }

  philox(counter: Uint32Array, key: Uint32Array, out: Uint32Array): void {
    this.run([counter, key, out], [true, true, false], ([c, k, o]) => (this.ex.kx_philox(c, k, o), 0), 'philox');
  }

  words(rng: Rng, offset: number, out: Uint32Array): void {
    this.chunks(out.length, (b, e) =>
      this.run([rng, out.subarray(b, e)], [true, false], ([r, o]) => this.ex.kx_words(r, offset + b, e - b, o), 'words'),
    );
  }

  uniform(rng: Rng, offset: number, out: FloatArray): void {
    const f = out instanceof Float64Array ? this.ex.kx_uniform_f64 : this.ex.kx_uniform_f32;
    this.chunks(out.length, (b, e) => this.run([rng, out.subarray(b, e)], [true, false], ([r, o]) => f(r, offset + b, e - b, o), 'uniform'));
  }

  normal(rng: Rng, offset: number, mean: number, std: number, out: FloatArray): void {
    const f = out instanceof Float64Array ? this.ex.kx_normal_f64 : this.ex.kx_normal_f32;
    this.chunks(out.length, (b, e) =>
      this.run([rng, out.subarray(b, e)], [true, false], ([r, o]) => f(r, offset + b, e - b, mean, std, o), 'normal'),
    );
  }

  bernoulli(rng: Rng, offset: number, threshold: number, out: Uint8Array): void {
    this.chunks(out.length, (b, e) =>
      this.run([rng, out.subarray(b, e)], [true, false], ([r, o]) => this.ex.kx_bernoulli(r, offset + b, e - b, threshold, o), 'bernoulli'),
    );
  }

  dropout(rng: Rng, offset: number, threshold: number, scale: number, x: FloatArray, out: FloatArray, mask: Uint8Array | null): void {
    const f = x instanceof Float64Array ? this.ex.kx_dropout_f64 : this.ex.kx_dropout_f32;
    this.chunks(x.length, (b, e) =>
      this.run(
        [rng, x.subarray(b, e), out.subarray(b, e), mask ? mask.subarray(b, e) : null],
        [true, true, false, false],
        ([r, xp, o, m]) => f(r, offset + b, e - b, threshold, scale, xp, o, m),
        'dropout',
      ),
    );
  }

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
  ): void {
    this.chunks(ids.length, (b, e) =>
      this.run(
        [rng, ids.subarray(b, e), special, candidates, inputIds.subarray(b, e), labels.subarray(b, e)],
        [true, true, true, true, false, false],
        ([r, i, s, c, io, lo]) =>
          this.ex.kx_mlm(r, offset + b, e - b, i, s, special.length, c, candidates.length, maskTokenId, selectThreshold, maskThreshold, randomThreshold, ignoreIndex, io, lo),
        'mlmMask',
      ),
    );
  }

  maeMask(rng: Rng, batch: number, tokens: number, keep: number, idsKeep: Int32Array, idsRestore: Int32Array, mask: Uint8Array): void {
    this.run([rng, idsKeep, idsRestore, mask], [true, false, false, false], ([r, k, rs, m]) => this.ex.kx_mae(r, batch, tokens, keep, k, rs, m), 'maeMask');
  }

  dropTokens(rng: Rng, batch: number, tokens: number, dim: number, keep: number, x: FloatArray, out: FloatArray, positions: Int32Array): void {
    const f = x instanceof Float64Array ? this.ex.kx_drop_tokens_f64 : this.ex.kx_drop_tokens_f32;
    this.run([rng, x, out, positions], [true, true, false, false], ([r, xp, o, p]) => f(r, batch, tokens, dim, keep, xp, o, p), 'dropTokens');
  }

  attention(a: AttentionArgs): void {
    this.runAttention(a, [a.out, a.lse, a.probs], (h, ptrs) => {
      h.set([ptrs[0], ptrs[1], ptrs[2]], 27);
      return this.ex.kx_attention;
    }, 'attention');
  }

  attentionBackward(a: AttentionBackwardArgs): void {
    this.runAttention(a, [a.dOut, a.dq, a.dk, a.dv], (h, ptrs) => {
      h.set(ptrs, 27);
      return this.ex.kx_attention_backward;
    }, 'attentionBackward');
  }

  /** Lays out the inputs, the header of doubles (native/wasm/exports.cc) and `extra` (dOut first when it is an input). */
  private runAttention(
    a: AttentionInputs,
    extra: (FloatArray | null)[],
    finish: (header: Float64Array, extraPtrs: number[]) => (header: number, f64: number) => number,
    what: string,
  ): void {
    const inputs: (ArrayBufferView | null)[] = [a.q, a.k, a.v, a.headKinds, a.keyLengths, a.mask, a.bias, a.dropoutRng];
    const header = new Float64Array(32);
    const isInput = [...inputs.map(() => true), true, ...extra.map((_, i) => what === 'attentionBackward' && i === 0)];
    const arrays = [...inputs, header, ...extra];
    const n = inputs.length;
    this.run(arrays, isInput, (ptrs) => {
      header.set([a.B, a.H, a.Hkv, a.Nq, a.Nk, a.D, a.Dv, ptrs[0], ptrs[1], ptrs[2], ptrs[3], ptrs[4], ptrs[5]]);
      header.set(a.maskStrides, 13);
      header[17] = ptrs[6];
      header.set(a.biasStrides, 18);
      header.set([a.scale, a.dropoutRng ? 1 : 0, ptrs[7], a.dropoutThreshold, a.dropoutScale], 22);
      const f = finish(header, ptrs.slice(n + 1));
      new Uint8Array(this.ex.memory.buffer).set(new Uint8Array(header.buffer), ptrs[n]);
      return f(ptrs[n], a.q instanceof Float64Array ? 1 : 0);
    }, what);
  }

  w2Trace(n: number, s1: Float64Array, s2: Float64Array, out: Float64Array): void {
    // E_RANGE with out[1] >= 0 means S1 is not positive definite: the caller takes the eigh route.
    this.run([s1, s2, out], [true, true, false], ([a, b, o]) => this.ex.kx_w2_trace(n, a, b, o), 'w2Trace', true);
  }

  cholesky(count: number, n: number, a: Float64Array, L: Float64Array, info: Float64Array): void {
    this.run([a, L, info], [true, false, false], ([ap, lp, ip]) => this.ex.kx_cholesky_batch(count, n, ap, lp, ip), 'cholesky');
  }

  eigh(count: number, n: number, a: Float64Array, values: Float64Array, vectors: Float64Array | null): void {
    this.run([a, values, vectors], [true, false, false], ([ap, wp, vp]) => this.ex.kx_eigh(count, n, ap, wp, vp), 'eigh');
  }

  sqrtm(count: number, n: number, a: FloatArray, x: FloatArray, params: Float64Array, info: Float64Array): void {
    // float32 runs in float64 (the module has one float64 path) and rounds.
    const a64 = a instanceof Float64Array ? a : Float64Array.from(a);
    const x64 = x instanceof Float64Array ? x : new Float64Array(x.length);
    this.run([a64, x64, params, info], [true, false, true, false], ([ap, xp, pp, ip]) => this.ex.kx_sqrtm(count, n, ap, xp, pp, ip), 'sqrtm');
    if (x64 !== x) x.set(x64);
  }

  solve(n: number, m: number, a: Float64Array, b: Float64Array, x: Float64Array, info: Float64Array): void {
    // The module factors its copy of a in place.
    this.run([a, b, x, info], [true, true, false, false], ([ap, bp, xp, ip]) => this.ex.kx_solve(n, m, ap, bp, xp, ip), 'solve');
  }

  gemm(m: number, n: number, k: number, a: Float64Array, lda: number, transA: boolean, b: Float64Array, ldb: number, transB: boolean, c: Float64Array, ldc: number, alpha: number, beta: number): void {
    const h = new Float64Array([m, n, k, 0, lda, transA ? 1 : 0, 0, ldb, transB ? 1 : 0, 0, ldc, alpha, beta]);
    this.run([a, b, c, h], [true, true, beta !== 0 ? 'inout' : false, true], ([ap, bp, cp, hp]) => {
      h[3] = ap, h[6] = bp, h[9] = cp;
      new Float64Array(this.ex.memory.buffer, hp, 13).set(h);
      return this.ex.kx_gemm(hp);
    }, 'gemm');
  }

  featureStats(m: number, n: number, x: FloatArray, count: Float64Array, mean: Float64Array, comoment: Float64Array): void {
    this.run([x, count, mean, comoment], [true, 'inout', 'inout', 'inout'], ([xp, kp, mp, cp]) => this.ex.kx_feature_stats(m, n, xp, x instanceof Float32Array ? 1 : 0, kp, mp, cp), 'featureStats');
  }

  igMlp(spec: Float64Array, params: Float64Array, batch: number, x: Float64Array, base: Float64Array, target: Int32Array, alphas: Float64Array, weights: Float64Array, avgGrad: Float64Array, outputs: Float64Array): void {
    // The module checks the spec and params' length; the other lengths follow from d_0 = spec[1].
    const d0 = spec.length >= 2 ? spec[1] : 0;
    const bad = (what: string, len: number, want: number) => {
      if (len !== want) throw new KexueError('E_SHAPE', `wasm backend: igMlp: ${what} has ${len} elements, expected ${want}`);
    };
    if (!Number.isSafeInteger(batch) || batch < 0) throw new KexueError('E_RANGE', `wasm backend: igMlp: batch must be a non-negative integer (got ${batch})`);
    if (alphas.length < 1) throw new KexueError('E_SHAPE', 'wasm backend: igMlp: alphas must have at least one element');
    bad('weights', weights.length, alphas.length);
    bad('target', target.length, batch);
    bad('outputs', outputs.length, 2 * batch);
    if (Number.isSafeInteger(d0) && d0 >= 1) {
      bad('x', x.length, batch * d0);
      bad('base', base.length, batch * d0);
      bad('avgGrad', avgGrad.length, batch * d0);
    }
    this.run(
      [spec, params, x, base, target, alphas, weights, avgGrad, outputs],
      [true, true, true, true, true, true, true, false, false],
      ([sp, pp, xp, bp, tp, ap, wp, gp, op]) => this.ex.kx_ig_mlp(sp, spec.length, pp, params.length, batch, xp, bp, tp, alphas.length, ap, wp, gp, op),
      'igMlp',
    );
  }

  sectorMc(rng: Rng, n: number, trialOffset: number, trials: number, threshold: number, hits: Float64Array): void {
    // Integers travel as doubles (a non-integer would trap in the module's conversion); the module checks the ranges.
    for (const [what, v] of [['n', n], ['trialOffset', trialOffset], ['trials', trials]] as const)
      if (!Number.isSafeInteger(v)) throw new KexueError('E_RANGE', `wasm backend: sectorMc: ${what} must be a safe integer (got ${v})`);
    if (hits.length < 1) throw new KexueError('E_SHAPE', 'wasm backend: sectorMc: hits must have at least one element');
    this.run([rng, hits], [true, 'inout'], ([r, h]) => this.ex.kx_sector_mc(r, n, trialOffset, trials, threshold, h), 'sectorMc');
  }

  /** d_0, d_L and 2 (d_1 + ... + d_L) of a spec that looks valid (the module checks it fully), else null. */
  private static mlpSizes(spec: Float64Array): { d0: number; dL: number; sum2: number } | null {
    const L = spec[0];
    if (!Number.isSafeInteger(L) || L < 1 || spec.length !== 2 * L + 2) return null;
    let sum2 = 0;
    for (let l = 1; l <= L; l++) sum2 += 2 * spec[1 + l];
    return Number.isSafeInteger(spec[1]) && Number.isSafeInteger(spec[1 + L]) && Number.isSafeInteger(sum2) ? { d0: spec[1], dL: spec[1 + L], sum2 } : null;
  }

  private static mlpLength(op: string, what: string, len: number, want: number, expr: string): void {
    if (len !== want) throw new KexueError('E_SHAPE', `wasm backend: ${op}: ${what} has ${len} elements, expected ${expr} = ${want}`);
  }

  mlpForward(spec: Float64Array, params: Float64Array, batch: number, x: Float64Array, acts: Float64Array): void {
    if (!Number.isSafeInteger(batch) || batch < 0) throw new KexueError('E_RANGE', `wasm backend: mlpForward: batch must be a non-negative integer (got ${batch})`);
    const z = WasmKernels.mlpSizes(spec);
    if (z) {
      WasmKernels.mlpLength('mlpForward', 'x', x.length, batch * z.d0, 'batch * d_0');
      WasmKernels.mlpLength('mlpForward', 'acts', acts.length, batch * z.sum2, '2 batch (d_1 + ... + d_L)');
    }
    this.run(
      [spec, params, x, acts],
      [true, true, true, false],
      ([sp, pp, xp, ap]) => this.ex.kx_mlp_forward(sp, spec.length, pp, params.length, batch, xp, x.length, ap, acts.length),
      'mlpForward',
    );
  }

  mlpBackward(spec: Float64Array, params: Float64Array, batch: number, x: Float64Array, acts: Float64Array, gradOut: Float64Array, gradParams: Float64Array, gradX: Float64Array): void {
    const op = 'mlpBackward';
    if (!Number.isSafeInteger(batch) || batch < 0) throw new KexueError('E_RANGE', `wasm backend: ${op}: batch must be a non-negative integer (got ${batch})`);
    const z = WasmKernels.mlpSizes(spec);
    if (z) {
      WasmKernels.mlpLength(op, 'x', x.length, batch * z.d0, 'batch * d_0');
      WasmKernels.mlpLength(op, 'acts', acts.length, batch * z.sum2, '2 batch (d_1 + ... + d_L)');
      WasmKernels.mlpLength(op, 'gradOut', gradOut.length, batch * z.dL, 'batch * d_L');
      if (gradX.length !== 0) WasmKernels.mlpLength(op, 'gradX', gradX.length, batch * z.d0, '0 or batch * d_0');
    }
    WasmKernels.mlpLength(op, 'gradParams', gradParams.length, params.length, 'params.length');
    const gx = gradX.length > 0 ? gradX : null;
    this.run(
      [spec, params, x, acts, gradOut, gradParams, gx],
      [true, true, true, true, true, false, false],
      ([sp, pp, xp, ap, gop, gpp, gxp]) =>
        this.ex.kx_mlp_backward(sp, spec.length, pp, params.length, batch, xp, x.length, ap, acts.length, gop, gradOut.length, gpp, gradParams.length, gxp, gradX.length),
      op,
    );
  }

  adam(params: Float64Array, grads: Float64Array, m: Float64Array, v: Float64Array, hyper: Float64Array): void {
    const n = params.length;
    for (const [what, a] of [['grads', grads], ['m', m], ['v', v]] as const) WasmKernels.mlpLength('adam', what, a.length, n, 'params.length');
    WasmKernels.mlpLength('adam', 'hyper', hyper.length, 7, '[lr, beta1, beta2, eps, weightDecay, bc1, bc2].length');
    this.chunks(n, (b, e) =>
      this.run(
        [params.subarray(b, e), grads.subarray(b, e), m.subarray(b, e), v.subarray(b, e), hyper],
        ['inout', true, 'inout', 'inout', true],
        ([pp, gp, mp, vp, hp]) => this.ex.kx_adam(e - b, pp, gp, mp, vp, hp, hyper.length),
        'adam',
      ),
    );
  }

  expectedEmbedding(vocab: number, dim: number, special: Uint8Array, maskTokenId: number, a: number, b: number, c: number, table: FloatArray, out: FloatArray): void {
    const f = table instanceof Float64Array ? this.ex.kx_expected_embedding_f64 : this.ex.kx_expected_embedding_f32;
    this.run([special, table, out], [true, true, false], ([s, t, o]) => f(vocab, dim, s, maskTokenId, a, b, c, t, o), 'expectedEmbedding');
  }
}

/** Loads the committed module; on failure the backend reports why it is unavailable. */
export function createWasmBackend(): Backend {
  let kernels: Partial<Kernels> = {};
  let reason: string | undefined;
  try {
    if (!simdSupported()) throw new Error('this JavaScript engine has no WebAssembly SIMD128');
    const module = new WebAssembly.Module(readFileSync(WASM_PATH));
    const instance = new WebAssembly.Instance(module, {});
    const ex = instance.exports as unknown as WasmExports;
    ex._initialize();
    const k = new WasmKernels(ex);
    // Bound, so a kernel can be called as a plain function.
    for (const name of OP_NAMES) {
      const f = (k as Partial<Kernels>)[name] as ((...a: unknown[]) => void) | undefined;
      if (f) (kernels as Record<string, unknown>)[name] = f.bind(k);
    }
  } catch (e) {
    reason = `could not load ${WASM_PATH}: ${(e as Error).message}`;
  }
  const ops = Object.keys(kernels);
  return {
    name: 'wasm',
    available: reason === undefined,
    kernels,
    info: () => ({
      name: 'wasm',
      available: reason === undefined,
      ...(reason ? { reason } : {}),
      simd: 'wasm-simd128',
      threads: 1,
      device: `WebAssembly (V8 ${process.versions.v8})`,
      ops,
    }),
  };
}
