// GAN-QP and BiGAN-QP losses (techniques.md section 5): the quadratic-potential critic objective,
// the generator objective and BiGAN-QP's reconstruction terms, batched, with their gradients with
// respect to the networks' outputs (the critic's scores, the reconstructions), so any network -
// the built-in MLP through mlpBackward, or another framework - can be trained with them. Plain
// float64 loops: O(batch x dim) work that no kernel would speed up.
import { KexueError } from '../errors.js';
import { Tensor, describe } from '../tensor.js';

type Vec = Float64Array | Float32Array | Tensor | ArrayLike<number>;

export type GanQpNorm = 'l1' | 'l2';

/** A float64 copy of a numeric argument (plain arrays: numbers only), every entry finite. */
function vec(v: unknown, what: string, op: string): Float64Array {
  let src: ArrayLike<number> | undefined;
  if (Array.isArray(v))
    v.forEach((x, i) => {
      if (typeof x !== 'number') throw new KexueError('E_DTYPE', `${op}: ${what}[${i}] must be a number; got ${describe(x)}`);
    });
  if (v instanceof Tensor) src = v.data as ArrayLike<number>;
  else if (Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView) && !(v instanceof BigInt64Array) && !(v instanceof BigUint64Array))) src = v as ArrayLike<number>;
  if (src === undefined) throw new KexueError('E_DTYPE', `${op}: ${what} must be a Float64Array, Float32Array, number[] or Tensor; got ${describe(v)}`);
  const out = Float64Array.from(src);
  for (let i = 0; i < out.length; i++) if (!Number.isFinite(out[i])) throw new KexueError('E_RANGE', `${op}: ${what} has a non-finite entry (${out[i]}) at index ${i}`);
  return out;
}

/**
 * A Tensor argument holds rows of `cols` values: rank 1 (flat, like a typed array) or [rows, cols]
 * ([2, 3] is 2 rows of 3, never read as 3 rows of 2). Typed arrays and plain arrays are flat.
 */
function checkRows(v: unknown, cols: number, what: string, colsName: string, op: string): void {
  if (v instanceof Tensor && v.rank !== 1 && (v.rank !== 2 || v.shape[1] !== cols))
    throw new KexueError('E_SHAPE', `${op}: ${what} must be flat or [rows, ${colsName}] = [rows, ${cols}]; got a Tensor [${v.shape.join(', ')}]`);
}

/** Scores ([B] or [B, 1] Tensors, or flat arrays), each checked by checkRows. */
function scores(vs: [unknown, string][], op: string): Float64Array[] {
  return vs.map(([v, what]) => {
    checkRows(v, 1, what, 'one score', op);
    return vec(v, what, op);
  });
}

function positive(v: unknown, what: string, op: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new KexueError('E_RANGE', `${op}: ${what} must be a finite number > 0; got ${describe(v)}`);
  return v;
}

function nonNegative(v: unknown, what: string, op: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new KexueError('E_RANGE', `${op}: ${what} must be a finite number >= 0; got ${describe(v)}`);
  return v;
}

function sameLength(a: Float64Array, b: Float64Array, what: string, op: string): number {
  if (a.length !== b.length) throw new KexueError('E_SHAPE', `${op}: ${what} must have the same length; got ${a.length} and ${b.length}`);
  if (a.length === 0) throw new KexueError('E_SHAPE', `${op}: ${what} must not be empty`);
  return a.length;
}

/** The loss and its gradients with respect to the critic's scores on real and fake samples ([batch] each). */
export interface GanQpLoss {
  loss: number;
  gradReal: Float64Array;
  gradFake: Float64Array;
}

export interface DistanceOptions {
  /** The length of one sample (rows of dim numbers). */
  dim: number;
  /** 'l2' (default): Euclidean norm of the difference; 'l1': sum of absolute differences. */
  norm?: GanQpNorm;
}

export interface CriticLossOptions {
  /** lambda > 0 (the article scales it with the data dimension). */
  lambda: number;
  /** d below eps is replaced by eps (default 1e-12); see ganQp.criticLoss. */
  eps?: number;
}

