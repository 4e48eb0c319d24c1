// A built-in attention block for integrated gradients: one multi-head self-attention layer plus an
// output projection, F(x) = the pooled projected output's target column. Forward and backward run
// on the library's own kernels (gemm for the projections, attention / attentionBackward in float64
// for the scores) on the chosen backend, batched over the path points.
import { KexueError } from '../errors.js';
import { Tensor, describe, type FloatArray } from '../tensor.js';
import { runOp } from '../backends/dispatch.js';
import type { BackendChoice } from '../backends/types.js';
import { attention, attentionBackward, type MaskKind } from './attention.js';
import type { ExternalModel } from './ig.js';

export interface AttentionBlockConfig {
  /** [H * dh, d] each (PyTorch Linear layout); biases [H * dh] optional */
  wq: Tensor;
  wk: Tensor;
  wv: Tensor;
  bq?: Tensor;
  bk?: Tensor;
  bv?: Tensor;
  /** output projection [c, H * dh], bias [c] optional */
  wo: Tensor;
  bo?: Tensor;
  heads: number;
  /** any mask kind of the attention op, or one per head (default 'none') */
  mask?: MaskKind | readonly MaskKind[];
  /** how the N token outputs become one: 'mean' (default) or a token index */
  pooling?: 'mean' | number;
  /** the backend the block's kernels run on (default: auto) */
  backend?: BackendChoice;
}

function f64(t: Tensor | undefined, shape: number[], what: string): Float64Array {
  const op = 'attentionBlock';
  if (t === undefined) return new Float64Array(shape.reduce((a, b) => a * b, 1));
  if (!(t instanceof Tensor) || (t.dtype !== 'float32' && t.dtype !== 'float64') || t.shape.join() !== shape.join())
    throw new KexueError('E_SHAPE', `${op}: ${what} must be a float Tensor [${shape.join(', ')}]; got ${describe(t)}`);
  const d = Float64Array.from(t.data as FloatArray);
  if (!d.every(Number.isFinite)) throw new KexueError('E_RANGE', `${op}: ${what} has non-finite entries`);
  return d;
}

/** The attention block as a model for integratedGradients (inputs [B, N, d]; target < c). */
export class AttentionBlock implements ExternalModel {
  readonly kind = 'attentionBlock';
  readonly d: number;
  readonly inner: number;
  readonly classes: number;
  readonly heads: number;
  readonly dh: number;
  readonly mask: MaskKind | readonly MaskKind[];
  readonly pooling: 'mean' | number;
  readonly backend?: BackendChoice;
  readonly #w: { q: Float64Array; k: Float64Array; v: Float64Array; bq: Float64Array; bk: Float64Array; bv: Float64Array; o: Float64Array; bo: Float64Array };

