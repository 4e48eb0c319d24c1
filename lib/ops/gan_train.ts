// Training loops for GAN-QP and BiGAN-QP on small 2-D problems with the built-in MLP: generator,
// critic (and encoder) trained with Adam through mlpForward/mlpBackward on the chosen backend, the
// losses of lib/ops/ganqp.ts, and all randomness from Philox (seed, stream), so a run is the same
// on every backend up to rounding. Shared by the tests and the tour (lib/tour/sections/ganqp.ts).
// Progress is measured by W2 between generated and real samples: exactly between the two
// empirical measures (an optimal assignment of equal-size samples), and between Gaussian fits.
import { KexueError } from '../errors.js';
import { Tensor, describe } from '../tensor.js';
import type { BackendChoice } from '../backends/types.js';
import { frechetDistance } from './gaussian.js';
import { biganQp, ganQp, type GanQpLoss, type GanQpNorm } from './ganqp.js';
import type { Mlp, MlpActivation } from './ig.js';
import { Adam, mlpBackward, mlpForward, mlpInit } from './mlp_train.js';
import { normal, uniform } from './random.js';
import { assertFiniteArray, backendOpt, integer, probability, rngOpt } from './args.js';

// ---- measures ------------------------------------------------------------------------------------

/**
 * The 2-Wasserstein distance between two equal-size samples a, b [n, dim] taken as uniform
 * empirical measures: sqrt(min over permutations pi of mean_i ||a_i - b_pi(i)||^2), exact (the
 * optimal assignment by the Hungarian algorithm with potentials, O(n^3)). Unlike W2 between
 * Gaussian fits it sees every mode: a generator that matches only the mean and covariance of a
 * mixture still scores badly. Two samples of one distribution score above 0 (sampling noise).
 * Non-finite entries: E_RANGE (the assignment would never terminate on NaN costs).
 */
export function sampleW2(a: Float64Array, b: Float64Array, dim: number): number {
  const op = 'sampleW2';
  if (!(a instanceof Float64Array) || !(b instanceof Float64Array) || a.length !== b.length)
    throw new KexueError('E_SHAPE', `${op}: a and b must be Float64Arrays of the same length; got ${describe(a)} and ${describe(b)}`);
  if (!Number.isInteger(dim) || dim < 1 || a.length % dim !== 0 || a.length === 0)
    throw new KexueError('E_SHAPE', `${op}: the samples must be [n, dim] with n >= 1; got ${a.length} values and dim ${describe(dim)}`);
  assertFiniteArray(a, 'a', op);
  assertFiniteArray(b, 'b', op);
  const n = a.length / dim;
  const cost = (i: number, j: number): number => {
    let s = 0;
    for (let k = 0; k < dim; k++) {
      const e = a[i * dim + k] - b[j * dim + k];
      s += e * e;
    }
    return s;
  };
  // rows 1..n of a, columns 1..n of b (index 0 is the algorithm's sentinel)
  const u = new Float64Array(n + 1), v = new Float64Array(n + 1);
  const p = new Int32Array(n + 1), way = new Int32Array(n + 1);
  const minv = new Float64Array(n + 1), used = new Uint8Array(n + 1);
  for (let i = 1; i <= n; i++) {
    p[0] = i;
    let j0 = 0;
    minv.fill(Infinity);
    used.fill(0);
    do {
      used[j0] = 1;
      const i0 = p[j0];
      let delta = Infinity, j1 = 0;
      for (let j = 1; j <= n; j++) {
        if (used[j]) continue;
        const cur = cost(i0 - 1, j - 1) - u[i0] - v[j];
        if (cur < minv[j]) (minv[j] = cur), (way[j] = j0);
        if (minv[j] < delta) (delta = minv[j]), (j1 = j);
      }
      for (let j = 0; j <= n; j++) {
        if (used[j]) (u[p[j]] += delta), (v[j] -= delta);
        else minv[j] -= delta;
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0];
      p[j0] = p[j1];
      j0 = j1;
    } while (j0 !== 0);
  }
  let s = 0;
  for (let j = 1; j <= n; j++) s += cost(p[j] - 1, j - 1);
  return Math.sqrt(s / n);
}

