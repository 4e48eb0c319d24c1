// Builds native/wasm/kexue.wasm from native/core (the same sources as the CPU addon) with clang-16
// for wasm32-wasi with SIMD128. The build is deterministic: `--check` rebuilds into a temporary
// file and exits 1 when it differs from the committed module (CI runs this).
// clang runs binaryen's wasm-opt by itself when it is on PATH (it roughly doubles kernel speed),
// so binaryen must be installed for a build that matches the committed one.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readSources, root } from './sources.mjs';

const check = process.argv.includes('--check');
const clang = process.env.KEXUE_CLANG ?? 'clang-16';
const target = path.join(root, 'native/wasm/kexue.wasm');

function have(cmd) {
  return spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
}
if (!have(clang)) {
  console.error(`build-wasm: ${clang} not found. Install it (Debian): apt-get install -y --no-install-recommends ` +
    'clang-16 lld-16 wasi-libc libclang-rt-16-dev-wasm32 binaryen');
  process.exit(1);
}
if (!have('wasm-opt')) {
  console.error('build-wasm: wasm-opt (binaryen) not found on PATH; the module would differ from the committed one. ' +
    'Install binaryen.');
  process.exit(1);
}

const sources = [...readSources().kexue_core_sources, 'native/wasm/exports.cc'];
const dir = mkdtempSync(path.join(tmpdir(), 'kexue-wasm-'));
const out = path.join(dir, 'kexue.wasm');
const args = [
  '--target=wasm32-wasi', '-O3', '-msimd128', '-std=c++17',
  '-ffp-contract=off', '-fno-math-errno', '-fno-exceptions', '-fno-rtti',
  // No absolute paths in the output, so the bytes do not depend on where the repo is.
  `-ffile-prefix-map=${root}=.`, '-Inative/core',
  '-mexec-model=reactor', '-Wl,--strip-debug', '-Wl,--max-memory=4294967296',
  '-o', out, ...sources,
];
const r = spawnSync(clang, args, { cwd: root, stdio: 'inherit' });
if (r.status !== 0) {
  rmSync(dir, { recursive: true, force: true });
  console.error(`build-wasm: ${clang} failed`);
  process.exit(1);
}
const fresh = readFileSync(out);
rmSync(dir, { recursive: true, force: true });
if (check) {
  const committed = existsSync(target) ? readFileSync(target) : Buffer.alloc(0);
  if (!committed.equals(fresh)) {
    console.error(`build-wasm --check: native/wasm/kexue.wasm (${committed.length} bytes) differs from a fresh build ` +
      `(${fresh.length} bytes). Run \`npm run build:wasm\` and commit the result.`);
    process.exit(1);
  }
  console.log(`build-wasm --check: native/wasm/kexue.wasm matches a fresh build (${fresh.length} bytes)`);
} else {
  writeFileSync(target, fresh);
  console.log(`build-wasm: wrote native/wasm/kexue.wasm (${fresh.length} bytes)`);
}
