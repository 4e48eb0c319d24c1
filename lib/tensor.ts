import { KexueError } from './errors.js';

export type DType = 'float32' | 'float64' | 'int32' | 'uint8';
export type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array;
export type FloatArray = Float32Array | Float64Array;
export type Shape = readonly number[];

type ArrayFor<D extends DType> = D extends 'float32'
  ? Float32Array
  : D extends 'float64'
    ? Float64Array
    : D extends 'int32'
      ? Int32Array
      : Uint8Array;

const CTORS = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  uint8: Uint8Array,
} as const;

/** The dtype of a typed array, or undefined for any other value. */
export function dtypeOf(a: unknown): DType | undefined {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof Uint8Array) return 'uint8';
  return undefined;
}

/**
 * A dense row-major tensor: a typed array plus a shape. Nothing more is needed to exchange data
 * with other ML libraries: pass `t.data` and `t.shape`.
 */
export class Tensor<T extends TypedArray = TypedArray> {
  readonly data: T;
  readonly shape: Shape;

  constructor(data: T, shape: Shape) {
    const dt = dtypeOf(data);
    if (dt === undefined)
      throw new KexueError('E_DTYPE', `Tensor data must be a Float32Array, Float64Array, Int32Array or Uint8Array; got ${describe(data)}`);
    checkShape(shape, 'shape');
    const n = shapeSize(shape);
    if (n !== data.length)
      throw new KexueError('E_SHAPE', `shape [${shape.join(', ')}] holds ${n} elements but the data has ${data.length}`);
    this.data = data;
    this.shape = Object.freeze([...shape]);
  }

  get dtype(): DType {
    return dtypeOf(this.data)!;
  }

  get size(): number {
    return this.data.length;
  }

  get rank(): number {
    return this.shape.length;
  }

  /** The same data viewed with another shape of the same size. */
  reshape(shape: Shape): Tensor<T> {
    return new Tensor(this.data, shape);
  }

  /** Nested plain arrays (for printing and tests). */
  toArray(): unknown {
    const rec = (dim: number, off: number): unknown => {
      if (dim === this.shape.length) return this.data[off];
      const stride = shapeSize(this.shape.slice(dim + 1));
      return Array.from({ length: this.shape[dim] }, (_, i) => rec(dim + 1, off + i * stride));
    };
    return rec(0, 0);
  }

  toString(): string {
    return `Tensor(${this.dtype}, [${this.shape.join(', ')}])`;
  }
}

/**
 * Builds a tensor. `data` may be a typed array (its dtype is kept) or a plain array of numbers
 * (float32 unless `dtype` says otherwise); `shape` defaults to `[data.length]`.
 */
export function tensor<D extends DType = 'float32'>(data: ArrayLike<number>, shape?: Shape, dtype?: D): Tensor<ArrayFor<D>>;
export function tensor<T extends TypedArray>(data: T, shape?: Shape): Tensor<T>;
export function tensor(data: ArrayLike<number>, shape?: Shape, dtype?: DType): Tensor {
  let arr: TypedArray;
  const dt = dtypeOf(data);
  if (dt !== undefined && (dtype === undefined || dtype === dt)) arr = data as TypedArray;
  else {
    const want = dtype ?? 'float32';
    if (!(want in CTORS)) throw new KexueError('E_DTYPE', `unknown dtype '${String(want)}'`);
    if (data === null || typeof data !== 'object' || typeof (data as ArrayLike<number>).length !== 'number')
      throw new KexueError('E_ARG', `tensor data must be an array or a typed array; got ${describe(data)}`);
    arr = CTORS[want].from(data as ArrayLike<number>);
  }
  return new Tensor(arr, shape ?? [arr.length]);
}

/** Number of elements of a (validated) shape. */
export function shapeSize(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Throws E_SHAPE unless shape is an array of non-negative integers with a safe product. */
export function checkShape(shape: unknown, what: string): asserts shape is Shape {
  if (!Array.isArray(shape))
    throw new KexueError('E_SHAPE', `${what} must be an array of non-negative integers; got ${describe(shape)}`);
  let n = 1;
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0)
      throw new KexueError('E_SHAPE', `${what}[${i}] must be a non-negative integer; got ${describe(d)}`);
    n *= d;
  }
  if (!Number.isSafeInteger(n))
    throw new KexueError('E_OOM', `${what} [${shape.join(', ')}] has ${n} elements: more than can be addressed`);
}

/** Allocates a typed array, turning an allocation failure into E_OOM. */
export function allocate<D extends DType>(dtype: D, n: number): ArrayFor<D> {
  try {
    return new CTORS[dtype](n) as ArrayFor<D>;
  } catch (e) {
    const bytes = n * CTORS[dtype].BYTES_PER_ELEMENT;
    throw new KexueError('E_OOM', `cannot allocate ${n} ${dtype} elements (${formatBytes(bytes)})`, { cause: e });
  }
}

export function formatBytes(b: number): string {
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  while (b >= 1024 && i < u.length - 1) {
    b /= 1024;
    i++;
  }
  return `${b.toPrecision(3)} ${u[i]}`;
}

/** A short description of a value for error messages. */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '...' : v);
  if (v instanceof Tensor) return v.toString();
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${(v as TypedArray).length})`;
  if (Array.isArray(v)) return `array(${v.length})`;
  return typeof v;
}