function distanceRows(a: Float64Array, b: Float64Array, dim: number, norm: GanQpNorm): Float64Array {
  const batch = a.length / dim;
  const d = new Float64Array(batch);
  for (let r = 0; r < batch; r++) {
    let s = 0;
    for (let k = r * dim; k < (r + 1) * dim; k++) {
      const e = a[k] - b[k];
      s += norm === 'l1' ? Math.abs(e) : e * e;
    }
    d[r] = norm === 'l1' ? s : Math.sqrt(s);
  }
  return d;
}

function normOpt(v: unknown, op: string): GanQpNorm {
  const n = v ?? 'l2';
  if (n !== 'l1' && n !== 'l2') throw new KexueError('E_ARG', `${op}: norm must be 'l1' or 'l2'; got ${describe(v)}`);
  return n;
}

function dimOpt(v: unknown, total: number, what: string, op: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new KexueError('E_RANGE', `${op}: ${what} must be a positive integer; got ${describe(v)}`);
  if (total % v !== 0) throw new KexueError('E_SHAPE', `${op}: ${total} values are not rows of ${what} = ${v}`);
  return v;
}

/**
 * The critic objective as a loss to minimise, L = -mean_b [ dT_b - dT_b^2 / (2 lambda d_b) ] with
 * dT = tReal - tFake, and its gradients dL/dtReal_b = -(1 - dT_b / (lambda d_b)) / B,
 * dL/dtFake_b = -dL/dtReal_b. d_b below eps is taken as eps: for a single critic d_b = 0 means
 * identical samples and so dT_b = 0, where the term is 0 either way; for a pair critic the
 * penalty stays large (its limit as d -> 0), never silently dropped.
 */
function criticTerms(tReal: Float64Array, tFake: Float64Array, dist: Float64Array, lambda: number, eps: number): GanQpLoss {
  const B = tReal.length;
  const gradReal = new Float64Array(B), gradFake = new Float64Array(B);
  let s = 0;
  for (let b = 0; b < B; b++) {
    const dT = tReal[b] - tFake[b];
    const ld = lambda * Math.max(dist[b], eps);
    s += dT - (dT * dT) / (2 * ld);
    const g = -(1 - dT / ld) / B;
    gradReal[b] = g;
    gradFake[b] = -g;
  }
  return { loss: -s / B, gradReal, gradFake };
}

function generatorTerms(tReal: Float64Array, tFake: Float64Array): GanQpLoss {
  const B = tReal.length;
  let s = 0;
  for (let b = 0; b < B; b++) s += tReal[b] - tFake[b];
  return { loss: s / B, gradReal: new Float64Array(B).fill(1 / B), gradFake: new Float64Array(B).fill(-1 / B) };
}

/** GAN-QP (Su, 2018): the losses of the critic T and the generator, batched. */
export const ganQp = {
  /** d(xReal_b, xFake_b) for each row b of dim numbers: the L2 (default) or L1 norm of the difference. */
  distance(xReal: Vec, xFake: Vec, opts: DistanceOptions): Float64Array {
    const op = 'ganQp.distance';
    const a = vec(xReal, 'xReal', op), b = vec(xFake, 'xFake', op);
    sameLength(a, b, 'xReal and xFake', op);
    if (opts === null || typeof opts !== 'object') throw new KexueError('E_ARG', `${op}: options { dim, norm? } are required; got ${describe(opts)}`);
    const dim = dimOpt(opts.dim, a.length, 'dim', op);
    checkRows(xReal, dim, 'xReal', 'dim', op);
    checkRows(xFake, dim, 'xFake', 'dim', op);
    return distanceRows(a, b, dim, normOpt(opts.norm, op));
  },

  /**
   * The critic's loss (it MINIMISES this): -mean [ dT - dT^2 / (2 lambda d) ], dT = tReal - tFake,
   * d = ganQp.distance of the pair; gradients with respect to tReal and tFake per batch element.
   * d below opts.eps (default 1e-12) counts as eps (for a single critic d = 0 forces dT = 0).
   */
  criticLoss(tReal: Vec, tFake: Vec, dist: Vec, opts: CriticLossOptions): GanQpLoss {
    const op = 'ganQp.criticLoss';
    const [r, f, d] = scores([[tReal, 'tReal'], [tFake, 'tFake'], [dist, 'dist']], op);
    sameLength(r, f, 'tReal and tFake', op);
    sameLength(r, d, 'tReal and dist', op);
    if (d.some((v) => v < 0)) throw new KexueError('E_RANGE', `${op}: dist must be >= 0 (a norm)`);
    if (opts === null || typeof opts !== 'object') throw new KexueError('E_ARG', `${op}: options { lambda } are required; got ${describe(opts)}`);
    return criticTerms(r, f, d, positive(opts.lambda, 'lambda', op), positive(opts.eps ?? 1e-12, 'eps', op));
  },

  /** The generator's loss, mean(tReal - tFake) (minimised): gradients 1/B and -1/B. */
  generatorLoss(tReal: Vec, tFake: Vec): GanQpLoss {
    const op = 'ganQp.generatorLoss';
    const [r, f] = scores([[tReal, 'tReal'], [tFake, 'tFake']], op);
    sameLength(r, f, 'tReal and tFake', op);
    return generatorTerms(r, f);
  },
};