/** W2 (not squared) between the Gaussians fitted to two samples [n, dim] (mean, covariance). */
export function gaussianW2(a: Float64Array, b: Float64Array, dim: number, backend?: BackendChoice): number {
  return Math.sqrt(frechetDistance(new Tensor(a, [a.length / dim, dim]), new Tensor(b, [b.length / dim, dim]), { backend }));
}

// ---- data ----------------------------------------------------------------------------------------

/** Streams: draw k of step s uses stream 8 s + k; evaluation draws use step EVAL_STEP. */
const EVAL_STEP = 2 ** 40;
const stream = (s: number, k: number) => 8 * s + k;

export interface RingData {
  /** Number of Gaussians on the circle (default 8). */
  modes?: number;
  /** Circle radius (default 2). */
  radius?: number;
  /** Standard deviation of each Gaussian (default 0.05). */
  std?: number;
}

/** n points [n, 2] from `modes` Gaussians of std `std` equally spaced on a circle of `radius`. */
export function sampleRing(n: number, seed: number | bigint, s: number, d: RingData = {}): Float64Array {
  const modes = d.modes ?? 8, radius = d.radius ?? 2, std = d.std ?? 0.05;
  const u = uniform([n], { seed, stream: stream(s, 0), dtype: 'float64' }).data;
  const e = normal([2 * n], { seed, stream: stream(s, 1), std, dtype: 'float64' }).data;
  const x = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    const a = (2 * Math.PI * Math.floor(u[i] * modes)) / modes;
    x[2 * i] = radius * Math.cos(a) + e[2 * i];
    x[2 * i + 1] = radius * Math.sin(a) + e[2 * i + 1];
  }
  return x;
}

/** n points [n, 2] on the noisy sine curve (2t, sin(pi t)) + N(0, std^2 I), t ~ U(-1, 1). */
export function sampleCurve(n: number, seed: number | bigint, s: number, std = 0.05): Float64Array {
  const u = uniform([n], { seed, stream: stream(s, 0), dtype: 'float64' }).data;
  const e = normal([2 * n], { seed, stream: stream(s, 1), std, dtype: 'float64' }).data;
  const x = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    const t = 2 * u[i] - 1;
    x[2 * i] = 2 * t + e[2 * i];
    x[2 * i + 1] = Math.sin(Math.PI * t) + e[2 * i + 1];
  }
  return x;
}

// ---- shared pieces -------------------------------------------------------------------------------

export interface GanTrainOptions {
  /** Philox seed of the networks' initialisation and every draw (an integer in [0, 2^64), number or bigint). */
  seed: number | bigint;
  /** Training steps (one critic update and one generator update each), at most 2^32. */
  steps: number;
  /** Batch size (default 128; 2 .. 2^16). */
  batch?: number;
  /** Hidden width of every network (two hidden relu layers; default 64; at most 4096). */
  hidden?: number;
  /** Adam learning rate (default 1e-3, > 0) and beta1 (default 0.5, in [0, 1)); beta2 0.999. */
  lr?: number;
  adamBeta1?: number;
  /** The critic's lambda (default 1) and distance norm (default 'l2'). */
  lambda?: number;
  norm?: GanQpNorm;
  /** Measure W2 every evalEvery steps (default steps / 10) and at step 0 and the end. */
  evalEvery?: number;
  /** Samples in the evaluation sets (default 256; 2 .. 8192: sampleW2 is O(n^3)). */
  evalSamples?: number;
  /** Steps (integers in [0, steps]) at which to keep the generated evaluation samples, besides 0 and the end. */
  snapshotSteps?: number[];
  backend?: BackendChoice;
  /** Called after every step (a function; checked before the first step). */
  onProgress?: (step: number, steps: number) => void;
}

