/** Stable error codes: every failure kexue reports carries one of these. */
export type ErrorCode =
  | 'E_SHAPE' // sizes that do not fit together, or a bad shape
  | 'E_DTYPE' // a wrong element type
  | 'E_RANGE' // a value outside its allowed range (probability, id, seed, ratio)
  | 'E_ARG' // a missing or malformed argument
  | 'E_OOM' // more memory than can be allocated
  | 'E_BACKEND' // the requested backend is unavailable or failed
  | 'E_NOT_SPD' // a matrix that must be (semi-)positive definite is not
  | 'E_NO_CONVERGENCE' // an iteration did not reach its tolerance
  | 'E_FORMAT' // a malformed or unsupported file (.npy, statistics JSON)
  | 'E_INTERNAL'; // a bug in kexue

/** The one error type kexue throws. `code` is stable; `message` says what was expected and given. */
export class KexueError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KexueError';
    this.code = code;
  }
}

const CODES = new Set<string>(['E_SHAPE', 'E_DTYPE', 'E_RANGE', 'E_ARG', 'E_OOM', 'E_BACKEND', 'E_NOT_SPD', 'E_NO_CONVERGENCE', 'E_FORMAT', 'E_INTERNAL']);

/** Turns an error from a backend (native addon, wasm trap, worker) into a KexueError. */
export function asKexueError(e: unknown, context: string): KexueError {
  if (e instanceof KexueError) return e;
  const err = e as { code?: unknown; message?: unknown } | undefined;
  const code = typeof err?.code === 'string' && CODES.has(err.code) ? (err.code as ErrorCode) : 'E_BACKEND';
  const msg = typeof err?.message === 'string' ? err.message : String(e);
  return new KexueError(code, `${context}: ${msg}`, { cause: e });
}