export interface BiganQpInputs {
  /** Critic scores of the real pairs (x, E(x)) and the fake pairs (G(z), z), [B] each. */
  tReal: Vec;
  tFake: Vec;
  /** d between the joint vectors of each real and fake pair, [B] (biganQp.jointDistance). */
  dist: Vec;
  lambda: number;
  /** The latent codes z [B, dimZ] and E(sg(G(z))) [B, dimZ]. */
  z: Vec;
  zRec: Vec;
  /** The data x [B, dimX] and G(sg(E(x))) [B, dimX]. */
  x: Vec;
  xRec: Vec;
  /** Weights of the two reconstruction terms (>= 0). */
  beta1: number;
  beta2: number;
  /** d below eps counts as eps (default 1e-12), as in ganQp.criticLoss. */
  eps?: number;
}

export interface BiganQpLosses {
  /** The critic's loss on the joint pairs (ganQp.criticLoss); gradients w.r.t. tReal and tFake. */
  critic: GanQpLoss;
  /**
   * The generator/encoder loss mean(tReal - tFake) + beta1 mean_b ||z_b - zRec_b||^2 +
   * beta2 mean_b ||x_b - xRec_b||^2 and its parts, with its gradients with respect to tReal
   * (1/B: into the critic's input, whose E(x) part reaches the encoder), tFake (-1/B: its G(z)
   * part reaches the generator), zRec (2 beta1 (zRec - z) / B: into the encoder's output on the
   * stopped G(z) only) and xRec (2 beta2 (xRec - x) / B: into the generator's output on the
   * stopped E(x) only).
   */
  generator: {
    loss: number;
    adversarial: number;
    zReconstruction: number;
    xReconstruction: number;
    gradReal: Float64Array;
    gradFake: Float64Array;
    gradZRec: Float64Array;
    gradXRec: Float64Array;
  };
}

/** mean_b ||a_b - r_b||^2 over B rows and its gradient w.r.t. r times beta. */
function reconstruction(a: Float64Array, r: Float64Array, B: number, beta: number): { value: number; grad: Float64Array } {
  let s = 0;
  const grad = new Float64Array(a.length);
  for (let k = 0; k < a.length; k++) {
    const e = r[k] - a[k];
    s += e * e;
    grad[k] = (2 * beta * e) / B;
  }
  return { value: s / B, grad };
}