export interface GanEval {
  step: number;
  /** W2 between the generated and real evaluation samples (sampleW2). */
  w2: number;
  /** W2 between Gaussian fits of the two (gaussianW2). */
  w2Gaussian: number;
  /** BiGAN-QP: mean ||x - G(E(x))||^2 over the real evaluation samples. */
  reconstruction?: number;
}

export interface GanTrainResult {
  history: GanEval[];
  /** Generated evaluation samples [evalSamples, 2] at the snapshot steps. */
  snapshots: { step: number; samples: Float64Array }[];
  /** The real evaluation samples [evalSamples, 2]. */
  real: Float64Array;
  /** sampleW2 between two independent real samples of the evaluation size: the floor of w2. */
  w2Floor: number;
  generator: Mlp;
  critic: Mlp;
  /** BiGAN-QP's encoder. */
  encoder?: Mlp;
  /** Wall time of the run in milliseconds (evaluations included). */
  ms: number;
}

interface Common {
  seed: number | bigint;
  steps: number;
  batch: number;
  hidden: number;
  lambda: number;
  norm: GanQpNorm;
  evalEvery: number;
  evalSamples: number;
  snapshotSteps: Set<number>;
  backend?: BackendChoice;
  adam: { lr: number; beta1: number };
  onProgress?: (step: number, steps: number) => void;
}

/** A finite number >= min (> min with strict), or dflt when absent. */
function num(v: unknown, dflt: number, what: string, op: string, min: number, strict: boolean): number {
  const x = v === undefined ? dflt : v;
  if (typeof x !== 'number' || !Number.isFinite(x) || (strict ? x <= min : x < min))
    throw new KexueError('E_RANGE', `${op}: ${what} must be a finite number ${strict ? '>' : '>='} ${min}; got ${describe(v)}`);
  return x;
}

/** An integer in [min, max], or dflt when absent. */
const int = (v: unknown, dflt: number, what: string, op: string, min: number, max: number): number => integer(v === undefined ? dflt : v, what, op, min, max);

/** An options object (or absent), as E_ARG otherwise. */
function object<T>(v: unknown, what: string, op: string): Partial<T> {
  if (v === undefined) return {};
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new KexueError('E_ARG', `${op}: ${what} must be an object; got ${describe(v)}`);
  return v as Partial<T>;
}

/** Every option both trainers share, checked before anything runs. */
function common(o: GanTrainOptions, op: string): Common {
  if (o === null || typeof o !== 'object') throw new KexueError('E_ARG', `${op}: options { seed, steps, ... } are required; got ${describe(o)}`);
  rngOpt(o, op);
  if (o.steps === undefined) throw new KexueError('E_ARG', `${op}: options.steps is required`);
  const steps = int(o.steps, 0, 'steps', op, 1, 2 ** 32);
  const norm = o.norm ?? 'l2';
  if (norm !== 'l1' && norm !== 'l2') throw new KexueError('E_ARG', `${op}: norm must be 'l1' or 'l2'; got ${describe(o.norm)}`);
  const snaps = o.snapshotSteps ?? [];
  if (!Array.isArray(snaps)) throw new KexueError('E_ARG', `${op}: snapshotSteps must be an array of steps; got ${describe(snaps)}`);
  snaps.forEach((x, i) => integer(x, `snapshotSteps[${i}]`, op, 0, steps));
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function')
    throw new KexueError('E_ARG', `${op}: onProgress must be a function (step, steps) => void; got ${describe(o.onProgress)}`);
  return {
    seed: o.seed!,
    steps,
    batch: int(o.batch, 128, 'batch', op, 2, 1 << 16),
    hidden: int(o.hidden, 64, 'hidden', op, 1, 4096),
    lambda: num(o.lambda, 1, 'lambda', op, 0, true),
    norm,
    evalEvery: int(o.evalEvery, Math.max(1, Math.floor(steps / 10)), 'evalEvery', op, 1, 2 ** 32),
    evalSamples: int(o.evalSamples, 256, 'evalSamples', op, 2, 8192),
    snapshotSteps: new Set([0, steps, ...snaps]),
    backend: backendOpt(o, op),
    adam: {
      lr: num(o.lr, 1e-3, 'lr', op, 0, true),
      beta1: probability(o.adamBeta1 ?? 0.5, 'adamBeta1', op),
    },
    onProgress: o.onProgress,
  };
}

