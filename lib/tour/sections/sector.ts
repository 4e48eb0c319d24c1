// Tour section for techniques.md section 7: the probability that n uniform points in a disc lie
// within one sector of angle theta. The closed form's stated cases (3 points in a half-disc 3/4,
// 4 points 1/2, P = 1 once theta >= 2 pi (1 - 1/n)), Monte-Carlo estimates with 95% intervals
// around them (fixed seeds: the tour is deterministic), the same hit count on every backend, and
// a plot of P(n, theta) for n = 2, 3, 5, 10, 50 (closed form lines, Monte-Carlo points with their
// intervals).
import { sectorProbability, sectorProbabilityMonteCarlo as mc } from '../../index.js';
import { sectorTheta as thetaFor } from '../../ops/sector.js';
import type { TourContext, TourRow, TourSection } from '../types.js';
import { availableBackends } from '../util.js';

const TWO_PI = 2 * Math.PI;
const SEED = 7;

const fmt = (v: number, d = 4) => v.toFixed(d);
const interval = (ci: [number, number]) => `[${fmt(ci[0])}, ${fmt(ci[1])}]`;

async function run(ctx: TourContext): Promise<TourRow[]> {
  const rows: TourRow[] = [];
  const trials = ctx.quick ? 20000 : 200000;
  // The stated cases, closed form and Monte Carlo.
  for (const [n, claim, want] of [
    [3, '3 points in a half-disc: P = 3/4', 0.75],
    [4, '4 points in a half-disc: P = 1/2', 0.5],
  ] as const) {
    const p = sectorProbability(n, Math.PI);
    rows.push({ claim: `${claim} (closed form)`, computed: String(p), pass: p === want });
    const r = mc(n, Math.PI, { trials, seed: SEED, stream: n });
    rows.push({
      claim: `${claim} (Monte Carlo, ${trials} trials, 95% interval)`,
      computed: `${fmt(r.estimate)} ${interval(r.ci95)}`,
      pass: r.ci95[0] <= want && want <= r.ci95[1],
    });
  }
  const ns = [2, 5, 10, 50, 1000];
  const atEdge = ns.map((n) => sectorProbability(n, TWO_PI * (1 - 1 / n)));
  rows.push({ claim: 'P = 1 once theta >= 2 pi (1 - 1/n) (closed form, n = 2, 5, 10, 50, 1000)', computed: atEdge.join(', '), pass: atEdge.every((p) => p === 1) });
  const edgeTrials = ctx.quick ? 1000 : 5000;
  const edgeHits = ns.map((n) => mc(n, TWO_PI * (1 - 1 / n), { trials: n === 1000 ? edgeTrials / 5 : edgeTrials, seed: SEED }));
  rows.push({
    claim: 'P = 1 once theta >= 2 pi (1 - 1/n) (Monte Carlo: every trial hits)',
    computed: edgeHits.map((r, i) => `n=${ns[i]} ${r.hits}/${r.trials}`).join(', '),
    pass: edgeHits.every((r) => r.hits === r.trials),
  });
  // Bit identity: one problem on every backend this machine has.
  const avail = availableBackends();
  const same = avail.map((b) => mc(30, 5.5, { trials: 2000, seed: SEED, backend: b }).hits);
  rows.push({
    claim: 'the same hit count on every backend (n = 30, theta = 5.5, 2000 trials)',
    computed: avail.map((b, i) => `${b} ${same[i]}`).join(', '),
    pass: same.every((h) => h === same[0]),
  });

  // The plot: closed form curves and Monte-Carlo points at the thetas where P = 0.05 .. 0.95.
  const plotNs = [2, 3, 5, 10, 50];
  const targets = Array.from({ length: 10 }, (_, i) => 0.05 + 0.1 * i);
  const curve: { theta: number; P: number; n: string }[] = [];
  const points: { theta: number; estimate: number; lo: number; hi: number; n: string }[] = [];
  const ptTrials = ctx.quick ? 4000 : 20000;
  let misses = 0, done = 0;
  for (const n of plotNs) {
    const label = `n = ${n}`;
    for (let i = 0; i <= 200; i++) {
      const theta = (TWO_PI * i) / 200;
      curve.push({ theta, P: sectorProbability(n, theta), n: label });
    }
    for (const p of targets) {
      const theta = thetaFor(n, p);
      const r = mc(n, theta, { trials: ptTrials, seed: SEED, stream: 1000 + done });
      const exact = sectorProbability(n, theta);
      if (exact < r.ci95[0] || exact > r.ci95[1]) misses++;
      points.push({ theta, estimate: r.estimate, lo: r.ci95[0], hi: r.ci95[1], n: label });
      ctx.progress('sector Monte Carlo', ++done, plotNs.length * targets.length);
    }
  }
  // 50 points, each 95% interval: more than 7 misses has probability P(Binomial(50, 0.05) >= 8) = 0.3%.
  rows.push({
    claim: `the 95% intervals contain the closed form (${points.length} points, ${ptTrials} trials each; at most 7 misses expected)`,
    computed: `${points.length - misses} of ${points.length} contain it`,
    pass: misses <= 7,
  });
  const x = { field: 'theta', type: 'quantitative', title: 'theta (radians)', scale: { domain: [0, TWO_PI] } };
  const color = { field: 'n', type: 'nominal', title: 'points', sort: plotNs.map((n) => `n = ${n}`) };
  const file = await ctx.plot('sector.svg', {
    title: 'P(n uniform points in a disc lie in one sector of angle theta)',
    width: 520,
    height: 320,
    layer: [
      { data: { values: curve }, mark: { type: 'line' }, encoding: { x, y: { field: 'P', type: 'quantitative', title: 'probability', scale: { domain: [0, 1] } }, color } },
      { data: { values: points }, mark: { type: 'rule' }, encoding: { x, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' }, color } },
      { data: { values: points }, mark: { type: 'point', filled: true, size: 24 }, encoding: { x, y: { field: 'estimate', type: 'quantitative' }, color } },
    ],
  });
  ctx.note(`plot: ${file} (lines: closed form; points: Monte Carlo with 95% Wilson intervals)`);
  return rows;
}

export const section: TourSection = {
  name: 'sector',
  title: 'n random points in a disc within one sector of angle theta (closed form and Monte Carlo)',
  run,
};
