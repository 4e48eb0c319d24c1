// Singular values by one-sided Jacobi (Hestenes): columns are rotated pairwise until all are
// mutually orthogonal; the singular values are then the column norms. Backward stable and, unlike
// eigenvalues of A^T A, accurate for the small singular values that decide an attention matrix's
// numerical rank (techniques.md section 2). Plain TypeScript, float64: the matrices analysed here
// are attention maps of a few hundred rows.
import { KexueError } from '../errors.js';
import { Tensor, describe, type FloatArray } from '../tensor.js';

/** Singular values of A [m, n] (any shape), descending. */
export function singularValues(A: Tensor): Float64Array {
  const op = 'singularValues';
  if (!(A instanceof Tensor) || A.shape.length !== 2 || (A.dtype !== 'float32' && A.dtype !== 'float64'))
    throw new KexueError('E_SHAPE', `${op}: A must be a float Tensor [m, n]; got ${describe(A)}`);
  let [m, n] = A.shape;
  const src = A.data as FloatArray;
  for (let i = 0; i < src.length; i++) if (!Number.isFinite(src[i])) throw new KexueError('E_RANGE', `${op}: A has a non-finite entry at flat index ${i}`);
  // work on columns of the taller orientation: U is n columns of length m, stored column-major
  let transpose = false;
  if (n > m) {
    transpose = true;
    [m, n] = [n, m];
  }
  const U = new Float64Array(m * n);
  for (let i = 0; i < A.shape[0]; i++)
    for (let j = 0; j < A.shape[1]; j++) {
      const [r, c] = transpose ? [j, i] : [i, j];
      U[c * m + r] = src[i * A.shape[1] + j];
    }
  const eps = 2 ** -52;
  let fro = 0;
  for (const v of U) fro += v * v;
  // a column below eps ||A||_F is zero to working precision: rotating it only stirs rounding noise
  const negligible = eps * eps * fro * m;
  for (let sweep = 0; sweep < 60; sweep++) {
    let rotated = false;
    for (let p = 0; p < n - 1; p++)
      for (let q = p + 1; q < n; q++) {
        let a = 0, b = 0, g = 0;
        for (let i = 0; i < m; i++) {
          const up = U[p * m + i], uq = U[q * m + i];
          a += up * up;
          b += uq * uq;
          g += up * uq;
        }
        if (g === 0 || Math.abs(g) <= m * eps * Math.sqrt(a * b) || a <= negligible || b <= negligible) continue;
        rotated = true;
        const zeta = (b - a) / (2 * g);
        const t = Math.sign(zeta || 1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t), s = c * t;
        for (let i = 0; i < m; i++) {
          const up = U[p * m + i], uq = U[q * m + i];
          U[p * m + i] = c * up - s * uq;
          U[q * m + i] = s * up + c * uq;
        }
      }
    if (!rotated) break;
    if (sweep === 59) throw new KexueError('E_NO_CONVERGENCE', `${op}: one-sided Jacobi did not converge in 60 sweeps`);
  }
  const sv = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    let s = 0;
    for (let i = 0; i < m; i++) s += U[j * m + i] ** 2;
    sv[j] = Math.sqrt(s);
  }
  return sv.sort().reverse();
}

export interface AttentionRank {
  singularValues: Float64Array;
  /** singular values above tol * the largest (default tol: max(m, n) * eps) */
  rank: number;
  /** exp of the entropy of the normalised singular values (Roy and Vetterli): a soft rank */
  effectiveRank: number;
}

/** The numerical and effective rank of an attention probability matrix [Nq, Nk]. */
export function attentionRank(probs: Tensor, opts: { tol?: number } = {}): AttentionRank {
  const sv = singularValues(probs);
  const [m, n] = probs.shape;
  const tol = opts.tol ?? Math.max(m, n) * 2 ** -52;
  if (!(tol >= 0)) throw new KexueError('E_RANGE', `attentionRank: tol must be >= 0; got ${describe(tol)}`);
  const top = sv[0] ?? 0;
  const rank = sv.filter((s) => s > tol * top).length;
  const total = sv.reduce((a, b) => a + b, 0);
  let h = 0;
  for (const s of sv) if (s > 0) h -= (s / total) * Math.log(s / total);
  return { singularValues: sv, rank, effectiveRank: total > 0 ? Math.exp(h) : 0 };
}