function add(a: Float64Array, b: Float64Array): Float64Array {
  for (let i = 0; i < a.length; i++) a[i] += b[i];
  return a;
}

/** Columns [from, from + width) of a [rows, cols] matrix. */
function columns(a: Float64Array, rows: number, cols: number, from: number, width: number): Float64Array {
  const out = new Float64Array(rows * width);
  for (let r = 0; r < rows; r++) for (let c = 0; c < width; c++) out[r * width + c] = a[r * cols + from + c];
  return out;
}

/** The rows of a [rows, ca] and b [rows, cb] side by side: [rows, ca + cb]. */
function sideBySide(a: Float64Array, ca: number, b: Float64Array, cb: number, rows: number): Float64Array {
  const out = new Float64Array(rows * (ca + cb));
  for (let r = 0; r < rows; r++) {
    out.set(a.subarray(r * ca, (r + 1) * ca), r * (ca + cb));
    out.set(b.subarray(r * cb, (r + 1) * cb), r * (ca + cb) + ca);
  }
  return out;
}

const net = (dims: number[], seed: number | bigint, s: number, backend?: BackendChoice): Mlp =>
  mlpInit(dims, 'relu' as MlpActivation, { seed, stream: stream(EVAL_STEP + 1, s), init: 'he', backend });

/** One Adam step of the critic D on a loss of its scores on the real and the fake inputs. */
function criticStep(D: Mlp, opt: Adam, real: Float64Array, fake: Float64Array, loss: (tReal: Float64Array, tFake: Float64Array) => GanQpLoss, backend?: BackendChoice): void {
  const be = { backend };
  const dr = mlpForward(D, real, be), df = mlpForward(D, fake, be);
  const l = loss(dr.output, df.output);
  opt.step(add(mlpBackward(D, dr.cache, l.gradReal, be).gradParams, mlpBackward(D, df.cache, l.gradFake, be).gradParams), be);
}

/** One model's pieces for the shared loop: its generator, data and latent draws, and a training step. */
interface Setup {
  G: Mlp;
  sample: (n: number, s: number) => Float64Array;
  zDraw: (n: number, s: number) => Float64Array;
  /** Mean reconstruction error on the real evaluation samples (BiGAN-QP). */
  reconstruction?: (real: Float64Array) => number;
  step: (s: number) => void;
}

/** The loop both trainers share: evaluation sets, steps 1..steps, evaluations and snapshots. */
function run(c: Common, u: Setup): Pick<GanTrainResult, 'history' | 'snapshots' | 'real' | 'w2Floor'> {
  const N = c.evalSamples, be = { backend: c.backend };
  const real = u.sample(N, EVAL_STEP), zEval = u.zDraw(N, EVAL_STEP);
  const w2Floor = sampleW2(real, u.sample(N, EVAL_STEP + 1), 2);
  const history: GanEval[] = [];
  const snapshots: { step: number; samples: Float64Array }[] = [];
  const evaluate = (step: number) => {
    const fake = mlpForward(u.G, zEval, be).output;
    if (step % c.evalEvery === 0 || step === c.steps) {
      const h: GanEval = { step, w2: sampleW2(fake, real, 2), w2Gaussian: gaussianW2(fake, real, 2, c.backend) };
      if (u.reconstruction) h.reconstruction = u.reconstruction(real);
      history.push(h);
    }
    if (c.snapshotSteps.has(step)) snapshots.push({ step, samples: fake });
  };
  evaluate(0);
  for (let s = 1; s <= c.steps; s++) {
    u.step(s);
    if (s % c.evalEvery === 0 || s === c.steps || c.snapshotSteps.has(s)) evaluate(s);
    c.onProgress?.(s, c.steps);
  }
  return { history, snapshots, real, w2Floor };
}

