// The backend chain: cuda > cpu > wasm > js. Backends load lazily, once; each op picks the first
// available backend that implements it, starting from the one asked for (per call, setBackend,
// or KEXUE_BACKEND), so an op a backend lacks falls through to the next, never to a wrong answer.
import { KexueError } from '../errors.js';
import { createJsBackend } from './js.js';
import { createCpuBackend, createCudaBackend, loadNative } from './native.js';
import { BACKEND_ORDER, type Backend, type BackendChoice, type BackendInfo, type BackendName, type OpName } from './types.js';
import { createWasmBackend } from './wasm.js';

const FACTORIES: Record<BackendName, () => Backend> = {
  cuda: createCudaBackend,
  cpu: createCpuBackend,
  wasm: createWasmBackend,
  js: createJsBackend,
};
const cache = new Map<BackendName, Backend>();
let choice: BackendChoice | undefined;

export function isBackendName(v: unknown): v is BackendName {
  return typeof v === 'string' && (BACKEND_ORDER as readonly string[]).includes(v);
}

function checkChoice(v: unknown, what: string): BackendChoice {
  if (v === 'auto' || isBackendName(v)) return v;
  throw new KexueError('E_BACKEND', `${what} must be one of 'auto', ${BACKEND_ORDER.map((b) => `'${b}'`).join(', ')}; got ${JSON.stringify(v)}`);
}

export function backendByName(name: BackendName): Backend {
  let b = cache.get(name);
  if (!b) {
    b = FACTORIES[name]();
    cache.set(name, b);
  }
  return b;
}

/** One entry per backend, in the order `auto` tries them. */
export function backends(): BackendInfo[] {
  return BACKEND_ORDER.map((n) => backendByName(n).info());
}

/** Forces a backend for every op ('auto' restores the default chain). Throws if it is unavailable. */
export function setBackend(name: BackendChoice): void {
  const c = checkChoice(name, 'setBackend');
  if (c !== 'auto') {
    const info = backendByName(c).info();
    if (!info.available) throw new KexueError('E_BACKEND', `backend '${c}' is unavailable: ${info.reason}`);
  }
  choice = c;
}

function currentChoice(): BackendChoice {
  if (choice === undefined) {
    const env = process.env.KEXUE_BACKEND;
    choice = env === undefined || env === '' ? 'auto' : checkChoice(env, 'the KEXUE_BACKEND environment variable');
  }
  return choice;
}

/** The backend ops use by default: the forced one, or the first available in the chain. */
export function getBackend(): BackendName {
  const c = currentChoice();
  if (c !== 'auto') return c;
  return BACKEND_ORDER.find((n) => backendByName(n).available) ?? 'js';
}

/** The backend that runs `op`: the requested one if available, then the rest of the chain after it. */
export function resolve(op: OpName, requested?: BackendChoice): Backend {
  const c = requested === undefined ? currentChoice() : checkChoice(requested, "the 'backend' option");
  const start = c === 'auto' ? 0 : BACKEND_ORDER.indexOf(c);
  if (c !== 'auto' && !backendByName(c).available)
    throw new KexueError('E_BACKEND', `backend '${c}' is unavailable: ${backendByName(c).info().reason}`);
  for (const n of BACKEND_ORDER.slice(start)) {
    const b = backendByName(n);
    if (b.available && b.kernels[op]) return b;
  }
  return backendByName('js');
}

/** Threads per op on the cpu backend (KEXUE_NUM_THREADS sets the default: all cores). */
export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > 1024) throw new KexueError('E_RANGE', `setNumThreads takes an integer in [1, 1024]; got ${n}`);
  loadNative().addon?.setNumThreads(n);
}

export function getNumThreads(): number {
  return loadNative().addon?.getNumThreads() ?? 1;
}
