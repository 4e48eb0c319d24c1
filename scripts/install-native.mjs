// Builds the CPU addon with node-gyp at install time. A failed build is not fatal for users: the
// loader falls back to the committed WebAssembly module and says how to get the native build.
// Set KEXUE_REQUIRE_NATIVE=1 (CI does) to make a failed build fail the install.
import { spawnSync } from 'node:child_process';

if (process.env.KEXUE_SKIP_NATIVE === '1') {
  console.log('kexue: KEXUE_SKIP_NATIVE=1, not building the native addon (the wasm backend will be used)');
  process.exit(0);
}
const r = spawnSync('node-gyp', ['rebuild'], { stdio: 'inherit', shell: process.platform === 'win32' });
if (r.status !== 0) {
  const why = r.error ? r.error.message : `node-gyp exited with ${r.status}`;
  console.warn(`kexue: the native addon was not built (${why}). kexue will use its WebAssembly backend.\n` +
    '  To build it later: `npm rebuild kexue` (needs Python 3, make and a C++17 compiler).');
  if (process.env.KEXUE_REQUIRE_NATIVE === '1') process.exit(1);
}