// ---- GAN-QP --------------------------------------------------------------------------------------

export interface GanQpTrainOptions extends GanTrainOptions {
  /** The real data: Gaussians on a circle (defaults: 8 modes, radius 2, std 0.05). */
  data?: RingData;
  /** Latent dimension (default 2; z ~ N(0, I)). */
  latent?: number;
}

/**
 * Trains a GAN-QP generator (z -> x, z ~ N(0, I)) against a critic (x -> 1) on a ring of
 * Gaussians: per step, one critic update on ganQp.criticLoss (the pairs: the b-th real and b-th
 * generated sample) and one generator update on ganQp.generatorLoss through the updated critic.
 */
export function trainGanQp(opts: GanQpTrainOptions): GanTrainResult {
  const op = 'trainGanQp';
  const t0 = performance.now();
  const c = common(opts, op);
  const latent = int(opts.latent, 2, 'latent', op, 1, 1024);
  const data = object<RingData>(opts.data, 'data', op);
  const ring: RingData = {
    modes: int(data.modes, 8, 'data.modes', op, 1, 1 << 20),
    radius: num(data.radius, 2, 'data.radius', op, 0, false),
    std: num(data.std, 0.05, 'data.std', op, 0, false),
  };
  const { seed, batch: B, hidden: H, backend } = c;
  const be = { backend };
  const G = net([latent, H, H, 2], seed, 0, backend), D = net([2, H, H, 1], seed, 1, backend);
  const optG = new Adam(G.params, c.adam), optD = new Adam(D.params, c.adam);
  const sample = (n: number, s: number) => sampleRing(n, seed, s, ring);
  const zDraw = (n: number, s: number) => normal([n * latent], { seed, stream: stream(s, 2), dtype: 'float64', backend }).data as Float64Array;
  const step = (s: number) => {
    const xr = sample(B, s);
    const g = mlpForward(G, zDraw(B, s), be);
    const xf = g.output;
    // critic: minimise -mean(dT - dT^2 / (2 lambda d))
    const dist = ganQp.distance(xr, xf, { dim: 2, norm: c.norm });
    criticStep(D, optD, xr, xf, (tr, tf) => ganQp.criticLoss(tr, tf, dist, { lambda: c.lambda }), backend);
    // generator: minimise mean(T(x_r) - T(G(z))) through the updated critic; only the fake term depends on G
    const df2 = mlpForward(D, xf, be);
    const gl = ganQp.generatorLoss(new Float64Array(B), df2.output);
    const gx = mlpBackward(D, df2.cache, gl.gradFake, { inputGrad: true, backend }).gradInput!;
    optG.step(mlpBackward(G, g.cache, gx, be).gradParams, be);
  };
  const r = run(c, { G, sample, zDraw, step });
  return { ...r, generator: G, critic: D, ms: performance.now() - t0 };
}

// ---- BiGAN-QP ------------------------------------------------------------------------------------

export interface BiganQpTrainOptions extends GanTrainOptions {
  /** Weights of ||z - E(sg(G(z)))||^2 and ||x - G(sg(E(x)))||^2 (defaults 1 and 1). */
  beta1?: number;
  beta2?: number;
  /** Noise of the data curve (default 0.05). */
  std?: number;
}

