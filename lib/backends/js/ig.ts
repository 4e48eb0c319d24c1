// The pure-TypeScript reference of the integrated-gradients kernel for the built-in MLP
// (Kernels.igMlp in lib/backends/types.ts): float64, plain loops, the same order of operations the
// native kernel documents. Clarity first: the native and wasm kernels are tested against it.
//
// The network (PyTorch Linear layout): h_0 = point, z_l = W_l h_{l-1} + b_l, h_l = act_l(z_l),
// W_l [d_l, d_{l-1}] row-major, b_l [d_l]; the output F = h_L[target]. Activations (codes in
// MLP_ACTIVATIONS): identity, relu (derivative 0 at 0, as PyTorch), gelu (exact, erf), tanh,
// sigmoid, softmax (last layer only).

/** Activation codes of the igMlp kernel, by index. */
export const MLP_ACTIVATIONS = ['identity', 'relu', 'gelu', 'tanh', 'sigmoid', 'softmax'] as const;
export type MlpActivation = (typeof MLP_ACTIVATIONS)[number];

const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

// erf on [0, 2.5): the Taylor series about the nearest point x0 of a grid of step 1/64,
//   erf(x0 + h) = erf(x0) + 2/sqrt(pi) e^(-x0^2) sum_{n >= 0} (-1)^n H_n(x0) h^(n+1) / (n+1)!
// (H_n the physicists' Hermite polynomials, H_{n+1} = 2 x H_n - 2 n H_{n-1}). |h| <= 1/128 and
// |H_n(x0)| <= (2 x0 + 2 sqrt n)^n bound term n by 2e-18 at n = 9, so ten terms reach rounding
// level. The table erf(x0) is built once by stepping the same expansion (16 terms, h = 1/64)
// from erf(0) = 0 with a compensated sum: no cancellation (the Maclaurin series at 2.5 cancels
// terms near 500 and loses 5e-15). About 5x faster than summing the Maclaurin series per call
// (GELU in the tour's Transformer spent half its time in erf).
const ERF_STEP = 64;
const ERF_N = 2.5 * ERF_STEP + 1;
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
const ERF_X0 = new Float64Array(ERF_N);
const ERF_D0 = new Float64Array(ERF_N);

/** sum_{n < terms} (-1)^n H_n(x0) h^(n+1) / (n+1)!. */
function erfTaylor(x0: number, h: number, terms: number): number {
  let hPrev = 0, hCur = 1; // H_{n-1}, H_n
  let p = h; // h^(n+1) / (n+1)!
  let sum = h;
  for (let n = 0; n < terms - 1; n++) {
    const hNext = 2 * x0 * hCur - 2 * n * hPrev;
    hPrev = hCur;
    hCur = hNext;
    p *= h / (n + 2);
    sum += (n & 1 ? p : -p) * hCur;
  }
  return sum;
}
{
  let hi = 0, lo = 0;
  for (let k = 0; k < ERF_N; k++) {
    const x0 = k / ERF_STEP;
    ERF_X0[k] = hi + lo;
    ERF_D0[k] = TWO_OVER_SQRT_PI * Math.exp(-x0 * x0);
    const inc = ERF_D0[k] * erfTaylor(x0, 1 / ERF_STEP, 16);
    const s = hi + inc; // two-sum: hi + inc = s + err exactly
    const bb = s - hi;
    lo += hi - (s - bb) + (inc - bb);
    hi = s;
  }
}

/** erf(x) to rounding level: a tabulated Taylor expansion below 2.5, a continued fraction for erfc above. */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax < 2.5) {
    const k = Math.round(ax * ERF_STEP);
    const x0 = k / ERF_STEP;
    const r = ERF_X0[k] + ERF_D0[k] * erfTaylor(x0, ax - x0, 10);
    return x < 0 ? -r : r;
  }
  if (ax > 6) return x < 0 ? -1 : 1;
  // erfc x = exp(-x^2)/sqrt(pi) * 1/(x + 1/2/(x + 1/(x + 3/2/(x + 2/(x + ...))))) (modified Lentz)
  const tiny = 1e-300;
  let f = ax, C = ax, D = 0;
  for (let n = 1; n < 200; n++) {
    const an = n / 2;
    D = ax + an * D;
    D = D === 0 ? tiny : D;
    C = ax + an / C;
    C = C === 0 ? tiny : C;
    D = 1 / D;
    const delta = C * D;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return x < 0 ? erfc - 1 : 1 - erfc;
}