/** BiGAN-QP: GAN-QP on joint pairs (x, z) plus the encoder/generator reconstruction terms. */
export const biganQp = {
  /** d between the joint vectors (xA_b, zA_b) and (xB_b, zB_b): the L2 (default) or L1 norm of the difference. */
  jointDistance(xA: Vec, zA: Vec, xB: Vec, zB: Vec, opts: { dimX: number; dimZ: number; norm?: GanQpNorm }): Float64Array {
    const op = 'biganQp.jointDistance';
    const xa = vec(xA, 'xA', op), za = vec(zA, 'zA', op), xb = vec(xB, 'xB', op), zb = vec(zB, 'zB', op);
    sameLength(xa, xb, 'xA and xB', op);
    sameLength(za, zb, 'zA and zB', op);
    if (opts === null || typeof opts !== 'object') throw new KexueError('E_ARG', `${op}: options { dimX, dimZ, norm? } are required; got ${describe(opts)}`);
    const dx = dimOpt(opts.dimX, xa.length, 'dimX', op), dz = dimOpt(opts.dimZ, za.length, 'dimZ', op);
    for (const [v, what] of [[xA, 'xA'], [xB, 'xB']] as const) checkRows(v, dx, what, 'dimX', op);
    for (const [v, what] of [[zA, 'zA'], [zB, 'zB']] as const) checkRows(v, dz, what, 'dimZ', op);
    if (xa.length / dx !== za.length / dz) throw new KexueError('E_SHAPE', `${op}: x holds ${xa.length / dx} rows but z ${za.length / dz}`);
    const norm = normOpt(opts.norm, op);
    // the rows of [x | z] side by side, then distanceRows on them
    const B = xa.length / dx, D = dx + dz;
    const ja = new Float64Array(B * D), jb = new Float64Array(B * D);
    for (let b = 0; b < B; b++) {
      ja.set(xa.subarray(b * dx, (b + 1) * dx), b * D);
      ja.set(za.subarray(b * dz, (b + 1) * dz), b * D + dx);
      jb.set(xb.subarray(b * dx, (b + 1) * dx), b * D);
      jb.set(zb.subarray(b * dz, (b + 1) * dz), b * D + dx);
    }
    return distanceRows(ja, jb, D, norm);
  },

  /** Both losses of one BiGAN-QP step and the gradients each sends (see BiganQpLosses). */
  losses(inputs: BiganQpInputs): BiganQpLosses {
    const op = 'biganQp.losses';
    if (inputs === null || typeof inputs !== 'object') throw new KexueError('E_ARG', `${op}: expected { tReal, tFake, dist, lambda, z, zRec, x, xRec, beta1, beta2 }; got ${describe(inputs)}`);
    const [r, f, d] = scores([[inputs.tReal, 'tReal'], [inputs.tFake, 'tFake'], [inputs.dist, 'dist']], op);
    const B = sameLength(r, f, 'tReal and tFake', op);
    sameLength(r, d, 'tReal and dist', op);
    if (d.some((v) => v < 0)) throw new KexueError('E_RANGE', `${op}: dist must be >= 0 (a norm)`);
    const lambda = positive(inputs.lambda, 'lambda', op), eps = positive(inputs.eps ?? 1e-12, 'eps', op);
    const beta1 = nonNegative(inputs.beta1, 'beta1', op), beta2 = nonNegative(inputs.beta2, 'beta2', op);
    const z = vec(inputs.z, 'z', op), zRec = vec(inputs.zRec, 'zRec', op), x = vec(inputs.x, 'x', op), xRec = vec(inputs.xRec, 'xRec', op);
    sameLength(z, zRec, 'z and zRec', op);
    sameLength(x, xRec, 'x and xRec', op);
    if (z.length % B !== 0 || x.length % B !== 0)
      throw new KexueError('E_SHAPE', `${op}: z (${z.length} values) and x (${x.length} values) must hold B = ${B} rows (one per score)`);
    for (const [v, what] of [[inputs.z, 'z'], [inputs.zRec, 'zRec']] as const) checkRows(v, z.length / B, what, 'z.length / B', op);
    for (const [v, what] of [[inputs.x, 'x'], [inputs.xRec, 'xRec']] as const) checkRows(v, x.length / B, what, 'x.length / B', op);
    const adv = generatorTerms(r, f);
    const zr = reconstruction(z, zRec, B, beta1), xr = reconstruction(x, xRec, B, beta2);
    return {
      critic: criticTerms(r, f, d, lambda, eps),
      generator: {
        loss: adv.loss + beta1 * zr.value + beta2 * xr.value,
        adversarial: adv.loss,
        zReconstruction: zr.value,
        xReconstruction: xr.value,
        gradReal: adv.gradReal,
        gradFake: adv.gradFake,
        gradZRec: zr.grad,
        gradXRec: xr.grad,
      },
    };
  },
};
