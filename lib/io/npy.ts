// NumPy .npy files (format versions 1.0, 2.0 and 3.0): read into a Tensor, write a Tensor.
//
// Layout: the magic "\x93NUMPY", a major and a minor version byte, the header length (uint16 LE
// for 1.0, uint32 LE for 2.0 and 3.0), the header (a Python dict literal such as
// "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }" padded with spaces and ended by
// "\n"; latin-1 for 1.0/2.0, UTF-8 for 3.0), then the raw element bytes.
// The header is parsed by a small parser for Python literals, never evaluated.
import { readFileSync, writeFileSync } from 'node:fs';
import { KexueError } from '../errors.js';
import { Tensor, allocate, shapeSize, type DType, type TypedArray } from '../tensor.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const ALIGN = 64; // numpy pads magic + length + header to a multiple of 64 bytes
const GROWTH_AXIS_MAX_DIGITS = 21; // numpy's spare room after the header dict (see numpy.lib.format)

const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const ITEMSIZE: Record<DType, number> = { float32: 4, float64: 8, int32: 4, uint8: 1 };
const KIND: Record<string, DType> = { f4: 'float32', f8: 'float64', i4: 'int32', u1: 'uint8' };

function formatError(message: string): KexueError {
  return new KexueError('E_FORMAT', message);
}

// ---- a parser for the Python literals that a .npy header holds ----------------------------------

type PyValue = string | number | boolean | null | PyValue[] | PyDict;
class PyDict {
  constructor(readonly entries: Map<string, PyValue>) {}
}
/** A tuple (a list is a plain array): kept apart only to show values as Python would. */
class PyTuple extends Array<PyValue> {}

