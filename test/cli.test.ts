// The `kexue` command (dist/cli/main.js, the package's bin): `kexue fid A B` against the library's
// frechetDistance, --save-stats round trips, and errors as `kexue: ...` with exit 1 (2 for usage).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GaussianStats, frechetDistance, normal, tensor, type Tensor } from '../dist/index.js';
import { writeNpy, writeNpyFile } from '../dist/io/npy.js';
import { freshSeed } from './helpers.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'dist', 'cli', 'main.js');

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function kexue(...args: string[]): Run {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function expectFailure(r: Run, status: 1 | 2, message: RegExp): void {
  expect(r.status, r.stderr).toBe(status);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(/^kexue: /);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
}

const relClose = (got: number, want: number, what: string) =>
  expect(Math.abs(got - want), `${what}: ${got} vs ${want}`).toBeLessThanOrEqual(1e-12 * Math.abs(want));

let dir = '';
const seed = freshSeed();
const m = 300;
const n = 16;
let a: Tensor;
let b: Tensor;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kexue-cli-'));
  a = normal([m, n], { seed, dtype: 'float64' });
  b = normal([m - 40, n], { seed, stream: 1, dtype: 'float64', mean: 0.25, std: 1.5 });
  writeNpyFile(join(dir, 'a.npy'), a);
  writeNpyFile(join(dir, 'b.npy'), b);
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe(`kexue fid (seed ${seed}; KEXUE_TEST_SEED=${seed} reproduces)`, () => {
  it('--json: the FID of two .npy feature files equals frechetDistance in-process', () => {
    const r = kexue('fid', 'a.npy', 'b.npy', '--json');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout) as { fid: number; a: { count: number; n: number }; b: { count: number; n: number } };
    const want = frechetDistance(a, b);
    expect(want).toBeGreaterThan(0);
    relClose(out.fid, want, 'fid');
    expect(out.a).toMatchObject({ count: m, n });
    expect(out.b).toMatchObject({ count: m - 40, n });
  });

  it('plain output: "FID <value>", the value as in --json', () => {
    const r = kexue('fid', join(dir, 'a.npy'), join(dir, 'b.npy')); // absolute paths too
    expect(r.status, r.stderr).toBe(0);
    const match = /^FID (\S+)\n$/.exec(r.stdout);
    expect(match, r.stdout).not.toBeNull();
    relClose(Number(match![1]), frechetDistance(a, b), 'fid');
  });

  it('float32 features are read too', () => {
    const a32 = normal([100, n], { seed, stream: 2 });
    writeNpyFile(join(dir, 'a32.npy'), a32);
    const r = kexue('fid', 'a32.npy', 'b.npy', '--json');
    expect(r.status, r.stderr).toBe(0);
    relClose((JSON.parse(r.stdout) as { fid: number }).fid, frechetDistance(a32, b), 'fid f32');
  });

  it('--save-stats with A alone saves its statistics; fid with the saved JSON gives the same number', () => {
    const r = kexue('fid', 'a.npy', '--save-stats', 'a.json');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/saved the statistics of a\.npy \(count 300, n 16\) to a\.json/);
    const j = JSON.parse(readFileSync(join(dir, 'a.json'), 'utf8')) as unknown;
    const saved = GaussianStats.fromJSON(j);
    expect(saved.count).toBe(m);
    expect(saved.n).toBe(n);

    const direct = (JSON.parse(kexue('fid', 'a.npy', 'b.npy', '--json').stdout) as { fid: number }).fid;
    const viaStats = kexue('fid', 'a.json', 'b.npy', '--json');
    expect(viaStats.status, viaStats.stderr).toBe(0);
    expect((JSON.parse(viaStats.stdout) as { fid: number }).fid).toBe(direct);

    // B's statistics too (--save-stats saves A's, with or without B), then both as JSON, either order
    const both = kexue('fid', 'b.npy', 'a.json', '--save-stats=b.json', '--json');
    expect(both.status, both.stderr).toBe(0);
    expect(JSON.parse(both.stdout)).toMatchObject({ a: { file: 'b.npy', count: m - 40, n }, b: { file: 'a.json', count: m, n }, saved: 'b.json' });
    const stats = kexue('fid', 'a.json', 'b.json', '--json');
    expect(stats.status, stats.stderr).toBe(0);
    expect((JSON.parse(stats.stdout) as { fid: number }).fid).toBe(direct);
    relClose(frechetDistance(saved, b), direct, 'in-process from the saved stats');
  });

  it('--backend js works; an unknown backend is a usage error', () => {
    const r = kexue('fid', 'a.npy', 'b.npy', '--backend', 'js', '--json');
    expect(r.status, r.stderr).toBe(0);
    relClose((JSON.parse(r.stdout) as { fid: number }).fid, frechetDistance(a, b), 'fid js');
    expectFailure(kexue('fid', 'a.npy', 'b.npy', '--backend', 'gpu'), 2, /--backend must be one of/);
  });
});

