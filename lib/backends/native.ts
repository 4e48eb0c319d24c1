// The native backends: the CPU addon (node-gyp, build/Release/kexue.node) and the CUDA-enabled
// addon (cmake-js, build-cuda/Release/kexue.node), which also carries the CPU kernels. Each
// failure to load is kept, so backends() can say why a backend is missing and how to get it.
import { createRequire } from 'node:module';
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import { OP_NAMES, type AsyncKernels, type Backend, type Kernels } from './types.js';

const require = createRequire(import.meta.url);

export const CPU_ADDON = fileURLToPath(new URL('../../build/Release/kexue.node', import.meta.url));
export const CUDA_ADDON = fileURLToPath(new URL('../../build-cuda/Release/kexue.node', import.meta.url));

/** The addon's own surface (native/napi/addon.cc). */
export interface NativeAddon extends Kernels {
  info(): { isa: string; isaBest: string; threads: number; cudaBuilt: boolean };
  setNumThreads(n: number): void;
  getNumThreads(): number;
  setIsaLimit(isa: 'scalar' | 'sse2' | 'avx2'): string;
  cuda: Partial<Kernels> & { info(): { available: boolean; reason: string; devices: string[] } } & Record<string, unknown>;
  [name: string]: unknown;
}

interface Loaded {
  addon?: NativeAddon;
  path?: string;
  cpuReason?: string;
  cudaReason?: string;
}

function tryLoad(path: string): { addon?: NativeAddon; error?: string } {
  if (!existsSync(path)) return { error: `${path} is not built` };
  try {
    const addon = require(path) as NativeAddon;
    if (typeof addon.info !== 'function' || typeof addon.cuda?.info !== 'function')
      return { error: `${path} is not a kexue addon of this version (rebuild it)` };
    return { addon };
  } catch (e) {
    return { error: `${path} failed to load: ${(e as Error).message}` };
  }
}

const HOW_CPU =
  'build it with `npm rebuild kexue` (or `npm run build:native` in a clone; needs Python 3, make and a C++17 compiler); ' +
  'npm 11 runs install scripts only for packages that allowScripts approves, so approve kexue first';
const HOW_CUDA = 'build it with `npm run build:cuda` on a machine with the CUDA toolkit (nvcc)';

let loaded: Loaded | undefined;

/** Loads the addons once: the CUDA-enabled build first, then the CPU build. */
export function loadNative(): Loaded {
  if (loaded) return loaded;
  // A CUDA build older than the CPU build is stale (the sources changed since): skip it.
  const stale = existsSync(CUDA_ADDON) && existsSync(CPU_ADDON) && statSync(CUDA_ADDON).mtimeMs < statSync(CPU_ADDON).mtimeMs;
  const cuda = stale ? { error: `${CUDA_ADDON} is older than ${CPU_ADDON}` } : tryLoad(CUDA_ADDON);
  if (cuda.addon) {
    const ci = cuda.addon.cuda.info();
    loaded = { addon: cuda.addon, path: CUDA_ADDON, cudaReason: ci.available ? undefined : `no usable GPU: ${ci.reason}` };
    return loaded;
  }
  const cpu = tryLoad(CPU_ADDON);
  const cudaReason = `no CUDA-enabled build: ${cuda.error}; ${HOW_CUDA}`;
  if (cpu.addon) loaded = { addon: cpu.addon, path: CPU_ADDON, cudaReason };
  else loaded = { cpuReason: `native addon unavailable: ${cpu.error}; ${HOW_CPU}`, cudaReason };
  return loaded;
}

/** Ops whose addon function has another name. */
const ADDON_NAMES: Partial<Record<keyof Kernels, string>> = {
  w2Trace: 'linalgW2Trace',
  cholesky: 'linalgCholeskyBatch',
  eigh: 'linalgEigh',
  sqrtm: 'linalgSqrtm',
  solve: 'linalgSolve',
  featureStats: 'linalgFeatureStats',
  gemm: 'linalgGemm',
};

function pick(obj: Record<string, unknown>): { kernels: Partial<Kernels>; asyncKernels: AsyncKernels } {
  const kernels: Record<string, unknown> = {};
  const asyncKernels: Record<string, unknown> = {};
  for (const k of OP_NAMES) {
    const name = ADDON_NAMES[k] ?? k;
    if (typeof obj[name] === 'function') kernels[k] = obj[name];
    if (typeof obj[`${name}Async`] === 'function') asyncKernels[k] = obj[`${name}Async`];
  }
  return { kernels: kernels as Partial<Kernels>, asyncKernels: asyncKernels as AsyncKernels };
}

export function createCpuBackend(): Backend {
  const l = loadNative();
  const { kernels, asyncKernels } = l.addon ? pick(l.addon) : { kernels: {}, asyncKernels: {} };
  return {
    name: 'cpu',
    available: l.addon !== undefined,
    kernels,
    asyncKernels,
    info: () => {
      const i = l.addon?.info();
      return {
        name: 'cpu',
        available: l.addon !== undefined,
        ...(l.cpuReason ? { reason: l.cpuReason } : {}),
        simd: i?.isa ?? 'none',
        threads: i?.threads ?? 0,
        device: os.cpus()[0]?.model?.trim() ?? os.arch(),
        ops: Object.keys(kernels),
      };
    },
  };
}

export function createCudaBackend(): Backend {
  const l = loadNative();
  const available = l.addon !== undefined && l.cudaReason === undefined;
  const { kernels, asyncKernels } = available ? pick(l.addon!.cuda) : { kernels: {}, asyncKernels: {} };
  const devices = available ? l.addon!.cuda.info().devices : [];
  return {
    name: 'cuda',
    available,
    kernels,
    asyncKernels,
    info: () => ({
      name: 'cuda',
      available,
      ...(available ? {} : { reason: l.cudaReason ?? 'not built' }),
      simd: 'cuda',
      threads: 0,
      device: devices[0] ?? 'none',
      ops: Object.keys(kernels),
    }),
  };
}