/** A parsed value written back as a Python literal, for error messages. */
function pyRepr(v: PyValue): string {
  if (typeof v === 'string') return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (v === null) return 'None';
  if (typeof v === 'number') return String(v);
  if (v instanceof PyDict) return `{${[...v.entries].map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x)}`).join(', ')}}`;
  const items = v.map(pyRepr);
  return v instanceof PyTuple ? `(${items.join(', ')}${items.length === 1 ? ',' : ''})` : `[${items.join(', ')}]`;
}

const MAX_DEPTH = 32;

class LiteralParser {
  private i = 0;
  constructor(private readonly s: string) {}

  parseAll(): PyValue {
    const v = this.value(0);
    this.ws();
    if (this.i < this.s.length) this.fail(`unexpected ${this.show()} after the header dict`);
    return v;
  }

  private fail(msg: string): never {
    throw formatError(`malformed .npy header (${msg} at offset ${this.i}): ${JSON.stringify(clip(this.s))}`);
  }

  private show(): string {
    return this.i < this.s.length ? JSON.stringify(this.s[this.i]) : 'end of header';
  }

  private ws(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i])) this.i++;
  }

  private value(depth: number): PyValue {
    if (depth > MAX_DEPTH) this.fail('nested too deeply');
    this.ws();
    const c = this.s[this.i];
    if (c === undefined) this.fail('unexpected end');
    if (c === '{') return this.dict(depth);
    if (c === '(') return this.sequence(')', depth);
    if (c === '[') return this.sequence(']', depth);
    if (c === "'" || c === '"') return this.string();
    if ((c === 'u' || c === 'b' || c === 'U' || c === 'B') && (this.s[this.i + 1] === "'" || this.s[this.i + 1] === '"')) {
      this.i++;
      return this.string();
    }
    if (/[-+0-9]/.test(c)) return this.number();
    const word = /^[A-Za-z_]\w*/.exec(this.s.slice(this.i, this.i + 16))?.[0];
    if (word === 'True' || word === 'False' || word === 'None') {
      this.i += word.length;
      return word === 'True' ? true : word === 'False' ? false : null;
    }
    this.fail(`unexpected ${word !== undefined ? JSON.stringify(word) : this.show()}`);
  }

  private dict(depth: number): PyDict {
    this.i++; // {
    const entries = new Map<string, PyValue>();
    for (;;) {
      this.ws();
      if (this.s[this.i] === '}') {
        this.i++;
        return new PyDict(entries);
      }
      const key = this.value(depth + 1);
      if (typeof key !== 'string') this.fail('a dict key that is not a string');
      this.ws();
      if (this.s[this.i] !== ':') this.fail(`expected ':' but found ${this.show()}`);
      this.i++;
      const v = this.value(depth + 1);
      if (entries.has(key)) this.fail(`duplicate key ${JSON.stringify(key)}`);
      entries.set(key, v);
      this.ws();
      if (this.s[this.i] === ',') this.i++;
      else if (this.s[this.i] !== '}') this.fail(`expected ',' or '}' but found ${this.show()}`);
    }
  }

  private sequence(close: ')' | ']', depth: number): PyValue[] {
    this.i++; // ( or [
    const out: PyValue[] = close === ')' ? new PyTuple() : [];
    let sawComma = false;
    for (;;) {
      this.ws();
      if (this.s[this.i] === close) {
        this.i++;
        // (x) without a comma is a parenthesised value, not a tuple
        if (close === ')' && out.length === 1 && !sawComma) return out[0] as PyValue[];
        return out;
      }
      out.push(this.value(depth + 1));
      this.ws();
      if (this.s[this.i] === ',') {
        this.i++;
        sawComma = true;
      } else if (this.s[this.i] !== close) this.fail(`expected ',' or '${close}' but found ${this.show()}`);
    }
  }

  private string(): string {
    const q = this.s[this.i++];
    let out = '';
    for (;;) {
      const c = this.s[this.i++];
      if (c === undefined || c === '\n') this.fail('unterminated string');
      if (c === q) return out;
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = this.s[this.i++];
      const simple: Record<string, string> = { '\\': '\\', "'": "'", '"': '"', n: '\n', t: '\t', r: '\r', '0': '\0' };
      if (e !== undefined && e in simple) out += simple[e];
      else if (e === 'x' || e === 'u') {
        const len = e === 'x' ? 2 : 4;
        const hex = this.s.slice(this.i, this.i + len);
        if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) this.fail(`bad \\${e} escape`);
        out += String.fromCharCode(parseInt(hex, 16));
        this.i += len;
      } else this.fail(`unsupported escape \\${e ?? ''}`);
    }
  }

  private number(): number {
    const m = /^[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)[lL]?/.exec(this.s.slice(this.i, this.i + 400));
    if (m === null) this.fail('bad number');
    this.i += m[0].length;
    return Number(m[0].replace(/[lL]$/, ''));
  }
}

function clip(s: string): string {
  return s.length > 200 ? s.slice(0, 200) + '...' : s;
}

// ---- reading -----------------------------------------------------------------------------------

interface Header {
  dtype: DType;
  littleEndian: boolean;
  shape: number[];
}

function parseDescr(d: PyValue): { dtype: DType; littleEndian: boolean } {
  if (typeof d !== 'string')
    throw formatError(
      `unsupported .npy descr ${clip(pyRepr(d))}: ` +
        `structured and record dtypes are not supported (supported: '<f4', '<f8', '<i4', '|u1' and big-endian '>f4', '>f8', '>i4')`,
    );
  const m = /^([<>|=]?)([a-z]\d+)$/.exec(d);
  const dtype = m === null ? undefined : KIND[m[2]];
  if (m === null || dtype === undefined)
    throw formatError(`unsupported .npy descr '${d}' (supported: '<f4', '<f8', '<i4', '|u1' and big-endian '>f4', '>f8', '>i4')`);
  const order = m[1];
  if (ITEMSIZE[dtype] > 1 && order === '|') throw formatError(`unsupported .npy descr '${d}': a multi-byte type needs a byte order '<' or '>'`);
  return { dtype, littleEndian: order === '<' || (order !== '>' && HOST_LE) };
}

function parseHeader(text: string): Header {
  const v = new LiteralParser(text).parseAll();
  if (!(v instanceof PyDict)) throw formatError(`malformed .npy header: not a dict: ${JSON.stringify(clip(text.trim()))}`);
  const e = v.entries;
  for (const k of ['descr', 'fortran_order', 'shape'])
    if (!e.has(k)) throw formatError(`malformed .npy header: no '${k}' key: ${JSON.stringify(clip(text.trim()))}`);
  const fortran = e.get('fortran_order');
  if (typeof fortran !== 'boolean') throw formatError(`malformed .npy header: 'fortran_order' must be True or False; got ${clip(pyRepr(fortran ?? null))}`);
  const { dtype, littleEndian } = parseDescr(e.get('descr')!);
  const shapeV = e.get('shape');
  if (!Array.isArray(shapeV)) throw formatError(`malformed .npy header: 'shape' must be a tuple of integers; got ${clip(pyRepr(shapeV ?? null))}`);
  const shape: number[] = [];
  for (const d of shapeV) {
    if (typeof d !== 'number' || !Number.isInteger(d))
      throw formatError(`malformed .npy header: 'shape' must be a tuple of integers; got ${clip(pyRepr(shapeV))}`);
    if (d < 0) throw formatError(`malformed .npy header: negative dimension ${d} in shape (${shapeV.join(', ')})`);
    if (!Number.isSafeInteger(d)) throw formatError(`malformed .npy header: dimension ${d} in shape is too large`);
    shape.push(d);
  }
  // Checked after the dtype and shape so that a Fortran-ordered file of an unsupported dtype names the dtype.
  if (fortran && shape.filter((d) => d > 1).length > 1)
    throw formatError('Fortran-ordered arrays are not supported: save with np.ascontiguousarray');
  return { dtype, littleEndian, shape };
}

function hex(b: number): string {
  return '\\x' + b.toString(16).padStart(2, '0');
}

/**
 * Reads a NumPy .npy file (versions 1.0, 2.0, 3.0) from its bytes. Supports descr '<f4', '<f8',
 * '<i4', '|u1' and the big-endian '>f4', '>f8', '>i4' (byte-swapped), C order only. The data is
 * copied into a fresh typed array, so `bytes` may be any (unaligned) view. Anything malformed or
 * unsupported throws a KexueError with code E_FORMAT.
 */
export function readNpy(bytes: Uint8Array | Buffer): Tensor {
  if (!(bytes instanceof Uint8Array)) throw new KexueError('E_ARG', `readNpy: expected a Uint8Array or Buffer; got ${typeof bytes}`);
  for (let i = 0; i < MAGIC.length; i++)
    if (bytes[i] !== MAGIC[i]) {
      const got = Array.from(bytes.subarray(0, 6), (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : hex(b))).join('');
      throw formatError(
        bytes.length < MAGIC.length && i === bytes.length
          ? `not a .npy file: ${bytes.length} bytes, too short for the magic string "\\x93NUMPY"`
          : `not a .npy file: bad magic string (expected "\\x93NUMPY", got "${got}")`,
      );
    }
  if (bytes.length < 10) throw formatError(`truncated .npy file: ${bytes.length} bytes, too short for the version and header length`);
  const major = bytes[6];
  const minor = bytes[7];
  if (!((major === 1 || major === 2 || major === 3) && minor === 0))
    throw formatError(`unsupported .npy format version ${major}.${minor} (supported: 1.0, 2.0, 3.0)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let start: number;
  let hlen: number;
  if (major === 1) {
    hlen = view.getUint16(8, true);
    start = 10;
  } else {
    if (bytes.length < 12) throw formatError(`truncated .npy file: ${bytes.length} bytes, too short for a version ${major}.0 header length`);
    hlen = view.getUint32(8, true);
    start = 12;
  }
  if (start + hlen > bytes.length)
    throw formatError(`truncated .npy file: the header says it is ${hlen} bytes long but only ${bytes.length - start} bytes follow`);
  const raw = bytes.subarray(start, start + hlen);
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1', { fatal: major === 3 }).decode(raw);
  const { dtype, littleEndian, shape } = parseHeader(text);

  const size = ITEMSIZE[dtype];
  const dataStart = start + hlen;
  const have = bytes.length - dataStart;
  const count = shapeSize(shape);
  const need = count * size;
  const shapeText = `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`;
  if (have < need) throw formatError(`truncated .npy data: shape ${shapeText} of ${dtype} needs ${need} bytes but the file has ${have}`);
  if (have > need) throw formatError(`malformed .npy file: shape ${shapeText} of ${dtype} needs ${need} bytes but the file has ${have} (${have - need} extra)`);

  const out = allocate(dtype, count) as TypedArray;
  const dst = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  dst.set(bytes.subarray(dataStart, dataStart + need)); // a copy: the source may be unaligned
  if (size > 1 && littleEndian !== HOST_LE) swapBytes(dst, size);
  return new Tensor(out, shape);
}

