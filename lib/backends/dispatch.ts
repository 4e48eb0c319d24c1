// Runs one kernel on the backend the registry picks, synchronously or as a Promise. The native
// addon has its own Promise forms (AsyncWorker on its thread pool); wasm and js kernels run in a
// worker thread so that long work never blocks the event loop.
import { Worker } from 'node:worker_threads';
import { asKexueError, KexueError } from '../errors.js';
import type { TypedArray } from '../tensor.js';
import { resolve } from './registry.js';
import { outputsOf, type BackendChoice, type BackendName, type Kernels, type OpName } from './types.js';

type Args<K extends OpName> = Parameters<Kernels[K]>;

/** Runs `op` now; returns the name of the backend that ran it. */
export function runOp<K extends OpName>(op: K, backend: BackendChoice | undefined, args: Args<K>): BackendName {
  const b = resolve(op, backend);
  try {
    (b.kernels[op] as (...a: Args<K>) => void)(...args);
  } catch (e) {
    throw asKexueError(e, `${op} on the ${b.name} backend`);
  }
  return b.name;
}

/**
 * The native Promise forms read and write the caller's arrays from another thread while the
 * Promise is pending, so their memory must stay put: an array on a resizable ArrayBuffer or a
 * growable SharedArrayBuffer is refused (E_ARG). Transferring or detaching an array while its
 * call is pending is not detectable here and is undefined behaviour, as with fs.read's buffer.
 */
function assertFixedMemory(op: string, args: readonly unknown[]): void {
  const check = (v: unknown, where: string) => {
    if (!ArrayBuffer.isView(v)) return;
    const buf = v.buffer as { resizable?: boolean; growable?: boolean };
    if (buf.resizable === true || buf.growable === true)
      throw new KexueError('E_ARG', `${op}: ${where} is on a resizable or growable buffer, which an asynchronous call cannot hold in place; copy it into a fixed-length typed array first`);
  };
  args.forEach((a, i) => {
    check(a, `argument ${i}`);
    if (a !== null && typeof a === 'object' && !ArrayBuffer.isView(a))
      for (const [k, v] of Object.entries(a as Record<string, unknown>)) check(v, `argument ${i}.${k}`);
  });
}

/** Runs `op` off the event loop; resolves with the name of the backend that ran it. */
export async function runOpAsync<K extends OpName>(op: K, backend: BackendChoice | undefined, args: Args<K>): Promise<BackendName> {
  const b = resolve(op, backend);
  const native = b.asyncKernels?.[op] as ((...a: Args<K>) => Promise<void>) | undefined;
  if (native) assertFixedMemory(op, args as unknown[]);
  try {
    if (native) await native(...args);
    else await inWorker(b.name, op, args as unknown[]);
  } catch (e) {
    throw asKexueError(e, `${op} on the ${b.name} backend`);
  }
  return b.name;
}

// ---- the worker thread ------------------------------------------------------------------------

interface Reply {
  id: number;
  outputs?: TypedArray[];
  error?: { code?: string; message: string };
}

let worker: Worker | undefined;
let nextId = 1;
const pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: unknown) => void }>();

function getWorker(): Worker {
  if (worker) return worker;
  const w = new Worker(new URL('./worker.js', import.meta.url));
  w.on('message', (r: Reply) => {
    const p = pending.get(r.id);
    if (!p) return;
    pending.delete(r.id);
    if (pending.size === 0) w.unref();
    p.resolve(r);
  });
  w.on('error', (e) => {
    for (const p of pending.values()) p.reject(e);
    pending.clear();
    worker = undefined;
  });
  w.on('exit', () => {
    if (worker === w) worker = undefined;
  });
  w.unref();
  worker = w;
  return w;
}

async function inWorker(backend: BackendName, op: OpName, args: unknown[]): Promise<void> {
  const w = getWorker();
  const id = nextId++;
  const reply = await new Promise<Reply>((resolve, reject) => {
    pending.set(id, { resolve, reject });
    w.ref();
    // Inputs are copied (structured clone): the caller's arrays are never detached.
    w.postMessage({ id, backend, op, args });
  });
  if (reply.error) throw asKexueError(reply.error, 'worker thread');
  outputsOf(op, args).forEach((dst, k) => {
    if (dst) (dst as TypedArray).set(reply.outputs![k] as never);
  });
}