export function act(code: number, z: Float64Array, h: Float64Array): void {
  const n = z.length;
  switch (code) {
    case 0:
      h.set(z);
      break;
    case 1:
      for (let i = 0; i < n; i++) h[i] = z[i] > 0 ? z[i] : 0;
      break;
    case 2:
      for (let i = 0; i < n; i++) h[i] = 0.5 * z[i] * (1 + erf(z[i] * SQRT1_2));
      break;
    case 3:
      for (let i = 0; i < n; i++) h[i] = Math.tanh(z[i]);
      break;
    case 4:
      for (let i = 0; i < n; i++) h[i] = 1 / (1 + Math.exp(-z[i]));
      break;
    case 5: {
      let mx = -Infinity;
      for (let i = 0; i < n; i++) mx = Math.max(mx, z[i]);
      let s = 0;
      for (let i = 0; i < n; i++) s += h[i] = Math.exp(z[i] - mx);
      for (let i = 0; i < n; i++) h[i] /= s;
      break;
    }
    default:
      throw Object.assign(new Error(`unknown activation code ${code}`), { code: 'E_ARG' });
  }
}

/** g_z = dF/dz from g_h = dF/dh through the activation (h = act(z)). */
export function actBackward(code: number, z: Float64Array, h: Float64Array, gh: Float64Array, gz: Float64Array): void {
  const n = z.length;
  switch (code) {
    case 0:
      gz.set(gh);
      break;
    case 1:
      for (let i = 0; i < n; i++) gz[i] = z[i] > 0 ? gh[i] : 0;
      break;
    case 2:
      for (let i = 0; i < n; i++) gz[i] = gh[i] * (0.5 * (1 + erf(z[i] * SQRT1_2)) + z[i] * INV_SQRT_2PI * Math.exp(-0.5 * z[i] * z[i]));
      break;
    case 3:
      for (let i = 0; i < n; i++) gz[i] = gh[i] * (1 - h[i] * h[i]);
      break;
    case 4:
      for (let i = 0; i < n; i++) gz[i] = gh[i] * h[i] * (1 - h[i]);
      break;
    case 5: {
      let dot = 0;
      for (let i = 0; i < n; i++) dot += gh[i] * h[i];
      for (let i = 0; i < n; i++) gz[i] = h[i] * (gh[i] - dot);
      break;
    }
  }
}

/** Layer sizes and activation codes from the igMlp spec header [L, d_0..d_L, act_1..act_L]. */
export function parseMlpSpec(spec: Float64Array): { L: number; dims: number[]; acts: number[] } {
  const L = spec[0];
  return { L, dims: Array.from(spec.subarray(1, L + 2)), acts: Array.from(spec.subarray(L + 2, 2 * L + 2)) };
}

/**
 * F(p) = h_L[target] and, when grad is given, dF/dp, for one point p (length d_0). params packs
 * W_1, b_1, W_2, b_2, ... (row-major).
 */
export function mlpPoint(spec: Float64Array, params: Float64Array, p: Float64Array, target: number, grad: Float64Array | null): number {
  const { L, dims, acts } = parseMlpSpec(spec);
  const zs: Float64Array[] = [];
  const hs: Float64Array[] = [p];
  const offs: number[] = [];
  let o = 0;
  for (let l = 1; l <= L; l++) {
    offs.push(o);
    const din = dims[l - 1], dout = dims[l];
    const z = new Float64Array(dout);
    const hin = hs[l - 1];
    for (let i = 0; i < dout; i++) {
      let s = params[o + dout * din + i];
      for (let j = 0; j < din; j++) s += params[o + i * din + j] * hin[j];
      z[i] = s;
    }
    const h = new Float64Array(dout);
    act(acts[l - 1], z, h);
    zs.push(z);
    hs.push(h);
    o += dout * din + dout;
  }
  const F = hs[L][target];
  if (grad) {
    let gh = new Float64Array(dims[L]);
    gh[target] = 1;
    for (let l = L; l >= 1; l--) {
      const din = dims[l - 1], dout = dims[l];
      const gz = new Float64Array(dout);
      actBackward(acts[l - 1], zs[l - 1], hs[l], gh, gz);
      const gin = new Float64Array(din);
      const W = offs[l - 1];
      for (let i = 0; i < dout; i++) {
        const g = gz[i];
        if (g === 0) continue;
        for (let j = 0; j < din; j++) gin[j] += g * params[W + i * din + j];
      }
      gh = gin;
    }
    grad.set(gh);
  }
  return F;
}

/** The igMlp kernel (see Kernels.igMlp). */
export function igMlpReference(
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
): void {
  const { dims } = parseMlpSpec(spec);
  const d = dims[0];
  const p = new Float64Array(d);
  const g = new Float64Array(d);
  for (let b = 0; b < batch; b++) {
    const xb = x.subarray(b * d, (b + 1) * d), bb = base.subarray(b * d, (b + 1) * d);
    const acc = avgGrad.subarray(b * d, (b + 1) * d);
    acc.fill(0);
    for (let k = 0; k < alphas.length; k++) {
      const a = alphas[k];
      for (let i = 0; i < d; i++) p[i] = bb[i] + a * (xb[i] - bb[i]);
      mlpPoint(spec, params, p, target[b], g);
      const w = weights[k];
      for (let i = 0; i < d; i++) acc[i] += w * g[i];
    }
    outputs[2 * b] = mlpPoint(spec, params, xb.slice(), target[b], null);
    outputs[2 * b + 1] = mlpPoint(spec, params, bb.slice(), target[b], null);
  }
}
