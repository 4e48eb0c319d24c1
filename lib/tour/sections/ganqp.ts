// Tour section: GAN-QP and BiGAN-QP (techniques.md section 5) trained from scratch with the
// library's own MLP kernels and Adam on 2-D toy data, showing that the quadratic-potential critic
// (no Lipschitz constraint, no gradient penalty) drives the generator towards the data: the W2
// distance between generated and real samples falls, and BiGAN-QP's encoder/generator pair learns
// to reconstruct. Sized so the full run takes a few seconds on two cores (about 3.5 s on cpu).
import { trainBiganQp, trainGanQp, type GanTrainResult } from '../../ops/gan_train.js';
import type { TourContext, TourRow, TourSection } from '../types.js';

const f3 = (v: number) => v.toFixed(3);

/** Vega-Lite: real vs generated samples, one panel per snapshot step. */
function scatterSpec(title: string, r: GanTrainResult): Record<string, unknown> {
  const values: Record<string, unknown>[] = [];
  for (const { step, samples } of r.snapshots) {
    for (let i = 0; i < r.real.length / 2; i++) values.push({ x: r.real[2 * i], y: r.real[2 * i + 1], kind: 'real', step });
    for (let i = 0; i < samples.length / 2; i++) values.push({ x: samples[2 * i], y: samples[2 * i + 1], kind: 'generated', step });
  }
  return {
    title,
    data: { values },
    facet: { column: { field: 'step', type: 'ordinal', title: 'training step' } },
    spec: {
      width: 180,
      height: 180,
      mark: { type: 'point', filled: true, size: 10, opacity: 0.6, clip: true },
      encoding: {
        x: { field: 'x', type: 'quantitative', scale: { domain: [-3, 3] } },
        y: { field: 'y', type: 'quantitative', scale: { domain: [-3, 3] } },
        color: { field: 'kind', type: 'nominal', scale: { domain: ['real', 'generated'], range: ['#999999', '#d62728'] } },
      },
    },
  };
}

/** Vega-Lite: W2 against the training step for both models and both measures. */
function w2Spec(runs: [string, GanTrainResult][]): Record<string, unknown> {
  const values: Record<string, unknown>[] = [];
  for (const [model, r] of runs)
    for (const h of r.history) {
      values.push({ model, step: h.step, W2: h.w2, measure: 'samples (optimal assignment)' });
      values.push({ model, step: h.step, W2: h.w2Gaussian, measure: 'Gaussian fits' });
    }
  return {
    title: 'W2(generated, real) during training',
    data: { values },
    facet: { column: { field: 'model', type: 'nominal' } },
    spec: {
      width: 260,
      height: 180,
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'step', type: 'quantitative' },
        y: { field: 'W2', type: 'quantitative' },
        color: { field: 'measure', type: 'nominal' },
      },
    },
  };
}

function progress(ctx: TourContext, label: string) {
  return (s: number, n: number) => {
    if (s % 10 === 0 || s === n) ctx.progress(label, s, n);
  };
}

export const section: TourSection = {
  name: 'ganqp',
  title: 'GAN-QP / BiGAN-QP: a quadratic-potential critic trains a generator without a Lipschitz constraint',
  async run(ctx) {
    const q = ctx.quick;
    const ganSteps = q ? 300 : 2000, biSteps = q ? 100 : 600;
    // the quick run is shorter, so its claims ask for less (the same direction)
    const w2Ratio = q ? 0.75 : 0.5, recRatio = q ? 0.3 : 0.1;
    const gan = trainGanQp({
      seed: 2018,
      steps: ganSteps,
      batch: 64,
      hidden: 32,
      lr: 3e-3,
      evalEvery: q ? 150 : 250,
      snapshotSteps: q ? [ganSteps / 4, ganSteps / 2] : [250, 500, 1000],
      onProgress: progress(ctx, 'GAN-QP'),
    });
    const bi = trainBiganQp({
      seed: 2019,
      steps: biSteps,
      batch: 64,
      hidden: 32,
      evalEvery: q ? 50 : 100,
      snapshotSteps: [biSteps / 4, biSteps / 2],
      onProgress: progress(ctx, 'BiGAN-QP'),
    });
    const rows: TourRow[] = [];
    const [g0, g1] = [gan.history[0], gan.history.at(-1)!];
    rows.push({
      claim: `GAN-QP on 8 Gaussians (radius 2): W2(generated, real) falls below ${w2Ratio} of its start`,
      computed: `W2 ${f3(g0.w2)} -> ${f3(g1.w2)} (two real samples: ${f3(gan.w2Floor)}); Gaussian fits ${f3(g0.w2Gaussian)} -> ${f3(g1.w2Gaussian)}; ${ganSteps} steps, ${(gan.ms / 1000).toFixed(1)} s`,
      pass: g1.w2 < w2Ratio * g0.w2,
    });
    const [b0, b1] = [bi.history[0], bi.history.at(-1)!];
    rows.push({
      claim: `BiGAN-QP on a noisy sine curve, 1-D latent: W2(G(z), data) falls below ${w2Ratio} of its start`,
      computed: `W2 ${f3(b0.w2)} -> ${f3(b1.w2)} (two real samples: ${f3(bi.w2Floor)}); Gaussian fits ${f3(b0.w2Gaussian)} -> ${f3(b1.w2Gaussian)}; ${biSteps} steps, ${(bi.ms / 1000).toFixed(1)} s`,
      pass: b1.w2 < w2Ratio * b0.w2,
    });
    rows.push({
      claim: `BiGAN-QP: the encoder/generator pair learns to reconstruct, mean ||x - G(E(x))||^2 below ${recRatio} of its start`,
      computed: `${b0.reconstruction!.toFixed(4)} -> ${b1.reconstruction!.toFixed(4)}`,
      pass: b1.reconstruction! < recRatio * b0.reconstruction!,
    });
    for (const [name, r] of [['GAN-QP', gan], ['BiGAN-QP', bi]] as const)
      ctx.note(`${name} W2 by step: ${r.history.map((h) => `${h.step}: ${f3(h.w2)}`).join(', ')}`);
    await ctx.plot('ganqp_samples.svg', scatterSpec('GAN-QP: real (grey) and generated (red) samples', gan));
    await ctx.plot('biganqp_samples.svg', scatterSpec('BiGAN-QP: data (grey) and G(z) (red)', bi));
    await ctx.plot('ganqp_w2.svg', w2Spec([['GAN-QP', gan], ['BiGAN-QP', bi]]));
    return rows;
  },
};