/**
 * Trains BiGAN-QP on 2-D data on a noisy sine curve with a 1-D latent z ~ N(0, 1): encoder
 * E: x -> z, generator G: z -> x, joint critic T on (x, z). Per step: one critic update on the
 * joint pairs (x, E(x)) vs (G(z), z) (distance on the joint vector), then one update of G and E
 * on biganQp.losses(...).generator: the adversarial gradient reaches E through the critic's z
 * input of the real pair and G through the x input of the fake pair; the reconstruction
 * gradients reach E only through E(G(z)) (G(z) fed as a constant) and G only through G(E(x)).
 */
export function trainBiganQp(opts: BiganQpTrainOptions): GanTrainResult {
  const op = 'trainBiganQp';
  const t0 = performance.now();
  const c = common(opts, op);
  const { seed, batch: B, hidden: H, backend } = c;
  const be = { backend };
  const beta1 = num(opts.beta1, 1, 'beta1', op, 0, false), beta2 = num(opts.beta2, 1, 'beta2', op, 0, false);
  const std = num(opts.std, 0.05, 'std', op, 0, false);
  const G = net([1, H, H, 2], seed, 0, backend), D = net([3, H, H, 1], seed, 1, backend), Enc = net([2, H, H, 1], seed, 2, backend);
  const optG = new Adam(G.params, c.adam), optD = new Adam(D.params, c.adam), optE = new Adam(Enc.params, c.adam);
  const sample = (n: number, s: number) => sampleCurve(n, seed, s, std);
  const zDraw = (n: number, s: number) => normal([n], { seed, stream: stream(s, 2), dtype: 'float64', backend }).data as Float64Array;
  const reconstruction = (real: Float64Array) => {
    const rec = mlpForward(G, mlpForward(Enc, real, be).output, be).output;
    let r = 0;
    for (let i = 0; i < rec.length; i++) r += (rec[i] - real[i]) ** 2;
    return r / (real.length / 2);
  };
  const step = (s: number) => {
    const x = sample(B, s), z = zDraw(B, s);
    const e = mlpForward(Enc, x, be), g = mlpForward(G, z, be);
    const realPair = sideBySide(x, 2, e.output, 1, B), fakePair = sideBySide(g.output, 2, z, 1, B);
    const dist = biganQp.jointDistance(x, e.output, g.output, z, { dimX: 2, dimZ: 1, norm: c.norm });
    // the reconstructions, with G(z) and E(x) entering as constants (sg)
    const zr = mlpForward(Enc, g.output, be), xr = mlpForward(G, e.output, be);
    const losses = (tReal: Float64Array, tFake: Float64Array) =>
      biganQp.losses({ tReal, tFake, dist, lambda: c.lambda, z, zRec: zr.output, x, xRec: xr.output, beta1, beta2 });
    // critic step
    criticStep(D, optD, realPair, fakePair, (tr, tf) => losses(tr, tf).critic, backend);
    // generator/encoder step through the updated critic
    const dr2 = mlpForward(D, realPair, be), df2 = mlpForward(D, fakePair, be);
    const gl = losses(dr2.output, df2.output).generator;
    const gReal = mlpBackward(D, dr2.cache, gl.gradReal, { inputGrad: true, backend }).gradInput!;
    const gFake = mlpBackward(D, df2.cache, gl.gradFake, { inputGrad: true, backend }).gradInput!;
    const gradE = add(mlpBackward(Enc, e.cache, columns(gReal, B, 3, 2, 1), be).gradParams, mlpBackward(Enc, zr.cache, gl.gradZRec, be).gradParams);
    const gradG = add(mlpBackward(G, g.cache, columns(gFake, B, 3, 0, 2), be).gradParams, mlpBackward(G, xr.cache, gl.gradXRec, be).gradParams);
    optE.step(gradE, be);
    optG.step(gradG, be);
  };
  const r = run(c, { G, sample, zDraw, reconstruction, step });
  return { ...r, generator: G, critic: D, encoder: Enc, ms: performance.now() - t0 };
}