function swapBytes(b: Uint8Array, size: number): void {
  for (let i = 0; i < b.length; i += size)
    for (let lo = i, hi = i + size - 1; lo < hi; lo++, hi--) {
      const t = b[lo];
      b[lo] = b[hi];
      b[hi] = t;
    }
}

// ---- writing -----------------------------------------------------------------------------------

const DESCR: Record<DType, string> = { float32: '<f4', float64: '<f8', int32: '<i4', uint8: '|u1' };

export interface WriteNpyOptions {
  /** Format version: 1 (16-bit header length), 2 (32-bit) or 3 (32-bit, UTF-8 header). Default: 1, or 2 when the header needs it. */
  version?: 1 | 2 | 3;
}

/**
 * Writes a tensor as a NumPy .npy file (little-endian, C order), byte for byte what `np.save`
 * writes: version 1.0, or 2.0 when the header would not fit 1.0's 16-bit length.
 */
export function writeNpy(t: Tensor, opts: WriteNpyOptions = {}): Uint8Array {
  if (!(t instanceof Tensor)) throw new KexueError('E_ARG', `writeNpy: expected a Tensor; got ${t === null ? 'null' : typeof t}`);
  const v = opts?.version;
  if (v !== undefined && v !== 1 && v !== 2 && v !== 3) throw new KexueError('E_ARG', `writeNpy: version must be 1, 2 or 3; got ${String(v)}`);
  const shape = t.shape;
  const shapeRepr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let dict = `{'descr': '${DESCR[t.dtype]}', 'fortran_order': False, 'shape': ${shapeRepr}, }`;
  if (shape.length > 0) dict += ' '.repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - String(shape[0]).length));
  const headerBytes = (prefix: number): number => {
    const hlen = dict.length + 1;
    return hlen + (ALIGN - ((prefix + hlen) % ALIGN));
  };
  let major: number = v ?? 1;
  let prefix = major === 1 ? 10 : 12;
  let hlen = headerBytes(prefix);
  if (hlen > 0xffff && major === 1) {
    if (v === 1) throw new KexueError('E_ARG', `writeNpy: a header of ${hlen} bytes does not fit version 1.0 (at most 65535); use version 2`);
    major = 2;
    prefix = 12;
    hlen = headerBytes(prefix);
  }
  const size = ITEMSIZE[t.dtype];
  const total = prefix + hlen + t.size * size;
  let out: Uint8Array;
  try {
    out = new Uint8Array(total);
  } catch (e) {
    throw new KexueError('E_OOM', `writeNpy: cannot allocate ${total} bytes`, { cause: e });
  }
  out.set(MAGIC, 0);
  out[6] = major;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, hlen, true);
  else view.setUint32(8, hlen, true);
  const header = dict.padEnd(hlen - 1, ' ') + '\n';
  for (let i = 0; i < header.length; i++) out[prefix + i] = header.charCodeAt(i); // ASCII only
  const data = out.subarray(prefix + hlen);
  data.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  if (size > 1 && !HOST_LE) swapBytes(data, size);
  return out;
}

// ---- files -------------------------------------------------------------------------------------

/** Reads a .npy file from disk (see readNpy). A file that cannot be read throws E_ARG. */
export function readNpyFile(path: string): Tensor {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new KexueError('E_ARG', `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  try {
    return readNpy(bytes);
  } catch (e) {
    if (e instanceof KexueError && e.code === 'E_FORMAT') throw new KexueError('E_FORMAT', `${path}: ${e.message}`, { cause: e });
    throw e;
  }
}

/** Writes a tensor to disk as a .npy file (see writeNpy). A file that cannot be written throws E_ARG. */
export function writeNpyFile(path: string, t: Tensor, opts?: WriteNpyOptions): void {
  const bytes = writeNpy(t, opts);
  try {
    writeFileSync(path, bytes);
  } catch (e) {
    throw new KexueError('E_ARG', `cannot write ${path}: ${(e as Error).message}`, { cause: e });
  }
}
