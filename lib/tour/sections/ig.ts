// Tour section, techniques.md section 4: integrated gradients of a small fixed MLP on an 8 x 8
// "image": completeness (attributions add up to F(x) - F(baseline)), the convergence of each
// quadrature, and exactness on a linear model. The attributions are drawn in the terminal and as
// the heatmap ig-heatmap.svg.
import { integratedGradients, mlp, normal, tensor } from '../../index.js';
import type { TourSection } from '../types.js';
import { shade } from '../util.js';

export const section: TourSection = {
  name: 'ig',
  title: 'Integrated gradients (float64; built-in MLP on the default backend; techniques 4)',
  async run(ctx) {
    // A small classifier of 8 x 8 "images" (64 -> 32 tanh -> 3 softmax), fixed seeds. The input is
    // a bright diagonal stroke; the heatmap shows which pixels carry the class probability.
    const side = 8;
    const net = mlp({
      layers: [
        { weight: normal([32, side * side], { seed: 21, dtype: 'float64', std: 0.25 }), bias: normal([32], { seed: 22, dtype: 'float64', std: 0.1 }), activation: 'tanh' },
        { weight: normal([3, 32], { seed: 23, dtype: 'float64', std: 0.5 }), bias: normal([3], { seed: 24, dtype: 'float64', std: 0.1 }), activation: 'softmax' },
      ],
    });
    const img = new Float64Array(side * side);
    for (let i = 0; i < side; i++) {
      img[i * side + i] = 1;
      if (i + 1 < side) img[i * side + i + 1] = 0.5;
    }
    const x = tensor(img, [1, side * side]);
    const r = integratedGradients(net, x, { target: 0, steps: 64 });
    const a = r.attributions.data;
    const amax = Math.max(...a.map(Math.abs));
    ctx.note(`attributions of class 0 (probability ${r.output[0].toFixed(4)} vs ${r.baselineOutput[0].toFixed(4)} at the black baseline), - marks negative:`);
    for (let i = 0; i < side; i++) {
      let line = '  ';
      for (let j = 0; j < side; j++) {
        const v = a[i * side + j];
        const c = shade(Math.abs(v) / amax);
        line += (v < 0 && c !== ' ' ? '-' : ' ') + c;
      }
      ctx.note(line.trimEnd());
    }
    const pixels = Array.from(a, (v, i) => ({ row: Math.floor(i / side), col: i % side, input: img[i], attribution: v }));
    const panel = (field: string, title: string, color: Record<string, unknown>) => ({
      title,
      width: { step: 22 },
      height: { step: 22 },
      mark: 'rect',
      encoding: { x: { field: 'col', type: 'ordinal', title: null }, y: { field: 'row', type: 'ordinal', title: null }, color: { field, type: 'quantitative', ...color } },
    });
    await ctx.plot('ig-heatmap.svg', {
      title: { text: `Integrated gradients of class 0 (64 Gauss-Legendre steps, black baseline)`, anchor: 'start' },
      data: { values: pixels },
      hconcat: [
        panel('input', 'input x', { scale: { scheme: 'greys', domain: [0, 1] } }),
        panel('attribution', 'attribution', { scale: { scheme: 'redblue', reverse: true, domain: [-amax, amax] } }),
      ],
      resolve: { scale: { color: 'independent' } },
    });

    const methods = ['riemann_left', 'riemann_right', 'riemann_middle', 'riemann_trapezoid', 'gausslegendre'] as const;
    const stepsList = [8, 32, 128];
    const deltas = methods.map((method) => stepsList.map((steps) => Math.abs(integratedGradients(net, x, { target: 0, steps, method }).delta[0])));
    ctx.note('');
    ctx.note('|delta| = |sum IG - (F(x) - F(baseline))| per method and steps:');
    ctx.note(`  ${'method'.padEnd(18)}${stepsList.map((st) => `${st} steps`.padStart(11)).join('')}`);
    methods.forEach((m, i) => ctx.note(`  ${m.padEnd(18)}${deltas[i].map((d) => d.toExponential(2).padStart(11)).join('')}`));
    let sumIg = 0;
    for (const v of a) sumIg += v;
    const lin = mlp({ layers: [{ weight: tensor(Float64Array.from({ length: 4 }, (_, i) => i - 1.5), [1, 4]), bias: tensor(Float64Array.of(0.3), [1]) }] });
    const xl = tensor(Float64Array.of(1, 2, 3, 4), [1, 4]);
    const linIg = integratedGradients(lin, xl, { steps: 3, method: 'riemann_left' }).attributions.data;
    const shrink = methods.every((_, i) => deltas[i][2] <= Math.max(deltas[i][0], 1e-12));
    return [
      { claim: 'completeness: sum of attributions = F(x) - F(baseline) (64 Gauss-Legendre steps)', computed: `${sumIg.toFixed(8)} vs ${(r.output[0] - r.baselineOutput[0]).toFixed(8)}`, pass: Math.abs(r.delta[0]) < 1e-6 },
      { claim: '|delta| shrinks from 8 to 128 steps for every method', computed: methods.map((m, i) => `${m} ${deltas[i][0].toExponential(0)} -> ${deltas[i][2].toExponential(0)}`).join(', '), pass: shrink },
      { claim: "a linear model: IG = w (x - x') exactly, even with 3 left-Riemann steps", computed: `[${[...linIg].join(', ')}]`, pass: [...linIg].every((v, i) => Math.abs(v - (i - 1.5) * (i + 1)) < 1e-12) },
    ];
  },
};
