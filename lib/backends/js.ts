import os from 'node:os';
import type { Backend, Kernels } from './types.js';
import { jsKernels } from './js/random.js';

/** The pure-TypeScript reference backend: always available, single-threaded, float64 inside. */
export function createJsBackend(): Backend {
  const kernels: Kernels = jsKernels;
  return {
    name: 'js',
    available: true,
    kernels,
    info: () => ({
      name: 'js',
      available: true,
      simd: 'none',
      threads: 1,
      device: `Node ${process.version} on ${os.cpus()[0]?.model?.trim() ?? os.arch()}`,
      ops: Object.keys(kernels),
    }),
  };
}
