// The tour's sections in article order (techniques.md): `npm start` runs them all,
// `npm start -- --section NAME` one of them. Each file exports `section: TourSection` (../types.ts).
import type { TourSection } from '../types.js';
import { section as backends } from './backends.js';
import { section as sampling } from './sampling.js';
import { section as attention } from './attention.js';
import { section as rank } from './rank.js';
import { section as gaussian } from './gaussian.js';
import { section as ig } from './ig.js';
import { section as consistency } from './consistency.js';
import { section as tta } from './tta.js';
import { section as ganqp } from './ganqp.js';
import { section as widen } from './widen.js';
import { section as sector } from './sector.js';

export const SECTIONS: readonly TourSection[] = [
  backends,
  sampling, // techniques 1: dropout view of MLM and MAE
  consistency, // techniques 1: MLM vs MAE consistency, the expected-embedding fix, DropToken
  attention, // techniques 2: masked attention
  tta, // techniques 2: T-TA, no row sees its own token
  rank, // techniques 2: why decoder-only
  gaussian, // techniques 3
  ig, // techniques 4
  ganqp, // techniques 5: GAN-QP and BiGAN-QP training, W2 falling
  widen, // techniques 6: function-preserving widening
  sector, // techniques 7: n points in a sector
];
