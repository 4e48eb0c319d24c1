import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { KexueError, backends, getBackend, setBackend, uniform } from '../dist/index.js';
import { resolve } from '../dist/backends/registry.js';

describe('backends()', () => {
  it('lists cuda, cpu, wasm and js with availability, reason, SIMD level, threads and device', () => {
    const b = backends();
    expect(b.map((x) => x.name)).toEqual(['cuda', 'cpu', 'wasm', 'js']);
    for (const x of b) {
      expect(typeof x.available).toBe('boolean');
      expect(typeof x.simd).toBe('string');
      expect(typeof x.threads).toBe('number');
      expect(typeof x.device).toBe('string');
      if (!x.available) expect(x.reason, x.name).toMatch(/.{20,}/);
      else expect(x.ops).toContain('dropout');
    }
    expect(b.find((x) => x.name === 'js')!.available).toBe(true);
    expect(b.find((x) => x.name === 'wasm')!.available).toBe(true);
  });

  it('setBackend forces a backend, refuses unavailable ones with the reason, and auto restores the chain', () => {
    const auto = getBackend();
    setBackend('js');
    expect(getBackend()).toBe('js');
    expect(resolve('uniform').name).toBe('js');
    setBackend('auto');
    expect(getBackend()).toBe(auto);
    for (const b of backends().filter((x) => !x.available)) {
      expect(() => setBackend(b.name)).toThrow(KexueError);
      expect(() => uniform([2], { seed: 1, backend: b.name })).toThrow(/unavailable/);
    }
    expect(() => setBackend('tpu' as never)).toThrow(/must be one of/);
  });

  it.runIf(existsSync('build-cuda/Release/kexue.node'))('the CUDA-enabled build loads; without a GPU, cuda is unavailable with the reason', () => {
    const cuda = backends().find((x) => x.name === 'cuda')!;
    const cpu = backends().find((x) => x.name === 'cpu')!;
    expect(cpu.available).toBe(true);
    if (!cuda.available) expect(cuda.reason).toMatch(/no usable GPU: .*(driver|device)/i);
    else expect(cuda.device).not.toBe('none');
  });

  it('the cpu backend reports the instruction set it uses', () => {
    const cpu = backends().find((x) => x.name === 'cpu')!;
    if (cpu.available) expect(['scalar', 'sse2', 'avx2']).toContain(cpu.simd);
  });

  it('KEXUE_BACKEND selects the default backend; a bad value is a clear error', () => {
    const run = (env: string) =>
      execFileSync(process.execPath, ['--input-type=module', '-e', "import('./dist/index.js').then(k => { try { console.log(k.getBackend()) } catch (e) { console.log(e.code) } })"], {
        env: { ...process.env, KEXUE_BACKEND: env },
        encoding: 'utf8',
      }).trim();
    expect(run('js')).toBe('js');
    expect(run('wasm')).toBe('wasm');
    expect(run('nope')).toBe('E_BACKEND');
  });
});

describe('the one native source list', () => {
  it('native/sources.gypi names every native/core source, and binding.gyp, CMakeLists.txt and the wasm build use it', () => {
    const gypi = readFileSync('native/sources.gypi', 'utf8');
    for (const f of readdirSync('native/core').filter((f) => f.endsWith('.cc'))) expect(gypi, f).toContain(`'native/core/${f}'`);
    for (const f of readdirSync('native/napi').filter((f) => f.endsWith('.cc'))) expect(gypi, f).toContain(`'native/napi/${f}'`);
    expect(readFileSync('binding.gyp', 'utf8')).toContain("'includes': ['native/sources.gypi']");
    expect(readFileSync('CMakeLists.txt', 'utf8')).toContain('native/sources.gypi');
    expect(readFileSync('scripts/build-wasm.mjs', 'utf8')).toContain('readSources');
  });
});
