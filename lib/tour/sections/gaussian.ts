// Tour section, techniques.md section 3: KL, Bhattacharyya, Hellinger and W2 between Gaussians,
// matrix square roots, the Frechet distance with its finite-sample bias, W2 by Cholesky +
// eigenvalues against explicit square roots, and the same W2 on every backend. The plot
// gaussian-shift.svg shows each distance as one mean moves away from the other.
import { matmul } from '../../backends/js/linalg.js';
import { frechetDistance, gaussian, normal, sqrtm, tensor, GaussianStats } from '../../index.js';
import type { TourSection } from '../types.js';
import { availableBackends, timeMs } from '../util.js';

const t64 = (a: number[], shape: number[]) => tensor(Float64Array.from(a), shape);

export const section: TourSection = {
  name: 'gaussian',
  title: 'Gaussian distances, matrix square roots and the Frechet distance (float64, techniques 3)',
  async run(ctx) {
    const available = availableBackends();
    const mu1 = t64([0, 0], [2]);
    const mu2 = t64([1, 2], [2]);
    const S1 = t64([2, 0.5, 0.5, 1], [2, 2]);
    const S2 = t64([1, -0.3, -0.3, 3], [2, 2]);
    const kl = gaussian.kl(mu1, S1, mu2, S2);
    const bh = gaussian.bhattacharyya(mu1, S1, mu2, S2);
    const he = gaussian.hellinger(mu1, S1, mu2, S2);
    const w2 = gaussian.w2(mu1, S1, mu2, S2);
    const r = sqrtm(t64([4, 0, 0, 9], [2, 2]));

    // the distances as the second mean moves along [1, 2] / sqrt(5): W2^2 grows exactly as t^2
    const shifts = Array.from({ length: 31 }, (_, i) => i / 10);
    const curve = shifts.map((t) => {
      const m = t64([t / Math.sqrt(5), (2 * t) / Math.sqrt(5)], [2]);
      return { t, w2: gaussian.w2(mu1, S1, m, S2), kl: gaussian.kl(mu1, S1, m, S2), bh: gaussian.bhattacharyya(mu1, S1, m, S2), he: gaussian.hellinger(mu1, S1, m, S2) };
    });
    const w2Err = Math.max(...curve.map((c) => Math.abs(c.w2 - curve[0].w2 - c.t * c.t)));
    await ctx.plot('gaussian-shift.svg', {
      title: { text: 'Distances between N(0, S1) and N(t u, S2), |u| = 1', anchor: 'start' },
      data: { values: curve.flatMap((c) => [
        { t: c.t, distance: 'W2^2', value: c.w2 },
        { t: c.t, distance: 'KL', value: c.kl },
        { t: c.t, distance: 'Bhattacharyya', value: c.bh },
        { t: c.t, distance: 'Hellinger^2', value: c.he },
      ]) },
      width: 360,
      height: 240,
      mark: { type: 'line', point: { size: 12 } },
      encoding: {
        x: { field: 't', type: 'quantitative', title: 'mean shift t' },
        y: { field: 'value', type: 'quantitative', title: 'distance' },
        color: { field: 'distance', type: 'nominal', sort: ['W2^2', 'KL', 'Bhattacharyya', 'Hellinger^2'] },
      },
    });

    const dim = 64;
    const ns = ctx.quick ? 1000 : 2000;
    const a = normal([ns, dim], { seed: 1, dtype: 'float64' });
    const b = normal([ns, dim], { seed: 2, dtype: 'float64', mean: 0.1 });
    const c = normal([40, dim], { seed: 3, dtype: 'float64' });
    const fidShift = frechetDistance(a, b);
    const fidSame = frechetDistance(a, normal([ns, dim], { seed: 4, dtype: 'float64' })); // the finite-sample bias
    const fidFew = frechetDistance(c, a);
    // the W2 route (Cholesky + eigenvalues of L^T S2 L) against explicit square roots
    const nn = ctx.quick ? 80 : 200;
    const cov = (seed: number) => new GaussianStats(nn).update(normal([2 * nn, nn], { seed, dtype: 'float64' })).covariance;
    const C1 = cov(11), C2 = cov(12);
    const R = sqrtm(C1).sqrt.data;
    const inner = sqrtm(tensor(matmul(matmul(R, C2.data, nn, nn, nn), R, nn, nn, nn), [nn, nn]), { method: 'newtonSchulz' }).sqrt.data;
    let explicit = 0;
    for (let i = 0; i < nn; i++) explicit += C1.data[i * nn + i] + C2.data[i * nn + i] - 2 * inner[i * nn + i];
    const zero = tensor(new Float64Array(nn), [nn]);
    const viaRoute = gaussian.w2(zero, C1, zero, C2);
    const bes = available.filter((be) => be !== 'cuda');
    const perBackend = bes.map((be, i) => {
      ctx.progress('W2 per backend', i, bes.length);
      return { be, ms: timeMs(() => gaussian.w2(zero, C1, zero, C2, { backend: be })), w: gaussian.w2(zero, C1, zero, C2, { backend: be }) };
    });
    ctx.progress('W2 per backend', bes.length, bes.length);
    const spread = Math.max(...perBackend.map((p) => Math.abs(p.w - viaRoute) / viaRoute));
    return [
      { claim: 'N([0,0],[[2,.5],[.5,1]]) vs N([1,2],[[1,-.3],[-.3,3]]): KL', computed: kl.toFixed(6), pass: kl > 0 },
      { claim: 'the same pair: Bhattacharyya, Hellinger^2 = 1 - exp(-B)', computed: `${bh.toFixed(6)}, ${he.toFixed(6)}`, pass: Math.abs(he - (1 - Math.exp(-bh))) < 1e-15 },
      { claim: 'the same pair: W2^2 (Cholesky + eigenvalues, never negative)', computed: w2.toFixed(6), pass: w2 >= 0 },
      { claim: 'W2^2(mean shift t) - W2^2(0) = t^2, t = 0 .. 3 (gaussian-shift.svg)', computed: `max error ${w2Err.toExponential(1)}`, pass: w2Err < 1e-12 },
      { claim: 'sqrtm([[4, 0], [0, 9]]) = [[2, 0], [0, 3]]', computed: `[${[...r.sqrt.data].join(', ')}], residual ${r.residual}`, pass: r.sqrt.data.join() === '2,0,0,3' },
      {
        claim: `FID(means 0.1 apart) - FID(same distribution), ${ns} samples, ${dim} dims = ||mu1 - mu2||^2 = ${(dim * 0.01).toFixed(2)}`,
        computed: `${fidShift.toFixed(4)} - ${fidSame.toFixed(4)} = ${(fidShift - fidSame).toFixed(4)}`,
        pass: Math.abs(fidShift - fidSame - dim * 0.01) < 0.2,
      },
      { claim: `FID with 40 samples in ${dim} dims (singular covariance): finite, >= 0`, computed: fidFew.toFixed(4), pass: Number.isFinite(fidFew) && fidFew >= 0 },
      {
        claim: `W2^2 by Cholesky + eigenvalues = through explicit square roots (n = ${nn}, to 1e-10)`,
        computed: `${viaRoute.toFixed(10)} vs ${explicit.toFixed(10)}`,
        pass: Math.abs(viaRoute - explicit) / explicit < 1e-10,
      },
      {
        claim: 'the same W2 on every backend (to 1e-12), ms per call',
        computed: perBackend.map((p) => `${p.be} ${p.ms.toFixed(1)}`).join(', ') + `; max rel. difference ${spread.toExponential(1)}`,
        pass: spread < 1e-12,
      },
    ];
  },
};
