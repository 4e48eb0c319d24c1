// Compiled (not run) by test/types.test.ts against dist/*.d.ts: the public types a user sees.
import { dropout, mlmMask, maeMask, tensor, uniform, backends, KexueError, type BackendInfo, type DropoutResult } from '../../dist/index.js';

const x = tensor(new Float32Array(6), [2, 3]);
const r: DropoutResult<Float32Array> = dropout(x, { p: 0.1, seed: 1 });
const f: Float32Array = r.output.data;
const m: Uint8Array = r.mask.data;
const ids: Int32Array = mlmMask([1, 2, 3], { vocabSize: 10, maskTokenId: 3, seed: 1n }).inputIds.data;
const keep: Int32Array = maeMask({ batch: 1, tokens: 4, ratio: 0.5, seed: 1 }).idsKeep.data;
const u64 = uniform([3], { seed: 1, dtype: 'float64', backend: 'wasm' });
const info: BackendInfo[] = backends();
const code: string = new KexueError('E_RANGE', 'x').code;
// @ts-expect-error seed is required
uniform([3], {});
// @ts-expect-error p is required
dropout(x, { seed: 1 });
// @ts-expect-error unknown backend
uniform([3], { seed: 1, backend: 'gpu' });
export { f, m, ids, keep, u64, info, code };