describe('kexue errors', () => {
  it('a malformed .npy file: exit 1 and a kexue: message naming the file', () => {
    const good = writeNpy(normal([4, n], { seed, dtype: 'float64' }));
    writeFileSync(join(dir, 'truncated.npy'), good.subarray(0, good.length - 5));
    expectFailure(kexue('fid', 'truncated.npy', 'b.npy'), 1, /^kexue: truncated\.npy: truncated \.npy data/);
    writeFileSync(join(dir, 'text.npy'), 'not numpy at all\n');
    expectFailure(kexue('fid', 'a.npy', 'text.npy', '--json'), 1, /^kexue: text\.npy: not a \.npy file: bad magic/);
    writeFileSync(join(dir, 'garbage.bin'), new Uint8Array([1, 2, 3]));
    expectFailure(kexue('fid', 'garbage.bin', 'b.npy'), 1, /garbage\.bin: neither a \.npy file nor a statistics JSON file/);
    writeFileSync(join(dir, 'bad.json'), '{"kexue": "GaussianStats", "n": 2}');
    expectFailure(kexue('fid', 'bad.json', 'b.npy'), 1, /bad\.json: not a statistics file/);
    writeFileSync(join(dir, 'broken.json'), '{"kexue": ');
    expectFailure(kexue('fid', 'broken.json', 'b.npy'), 1, /broken\.json: not valid JSON/);
  });

  it('wrong shapes and dtypes, too few samples, missing files: exit 1', () => {
    writeNpyFile(join(dir, 'vec.npy'), normal([n], { seed, dtype: 'float64' }));
    expectFailure(kexue('fid', 'vec.npy', 'b.npy'), 1, /vec\.npy: features must be a 2-d array \[m, n\]; got shape \[16\]/);
    writeNpyFile(join(dir, 'narrow.npy'), normal([50, n - 1], { seed, dtype: 'float64' }));
    expectFailure(kexue('fid', 'a.npy', 'narrow.npy'), 1, /feature dimensions differ: a\.npy has 16, narrow\.npy has 15/);
    writeNpyFile(join(dir, 'int.npy'), tensor(new Int32Array([1, 2, 3, 4, 5, 6, 7, 8]), [4, 2]));
    expectFailure(kexue('fid', 'int.npy', 'b.npy'), 1, /int\.npy: features must be float32 or float64; got int32/);
    writeNpyFile(join(dir, 'one.npy'), normal([1, n], { seed, dtype: 'float64' }));
    expectFailure(kexue('fid', 'one.npy', 'b.npy'), 1, /one\.npy: a covariance needs at least 2 samples/);
    expectFailure(kexue('fid', 'missing.npy', 'b.npy'), 1, /^kexue: cannot read missing\.npy: no such file/);
    expectFailure(kexue('fid', 'a.npy', '--save-stats', join(dir, 'no', 'such', 'dir.json')), 1, /cannot write/);
  });

  it('usage errors: exit 2', () => {
    expectFailure(kexue(), 2, /no command given/);
    expectFailure(kexue('frechet', 'a.npy', 'b.npy'), 2, /unknown command 'frechet'/);
    expectFailure(kexue('fid', 'a.npy'), 2, /needs a second input B/);
    expectFailure(kexue('fid'), 2, /needs two inputs/);
    expectFailure(kexue('fid', 'a.npy', 'b.npy', 'c.npy'), 2, /takes two inputs/);
    expectFailure(kexue('fid', 'a.npy', 'b.npy', '--nope'), 2, /unknown option --nope/);
    expectFailure(kexue('fid', 'a.npy', '--save-stats'), 2, /--save-stats needs a value/);
    expectFailure(kexue('fid', 'a.npy', 'b.npy', '--json=yes'), 2, /--json takes no value/);
  });
});

describe('kexue --help, --version, the bin entry', () => {
  it('--help and --version', () => {
    const h = kexue('--help');
    expect(h.status).toBe(0);
    expect(h.stdout).toMatch(/^Usage:\n {2}kexue fid A B/);
    expect(h.stdout).toMatch(/--save-stats OUT/);
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string> };
    const v = kexue('--version');
    expect(v.status).toBe(0);
    expect(v.stdout).toBe(`${pkg.version}\n`);
  });

  it('package.json bin points at the built CLI, which starts with a node shebang', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    expect(pkg.bin).toEqual({ kexue: './dist/cli/main.js' });
    expect(readFileSync(join(root, pkg.bin.kexue), 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });
});
