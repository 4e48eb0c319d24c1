// .npy reading and writing: round trips, the files numpy itself writes (embedded below), and
// malformed or unsupported input, which must give a KexueError E_FORMAT and never a crash.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KexueError, tensor, type DType, type Tensor } from '../dist/index.js';
import { readNpy, readNpyFile, writeNpy, writeNpyFile } from '../dist/io/npy.js';
import { firstBitMismatch } from './helpers.js';

// The reference files below were written ONCE by numpy and pasted here (the tests never call
// Python): for each case, `np.save` (or `np.lib.format.write_array(f, a, version=...)` for the
// v2/v3 cases) into a BytesIO, base64-encoded; `values` is `a.ravel().tolist()`. E.g.
//   /usr/bin/python3 -c "import numpy as np, io, base64; b = io.BytesIO();
//     np.save(b, np.arange(6, dtype=np.float32).reshape(2, 3) / np.float32(3) - 1);
//     print(base64.b64encode(b.getvalue()).decode())"
// Cases without a dtype are files that kexue must refuse (Fortran order, float16, int64, structured).
// Generated once with numpy 1.24.2 (np.save / np.lib.format.write_array); see the comment above.
const NUMPY_FILES: { name: string; b64: string; dtype?: string; shape: number[]; values: number[] }[] = [
  { name: 'f4 [2,3] v1', dtype: 'float32', shape: [2, 3], values: [-1.0, -0.6666666269302368, -0.3333333134651184, 0.0, 0.3333333730697632, 0.6666666269302368],
    b64: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDMpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAIC/qqoqv6qqqr4AAAAArKqqPqqqKj8=' },
  { name: 'f8 [5] v1 special values', dtype: 'float64', shape: [5], values: [0.1, -0, Infinity, -Infinity, NaN],
    b64: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGY4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDUsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAqamZmZmZm5PwAAAAAAAACAAAAAAAAA8H8AAAAAAADw/wAAAAAAAPh/' },
  { name: 'f8 [] scalar', dtype: 'float64', shape: [], values: [2.5],
    b64: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGY4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKCksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAAAEQA==' },
  { name: 'f8 [0] empty', dtype: 'float64', shape: [0], values: [],
    b64: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGY4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDAsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAo=' },
  { name: 'f4 [2,0,3] empty', dtype: 'float32', shape: [2, 0, 3], values: [],
    b64: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDAsIDMpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAo=' },
  { name: 'i4 [2,3,4]', dtype: 'int32', shape: [2, 3, 4], values: [-12000000, -10999997, -9999994, -8999991, -7999988, -6999985, -5999982, -4999979, -3999976, -2999973, -1999970, -999967, 36, 1000039, 2000042, 3000045, 4000048, 5000051, 6000054, 7000057, 8000060, 9000063, 10000066, 11000069],
    b64: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGk0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDMsIDQpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoA5Uj/QydY/4ZpZ//Jq3b/DO6F/08wlf+ScqT/1bSz/xj3wv9bOdL/nnvh/+G98P8kAAAAZ0IPAKqEHgDtxi0AMAk9AHNLTAC2jVsA+c9qADwSegB/VIkAwpaYAAXZpwA=' },
  { name: 'u1 [4]', dtype: 'uint8', shape: [4], values: [0, 1, 128, 255],
    b64: 'k05VTVBZAQB2AHsnZGVzY3InOiAnfHUxJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDQsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAYD/' },
  { name: '>f8 [2,2] big-endian', dtype: 'float64', shape: [2, 2], values: [1.5, -2.25, 1e+300, 5e-324],
    b64: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPmY4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDIpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAo/+AAAAAAAAMACAAAAAAAAfjfkPIgAdZwAAAAAAAAAAQ==' },
  { name: '>f4 [3] big-endian', dtype: 'float32', shape: [3], values: [1.5, -2.25, 3.000000085396614e-38],
    b64: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPmY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDMsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAo/wAAAwBAAAAEjVeY=' },
  { name: '>i4 [3] big-endian', dtype: 'int32', shape: [3], values: [1, -2, 2147483647],
    b64: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPmk0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDMsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAB/////n////8=' },
  { name: 'f8 [2,3] v2', dtype: 'float64', shape: [2, 3], values: [0.0, 0.25, 0.5, 0.75, 1.0, 1.25],
    b64: 'k05VTVBZAgB0AAAAeydkZXNjcic6ICc8ZjgnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMiwgMyksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAAAAAAAAAAAAANA/AAAAAAAA4D8AAAAAAADoPwAAAAAAAPA/AAAAAAAA9D8=' },
  { name: 'f4 [3] v3', dtype: 'float32', shape: [3], values: [1.0, 2.0, 3.0],
    b64: 'k05VTVBZAwB0AAAAeydkZXNjcic6ICc8ZjQnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMywpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAIA/AAAAQAAAQEA=' },
  { name: 'f4 [3,2] fortran', shape: [3, 2], values: [],
    b64: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBUcnVlLCAnc2hhcGUnOiAoMywgMiksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAAAAQAAAgEAAAIA/AABAQAAAoEA=' },
  { name: 'f2 [2]', shape: [2], values: [],
    b64: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGYyJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAPABA' },
  { name: 'i8 [2]', shape: [2], values: [],
    b64: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGk4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoBAAAAAAAAAAIAAAAAAAAA' },
  { name: 'structured [2]', shape: [2], values: [],
    b64: 'k05VTVBZAQB2AHsnZGVzY3InOiBbKCd4JywgJzxmNCcpLCAoJ3knLCAnPGk0JyldLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMiwpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAAAAAAAAAAAAAAAA' },
];

const enc = new TextEncoder();
const b64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));

/** The error code and message of fn, or 'no error'. Anything but a KexueError fails the test. */
function err(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (e) {
    expect(e, String(e)).toBeInstanceOf(KexueError);
    return { code: (e as KexueError).code, message: (e as Error).message };
  }
  return { code: 'no error', message: '' };
}

function expectFormat(fn: () => unknown, message: RegExp): void {
  const e = err(fn);
  expect(e.code, e.message).toBe('E_FORMAT');
  expect(e.message).toMatch(message);
}

/** A .npy file with the given header text (padded like numpy's) and data bytes. */
function craft(header: string, data: ArrayLike<number> = [], opts: { major?: number; minor?: number; pad?: boolean } = {}): Uint8Array {
  const major = opts.major ?? 1;
  const prefix = major === 1 ? 10 : 12;
  let h = header;
  if (opts.pad !== false) {
    const len = h.length + 1;
    h = h + ' '.repeat((64 - ((prefix + len) % 64)) % 64) + '\n';
  }
  const hb = enc.encode(h);
  const out = new Uint8Array(prefix + hb.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, opts.minor ?? 0]);
  const dv = new DataView(out.buffer);
  if (major === 1) dv.setUint16(8, hb.length, true);
  else dv.setUint32(8, hb.length, true);
  out.set(hb, prefix);
  out.set(Array.from(data), prefix + hb.length);
  return out;
}

const f4 = (xs: number[]): Uint8Array => new Uint8Array(new Float32Array(xs).buffer);

function sample(dtype: DType, shape: number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const xs = Array.from({ length: n }, (_, i) => (dtype === 'uint8' ? (i * 37) % 256 : dtype === 'int32' ? (i - 3) * 123456789 : Math.sin(i + 1) * 10 ** (i % 7)));
  return tensor(xs, shape, dtype);
}

function expectSame(got: Tensor, want: Tensor, what: string): void {
  expect(got.dtype, what).toBe(want.dtype);
  expect([...got.shape], what).toEqual([...want.shape]);
  expect(firstBitMismatch(got.data, want.data), what).toBe(-1);
}

function headerOf(bytes: Uint8Array): string {
  const major = bytes[6];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hlen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  return Buffer.from(bytes.subarray(start, start + hlen)).toString('latin1');
}

describe('round trips', () => {
  const dtypes: DType[] = ['float32', 'float64', 'int32', 'uint8'];
  const shapes = [[0], [3], [2, 3], [2, 3, 4], [], [2, 0, 3]];
  for (const dtype of dtypes)
    it(`${dtype}: shapes ${shapes.map((s) => `[${s}]`).join(' ')}, versions 1, 2, 3`, () => {
      for (const shape of shapes) {
        const t = sample(dtype, shape);
        for (const version of [undefined, 1, 2, 3] as const) {
          const bytes = writeNpy(t, version === undefined ? {} : { version });
          const what = `${dtype} [${shape}] v${version}`;
          expect(bytes[6], what).toBe(version ?? 1);
          expect(bytes.length - t.data.byteLength, what).toBe(128); // magic, length and header padded to 64 bytes, as numpy does
          expect((bytes.length - t.data.byteLength) % 64, what).toBe(0);
          expect(headerOf(bytes).endsWith('\n'), what).toBe(true);
          expectSame(readNpy(bytes), t, what);
        }
      }
    });

  it('float values survive bit for bit: -0, NaN payloads, infinities, subnormals', () => {
    const x = new Float64Array([-0, NaN, Infinity, -Infinity, 5e-324, Number.MAX_VALUE, 0.1]);
    new DataView(x.buffer).setUint32(4, 0x7ff80001, true); // a NaN with a payload
    expectSame(readNpy(writeNpy(tensor(x))), tensor(x), 'f8 specials');
    const y = new Float32Array([-0, NaN, Infinity, 1e-45, 3.4028234663852886e38]);
    expectSame(readNpy(writeNpy(tensor(y))), tensor(y), 'f4 specials');
  });

  it('reads from a Buffer and from an unaligned view, into a fresh aligned array', () => {
    const t = sample('float64', [2, 3]);
    const bytes = writeNpy(t);
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    const view = shifted.subarray(3); // byteOffset 3: data not 8-aligned
    const r = readNpy(view);
    expectSame(r, t, 'unaligned');
    expect(r.data.byteOffset % 8).toBe(0);
    expect(r.data.buffer).not.toBe(shifted.buffer); // a copy, not a view of the input
    expectSame(readNpy(Buffer.from(bytes)), t, 'Buffer');
    const nodeBuf = Buffer.concat([Buffer.alloc(1), Buffer.from(bytes)]).subarray(1);
    expectSame(readNpy(nodeBuf), t, 'unaligned Buffer');
  });

  it('a header too long for version 1.0 switches to 2.0 (and an explicit version 1 refuses it)', () => {
    const shape = Array.from({ length: 30000 }, () => 1); // "(1, 1, ...)" is about 90 KB of header
    const t = tensor(new Float32Array([7]), shape);
    const bytes = writeNpy(t);
    expect(bytes[6]).toBe(2);
    expect(new DataView(bytes.buffer).getUint32(8, true) + 12).toBe(bytes.length - 4);
    expect((bytes.length - 4) % 64).toBe(0);
    expectSame(readNpy(bytes), t, 'v2 big header');
    expect(err(() => writeNpy(t, { version: 1 })).code).toBe('E_ARG');
  });

  it('readNpyFile / writeNpyFile', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kexue-npy-'));
    try {
      const t = sample('float32', [4, 5]);
      const p = join(dir, 'x.npy');
      writeNpyFile(p, t);
      expectSame(readNpyFile(p), t, 'file');
      const missing = err(() => readNpyFile(join(dir, 'missing.npy')));
      expect(missing.code).toBe('E_ARG');
      expect(missing.message).toMatch(/missing\.npy/);
      writeFileSync(join(dir, 'bad.npy'), 'hello');
      expectFormat(() => readNpyFile(join(dir, 'bad.npy')), /bad\.npy: not a \.npy file/);
      expect(err(() => writeNpyFile(join(dir, 'no', 'such', 'dir.npy'), t)).code).toBe('E_ARG');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('files written by numpy', () => {
  for (const f of NUMPY_FILES.filter((c) => c.dtype !== undefined))
    it(`reads ${f.name}`, () => {
      const t = readNpy(b64(f.b64));
      expect(t.dtype).toBe(f.dtype);
      expect([...t.shape]).toEqual(f.shape);
      expect(t.data.length).toBe(f.values.length);
      for (let i = 0; i < f.values.length; i++) expect(Object.is(t.data[i], f.values[i]), `${f.name}[${i}]: ${t.data[i]} vs ${f.values[i]}`).toBe(true);
    });

  it('writes byte for byte what numpy writes (little-endian files, versions 1, 2, 3)', () => {
    for (const f of NUMPY_FILES.filter((c) => c.dtype !== undefined && !c.name.startsWith('>'))) {
      const ref = b64(f.b64);
      const version = ref[6] as 1 | 2 | 3;
      const mine = writeNpy(readNpy(ref), { version });
      expect(Buffer.from(mine).equals(Buffer.from(ref)), `${f.name}\n${headerOf(mine)}\n${headerOf(ref)}`).toBe(true);
    }
  });

  it('big-endian >f8, >f4, >i4 are byte-swapped and written back little-endian', () => {
    for (const name of ['>f8 [2,2] big-endian', '>f4 [3] big-endian', '>i4 [3] big-endian']) {
      const f = NUMPY_FILES.find((c) => c.name === name)!;
      const t = readNpy(b64(f.b64));
      expect(Array.from(t.data as ArrayLike<number>), name).toEqual(f.values);
      expect(headerOf(writeNpy(t))).toMatch(/'descr': '<[fi][48]'/);
    }
  });

  it('refuses Fortran order, float16, int64 and structured dtypes, naming what it found', () => {
    const get = (name: string) => b64(NUMPY_FILES.find((c) => c.name === name)!.b64);
    expectFormat(() => readNpy(get('f4 [3,2] fortran')), /^Fortran-ordered arrays are not supported: save with np\.ascontiguousarray$/);
    expectFormat(() => readNpy(get('f2 [2]')), /unsupported \.npy descr '<f2'/);
    expectFormat(() => readNpy(get('i8 [2]')), /unsupported \.npy descr '<i8'/);
    expectFormat(() => readNpy(get('structured [2]')), /^unsupported \.npy descr \[\('x', '<f4'\), \('y', '<i4'\)\]: structured/);
  });
});

describe('header parsing', () => {
  const data = f4([1, 2, 3, 4, 5, 6]);
  const ok = (header: string, shape: number[]) => {
    const t = readNpy(craft(header, data));
    expect([...t.shape], header).toEqual(shape);
    expect(Array.from(t.data as Float32Array), header).toEqual([1, 2, 3, 4, 5, 6]);
  };

  it('accepts any key order, double quotes, no trailing comma, odd whitespace, 3L, a list shape, no padding', () => {
    ok("{'shape': (2, 3), 'fortran_order': False, 'descr': '<f4'}", [2, 3]);
    ok('{"descr": "<f4", "fortran_order": False, "shape": (6,)}', [6]);
    ok("{ 'descr' :'<f4' ,\n'fortran_order':False,'shape':( 2 ,3 , ) , }", [2, 3]);
    ok("{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 3L), }", [2, 3]);
    ok("{'descr': '<f4', 'fortran_order': False, 'shape': [3, 2], }", [3, 2]);
    ok("{'descr': u'<f4', 'fortran_order': False, 'shape': (1, 6), 'extra': {'a': [None, True, 1.5e3, \"x\\\\y\"]}}", [1, 6]);
    ok("{'descr': '<f4', 'fortran_order': False, 'shape': ((6),), }", [6]); // (6) is just 6
    expectFormat(() => readNpy(craft("{'descr': '<f4', 'fortran_order': False, 'shape': ((6)), }", data)), /'shape' must be a tuple of integers; got 6$/);
    ok("{'descr': '<f4', 'fortran_order': True, 'shape': (6,), }", [6]); // 1-d: the same bytes in either order
    ok("{'descr': '<f4', 'fortran_order': True, 'shape': (1, 6), }", [1, 6]);
    const unpadded = craft("{'descr': '<f4', 'fortran_order': False, 'shape': (6,)}", data, { pad: false });
    expect(Array.from(readNpy(unpadded).data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(readNpy(craft("{'descr': '<f4', 'fortran_order': False, 'shape': (6,)}", data, { major: 3 })).size).toBe(6);
  });

  it('rejects Fortran order of a real 2-d array', () => {
    expectFormat(() => readNpy(craft("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", data)), /^Fortran-ordered arrays are not supported: save with np\.ascontiguousarray$/);
  });
});

describe('malformed input: E_FORMAT with a clear message', () => {
  const good = writeNpy(tensor([1, 2, 3, 4, 5, 6], [2, 3]));
  const hdr = (shape: string, descr = "'<f4'") => `{'descr': ${descr}, 'fortran_order': False, 'shape': ${shape}, }`;
  const data = f4([1, 2, 3, 4, 5, 6]);

  it('bad magic, empty and too short files, unknown versions', () => {
    expectFormat(() => readNpy(new Uint8Array(0)), /too short for the magic/);
    expectFormat(() => readNpy(good.subarray(0, 4)), /too short for the magic/);
    expectFormat(() => readNpy(enc.encode('PK\x03\x04 a zip, not npy')), /not a \.npy file: bad magic string \(expected "\\x93NUMPY", got "PK\\x03\\x04 a"\)/);
    const lower = good.slice();
    lower[1] = 'n'.charCodeAt(0);
    expectFormat(() => readNpy(lower), /bad magic/);
    expectFormat(() => readNpy(good.subarray(0, 8)), /truncated \.npy file/);
    expectFormat(() => readNpy(craft(hdr('(6,)'), data, { major: 2 }).subarray(0, 11)), /truncated \.npy file/);
    expectFormat(() => readNpy(craft(hdr('(6,)'), data, { major: 4 })), /unsupported \.npy format version 4\.0/);
    expectFormat(() => readNpy(craft(hdr('(6,)'), data, { minor: 1 })), /unsupported \.npy format version 1\.1/);
  });

  it('truncated header', () => {
    expectFormat(() => readNpy(good.subarray(0, 40)), /truncated \.npy file: the header says it is 118 bytes long but only 30 bytes follow/);
    const v2 = writeNpy(tensor([1, 2]), { version: 2 });
    expectFormat(() => readNpy(v2.subarray(0, 100)), /truncated \.npy file/);
    const huge = good.slice(0, 20);
    new DataView(huge.buffer).setUint16(8, 0xffff, true);
    expectFormat(() => readNpy(huge), /header says it is 65535 bytes/);
  });

  it('data length not matching the shape (short, long, huge dims)', () => {
    expectFormat(() => readNpy(good.subarray(0, good.length - 1)), /truncated \.npy data: shape \(2, 3\) of float32 needs 24 bytes but the file has 23/);
    const longer = new Uint8Array(good.length + 4);
    longer.set(good);
    expectFormat(() => readNpy(longer), /needs 24 bytes but the file has 28 \(4 extra\)/);
    expectFormat(() => readNpy(craft(hdr('(4294967296, 4294967296)'), data)), /truncated \.npy data/);
    expectFormat(() => readNpy(craft(hdr('(99999999999999999999999,)'), data)), /too large/);
    expectFormat(() => readNpy(craft(hdr('(0,)'), data)), /needs 0 bytes but the file has 24/);
  });

  it('negative or non-integer dims, a shape that is not a tuple', () => {
    expectFormat(() => readNpy(craft(hdr('(-2, -3)'), data)), /negative dimension -2/);
    expectFormat(() => readNpy(craft(hdr('(2, 3.5)'), data)), /'shape' must be a tuple of integers/);
    expectFormat(() => readNpy(craft(hdr("(2, '3')"), data)), /'shape' must be a tuple of integers; got \(2, '3'\)$/);
    expectFormat(() => readNpy(craft(hdr('6'), data)), /'shape' must be a tuple of integers; got 6/);
    expectFormat(() => readNpy(craft(hdr('None'), data)), /'shape' must be a tuple of integers; got None$/);
  });

  it('a header that is not a dict, lacks a key, or is not a Python literal', () => {
    expectFormat(() => readNpy(craft('[1, 2, 3]', data)), /header: not a dict/);
    expectFormat(() => readNpy(craft("'just a string'", data)), /header: not a dict/);
    expectFormat(() => readNpy(craft('', data)), /malformed \.npy header \(unexpected end/);
    expectFormat(() => readNpy(craft("{'descr': '<f4', 'shape': (6,)}", data)), /no 'fortran_order' key/);
    expectFormat(() => readNpy(craft("{'descr': '<f4', 'fortran_order': 0, 'shape': (6,)}", data)), /'fortran_order' must be True or False; got 0$/);
    expectFormat(() => readNpy(craft("{'descr': <f4, 'fortran_order': False, 'shape': (6,)}", data)), /malformed \.npy header \(unexpected "<"/);
    expectFormat(() => readNpy(craft("{'descr': '<f4, 'fortran_order': False, 'shape': (6,)}", data)), /malformed \.npy header/);
    expectFormat(() => readNpy(craft("{'descr': '<f4', 'fortran_order': False, 'shape': (6,)", data)), /malformed \.npy header \(expected ',' or '}'/);
    expectFormat(() => readNpy(craft("{'descr': '<f4', 'fortran_order': False, 'shape': (6,)} junk", data)), /after the header dict/);
    expectFormat(() => readNpy(craft("{'descr': '<f4', 'descr': '<f8', 'fortran_order': False, 'shape': (6,)}", data)), /duplicate key "descr"/);
    expectFormat(() => readNpy(craft("{1: '<f4'}", data)), /not a string/);
    expectFormat(() => readNpy(craft("{'descr': __import__('os').system('echo pwned')}", data)), /unexpected "__import__"/);
    expectFormat(() => readNpy(craft("{'a': " + '('.repeat(5000) + ')'.repeat(5000) + '}', data)), /nested too deeply/);
  });

  it('unsupported descr, named in the message', () => {
    for (const d of ['<f2', '<i8', '<u4', '|b1', '<c8', 'O', '|S5', '<U3', '<M8[ns]'])
      expectFormat(() => readNpy(craft(hdr('(6,)', `'${d}'`), data)), new RegExp(`unsupported \\.npy descr '${d.replace(/[[\]|]/g, '\\$&')}'`));
    expectFormat(() => readNpy(craft(hdr('(6,)', "'|f4'"), data)), /descr '\|f4': a multi-byte type needs a byte order/);
    expectFormat(() => readNpy(craft(hdr('(6,)', '3'), data)), /unsupported \.npy descr 3/);
  });

  it('random corruption of a valid file gives E_FORMAT or a tensor, never anything else', () => {
    let state = 12345;
    const rnd = (n: number) => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return state % n;
    };
    const bases = [good, writeNpy(tensor([1, 2, 3], [3], 'uint8'), { version: 2 }), b64(NUMPY_FILES[0].b64)];
    for (let k = 0; k < 3000; k++) {
      const base = bases[k % bases.length];
      let bytes = base.slice();
      const edits = 1 + rnd(4);
      for (let e = 0; e < edits; e++) {
        const op = rnd(3);
        if (op === 0) bytes[rnd(bytes.length)] = rnd(256);
        else if (op === 1) bytes = bytes.slice(0, rnd(bytes.length + 1));
        else bytes[6 + rnd(70)] = [0x28, 0x29, 0x7b, 0x7d, 0x27, 0x2c, 0x2d, 0x5c][rnd(8)]; // ( ) { } ' , - \ in the header
      }
      try {
        readNpy(bytes);
      } catch (e) {
        expect(e, `case ${k}: ${String(e)}`).toBeInstanceOf(KexueError);
        expect((e as KexueError).code, `case ${k}: ${String(e)}`).toBe('E_FORMAT');
      }
    }
  });

  it('readNpy and writeNpy check their argument types', () => {
    expect(err(() => readNpy('abc' as never)).code).toBe('E_ARG');
    expect(err(() => writeNpy(new Float32Array(3) as never)).code).toBe('E_ARG');
    expect(err(() => writeNpy(tensor([1]), { version: 4 as never })).code).toBe('E_ARG');
  });
});
