// Tour section: the backends this machine has (native CPU, CUDA, WebAssembly, pure TypeScript),
// which one `auto` picks, and why any is unavailable.
import { backends, getBackend } from '../../index.js';
import type { TourRow, TourSection } from '../types.js';

export const section: TourSection = {
  name: 'backends',
  title: 'Backends: native CPU (SIMD, threads), CUDA, WebAssembly SIMD, pure-TypeScript reference',
  async run(ctx) {
    const info = backends();
    const rows: TourRow[] = info.map((b) => ({
      claim: `backend ${b.name}`,
      computed: b.available ? `available: ${b.simd} SIMD, ${b.threads} thread${b.threads === 1 ? '' : 's'}, ${b.device}` : `unavailable: ${b.reason ?? 'no reason given'}`,
      pass: null,
    }));
    const first = info.find((b) => b.available)?.name;
    const chosen = getBackend();
    rows.push({
      claim: 'auto picks the first available backend (cuda > cpu > wasm > js)',
      computed: `default ${chosen}${process.env.KEXUE_BACKEND ? ` (KEXUE_BACKEND=${process.env.KEXUE_BACKEND})` : ''}`,
      pass: process.env.KEXUE_BACKEND ? null : chosen === first,
    });
    rows.push({ claim: 'the pure-TypeScript reference is always there', computed: info.find((b) => b.name === 'js')?.available ? 'js available' : 'js missing', pass: info.some((b) => b.name === 'js' && b.available) });
    ctx.note('force a backend with setBackend(), KEXUE_BACKEND or the { backend } option of every op');
    return rows;
  },
};
