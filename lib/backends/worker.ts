// Worker thread for the Promise forms of the wasm and js backends (see dispatch.ts): runs one
// kernel per message on its own instance of the backend and sends the outputs back (transferred).
import { parentPort } from 'node:worker_threads';
import type { TypedArray } from '../tensor.js';
import { backendByName } from './registry.js';
import { outputsOf, type BackendName, type OpName } from './types.js';

parentPort!.on('message', (m: { id: number; backend: BackendName; op: OpName; args: unknown[] }) => {
  try {
    const fn = backendByName(m.backend).kernels[m.op] as ((...a: unknown[]) => void) | undefined;
    if (!fn) throw Object.assign(new Error(`the ${m.backend} backend has no ${m.op}`), { code: 'E_BACKEND' });
    fn(...m.args);
    const outputs = outputsOf(m.op, m.args) as (TypedArray | null)[];
    const transfer = [...new Set(outputs.filter((o): o is TypedArray => o !== null).map((o) => o.buffer as ArrayBuffer))];
    parentPort!.postMessage({ id: m.id, outputs }, transfer);
  } catch (e) {
    const err = e as { code?: string; message?: string };
    parentPort!.postMessage({ id: m.id, error: { code: err.code, message: err.message ?? String(e) } });
  }
});