  constructor(c: AttentionBlockConfig) {
    const op = 'attentionBlock';
    if (c === null || typeof c !== 'object') throw new KexueError('E_ARG', `${op}: expected a configuration object; got ${describe(c)}`);
    if (!(c.wq instanceof Tensor) || c.wq.shape.length !== 2) throw new KexueError('E_SHAPE', `${op}: wq must be a Tensor [H * dh, d]; got ${describe(c.wq)}`);
    const [inner, d] = c.wq.shape;
    if (!Number.isInteger(c.heads) || c.heads < 1 || inner % c.heads !== 0)
      throw new KexueError('E_RANGE', `${op}: heads must be a positive integer dividing ${inner}; got ${describe(c.heads)}`);
    if (!(c.wo instanceof Tensor) || c.wo.shape.length !== 2 || c.wo.shape[1] !== inner)
      throw new KexueError('E_SHAPE', `${op}: wo must be a Tensor [c, ${inner}]; got ${describe(c.wo)}`);
    const classes = c.wo.shape[0];
    this.d = d;
    this.inner = inner;
    this.classes = classes;
    this.heads = c.heads;
    this.dh = inner / c.heads;
    this.mask = c.mask ?? 'none';
    this.pooling = c.pooling ?? 'mean';
    if (this.pooling !== 'mean' && !(Number.isInteger(this.pooling) && this.pooling >= 0))
      throw new KexueError('E_ARG', `${op}: pooling must be 'mean' or a token index; got ${describe(this.pooling)}`);
    this.backend = c.backend;
    this.#w = {
      q: f64(c.wq, [inner, d], 'wq'),
      k: f64(c.wk, [inner, d], 'wk'),
      v: f64(c.wv, [inner, d], 'wv'),
      bq: f64(c.bq, [inner], 'bq'),
      bk: f64(c.bk, [inner], 'bk'),
      bv: f64(c.bv, [inner], 'bv'),
      o: f64(c.wo, [classes, inner], 'wo'),
      bo: f64(c.bo, [classes], 'bo'),
    };
  }

  /** rows x W^T + b: [rows, out] from [rows, in] and W [out, in]. */
  #linear(x: Float64Array, rows: number, W: Float64Array, b: Float64Array, out: number, inp: number): Float64Array {
    const y = new Float64Array(rows * out);
    runOp('gemm', this.backend, [rows, out, inp, x, inp, false, W, inp, true, y, out, 1, 0]);
    for (let r = 0; r < rows; r++) for (let j = 0; j < out; j++) y[r * out + j] += b[j];
    return y;
  }

  /** [P * N, H * dh] <-> [P, H, N, dh] */
  #heads(a: Float64Array, P: number, N: number, toHeads: boolean): Float64Array {
    const { heads: H, dh } = this;
    const out = new Float64Array(a.length);
    for (let p = 0; p < P; p++)
      for (let n = 0; n < N; n++)
        for (let h = 0; h < H; h++)
          for (let e = 0; e < dh; e++) {
            const flat = ((p * N + n) * H + h) * dh + e;
            const split = ((p * H + h) * N + n) * dh + e;
            if (toHeads) out[split] = a[flat];
            else out[flat] = a[split];
          }
    return out;
  }

  #shape(points: Tensor): { P: number; N: number } {
    const s = points.shape;
    if (s.length !== 3 || s[2] !== this.d) throw new KexueError('E_SHAPE', `attentionBlock: inputs must be [B, N, ${this.d}]; got [${s.join(', ')}]`);
    if (this.pooling !== 'mean' && this.pooling >= s[1]) throw new KexueError('E_RANGE', `attentionBlock: pooling token ${this.pooling} is out of range for N = ${s[1]}`);
    return { P: s[0], N: s[1] };
  }

  #forward(points: Tensor<Float64Array>) {
    const { P, N } = this.#shape(points);
    const w = this.#w;
    const rows = P * N;
    const x = points.data;
    const sh = [P, this.heads, N, this.dh];
    const q = new Tensor(this.#heads(this.#linear(x, rows, w.q, w.bq, this.inner, this.d), P, N, true), sh);
    const k = new Tensor(this.#heads(this.#linear(x, rows, w.k, w.bk, this.inner, this.d), P, N, true), sh);
    const v = new Tensor(this.#heads(this.#linear(x, rows, w.v, w.bv, this.inner, this.d), P, N, true), sh);
    const o = attention(q, k, v, { mask: this.mask, backend: this.backend }).output;
    const y = this.#linear(this.#heads(o.data, P, N, false), rows, w.o, w.bo, this.classes, this.inner);
    return { P, N, q, k, v, y };
  }

  /** dF/dy[n, c] for each point: 1/N on the target column (mean pooling), or 1 at the pooled token. */
  #poolWeight(N: number, n: number): number {
    return this.pooling === 'mean' ? 1 / N : n === this.pooling ? 1 : 0;
  }

  #checkTargets(target: Int32Array): void {
    for (const t of target) if (t < 0 || t >= this.classes) throw new KexueError('E_RANGE', `attentionBlock: target ${t} is out of range [0, ${this.classes})`);
  }

  /** The weights packed as wq, bq, wk, bk, wv, bv, wo, bo (float64; the saved model's layout). */
  packedWeights(): Float64Array {
    const w = this.#w;
    const parts = [w.q, w.bq, w.k, w.bk, w.v, w.bv, w.o, w.bo];
    const out = new Float64Array(parts.reduce((a, p) => a + p.length, 0));
    let o = 0;
    for (const p of parts) out.set(p, o), (o += p.length);
    return out;
  }

  /** Called by integratedGradients before any path point: input shape and targets. */
  check(shape: readonly number[], target: Int32Array): void {
    this.#shape(new Tensor(new Float64Array(0), [0, ...shape.slice(1)]));
    this.#checkTargets(target);
  }

  output(points: Tensor<Float64Array>, target: Int32Array): Float64Array {
    this.#checkTargets(target);
    const { P, N, y } = this.#forward(points);
    const F = new Float64Array(P);
    for (let p = 0; p < P; p++) for (let n = 0; n < N; n++) F[p] += this.#poolWeight(N, n) * y[(p * N + n) * this.classes + target[p]];
    return F;
  }

  gradient(points: Tensor<Float64Array>, target: Int32Array): Float64Array {
    this.#checkTargets(target);
    const { P, N, q, k, v } = this.#forward(points);
    const w = this.#w;
    const rows = P * N;
    // dO = dY Wo, dY[p, n, :] = poolWeight(n) e_target(p)
    const dO = new Float64Array(rows * this.inner);
    for (let p = 0; p < P; p++)
      for (let n = 0; n < N; n++) {
        const s = this.#poolWeight(N, n);
        if (s === 0) continue;
        const wrow = w.o.subarray(target[p] * this.inner, (target[p] + 1) * this.inner);
        for (let j = 0; j < this.inner; j++) dO[(p * N + n) * this.inner + j] = s * wrow[j];
      }
    const g = attentionBackward(q, k, v, new Tensor(this.#heads(dO, P, N, true), q.shape as number[]), { mask: this.mask, backend: this.backend });
    // dX = dQ Wq + dK Wk + dV Wv
    const dX = new Float64Array(rows * this.d);
    const parts: [Float64Array, Float64Array][] = [
      [this.#heads(g.dq.data as Float64Array, P, N, false), w.q],
      [this.#heads(g.dk.data as Float64Array, P, N, false), w.k],
      [this.#heads(g.dv.data as Float64Array, P, N, false), w.v],
    ];
    parts.forEach(([dz, W], i) => runOp('gemm', this.backend, [rows, this.d, this.inner, dz, this.inner, false, W, this.d, false, dX, this.d, 1, i === 0 ? 0 : 1]));
    return dX;
  }
}

/** The inverse of packedWeights: a block from its sizes, options and packed weights. */
export function attentionBlockFromPacked(
  sizes: { d: number; inner: number; classes: number; heads: number },
  rest: { mask?: MaskKind | readonly MaskKind[]; pooling?: 'mean' | number },
  p: Float64Array,
): AttentionBlock {
  const { d, inner, classes, heads } = sizes;
  const want = 3 * (inner * d + inner) + classes * inner + classes;
  if (p.length !== want) throw new KexueError('E_SHAPE', `attentionBlock: ${p.length} packed weights; the sizes need ${want}`);
  let o = 0;
  const take = (shape: number[]) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const t = new Tensor(p.slice(o, o + n), shape);
    o += n;
    return t;
  };
  const wq = take([inner, d]), bq = take([inner]), wk = take([inner, d]), bk = take([inner]), wv = take([inner, d]), bv = take([inner]);
  const wo = take([classes, inner]), bo = take([classes]);
  return new AttentionBlock({ wq, bq, wk, bk, wv, bv, wo, bo, heads, ...rest });
}

/** One self-attention layer plus an output projection, as a model for integratedGradients. */
export function attentionBlock(config: AttentionBlockConfig): AttentionBlock {
  return new AttentionBlock(config);
}
