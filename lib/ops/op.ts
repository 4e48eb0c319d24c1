// The pattern every op follows: a `prepare` step checks the arguments and allocates the outputs,
// then the kernel runs synchronously or off the event loop, then the result is assembled.
import { runOp, runOpAsync } from '../backends/dispatch.js';
import type { BackendChoice, Kernels, OpName } from '../backends/types.js';

export interface Prepared<R> {
  op: OpName;
  args: unknown[];
  backend?: BackendChoice;
  /** Set when there is nothing to compute (e.g. dropout outside training). */
  skip?: boolean;
  result: () => R;
}

export function syncOp<A extends unknown[], R>(prepare: (...a: A) => Prepared<R>): (...a: A) => R {
  return (...a: A): R => {
    const p = prepare(...a);
    if (!p.skip) runOp(p.op, p.backend, p.args as Parameters<Kernels[OpName]>);
    return p.result();
  };
}

export function asyncOp<A extends unknown[], R>(prepare: (...a: A) => Prepared<R>): (...a: A) => Promise<R> {
  return async (...a: A): Promise<R> => {
    const p = prepare(...a);
    if (!p.skip) await runOpAsync(p.op, p.backend, p.args as Parameters<Kernels[OpName]>);
    return p.result();
  };
}
