// Builds the CUDA-enabled addon with cmake-js (CMakeLists.txt) into build-cuda/, beside node-gyp's
// build/ (which it never touches):
//   build-cuda/Release/kexue.node          the addon: CPU kernels + CUDA kernels
//   build-cuda/Release/kexue_cuda_check    the CUDA-vs-CPU check programs (no Node needed):
//   build-cuda/Release/kexue_cuda_attention_check   sampling, attention forward, and linear
//   build-cuda/Release/kexue_cuda_linalg_check      algebra (sqrtm, batched Cholesky / eigh),
//   build-cuda/Release/kexue_cuda_ig_mlp_check      the integrated-gradients MLP, the
//   build-cuda/Release/kexue_cuda_sector_check      sector-probability Monte-Carlo count
//   build-cuda/Release/kexue_cuda_mlp_train_check   and the MLP's training kernels
//
//   node scripts/build-cuda.mjs [--if-available] [--check] [-- <extra cmake-js args>]
//     --if-available  exit 0 with a note when nvcc is not found (default: exit 1)
//     --check         run the check programs after the build (exit status: the first failure's)
//     extra args      passed to cmake-js, e.g. -- --CDCMAKE_CUDA_ARCHITECTURES=90
//
// Nothing is downloaded: the addon uses only Node-API, so cmake-js is pointed at headers already
// on this machine (package.json "binary.napi_versions" -> node-api-headers from node_modules; else
// the running Node's own include/node via npm_config_nodedir). When neither is there it stops
// instead of letting cmake-js fetch headers from nodejs.org.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const sep = argv.indexOf('--');
const own = sep < 0 ? argv : argv.slice(0, sep);
const extra = sep < 0 ? [] : argv.slice(sep + 1);
for (const a of own) {
  if (a !== '--if-available' && a !== '--check') {
    console.error(`build-cuda: unknown option ${a}\n` +
      'usage: node scripts/build-cuda.mjs [--if-available] [--check] [-- <cmake-js args>]');
    process.exit(2);
  }
}
const ifAvailable = own.includes('--if-available');
const runCheck = own.includes('--check');
const exe = process.platform === 'win32' ? '.exe' : '';

function isFile(p) {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

// nvcc: $CUDACXX, then PATH, then the usual install places (what CMake's check_language looks at).
function findNvcc() {
  const candidates = [];
  if (process.env.CUDACXX) candidates.push(process.env.CUDACXX);
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (dir) candidates.push(path.join(dir, 'nvcc' + exe));
  }
  for (const v of ['CUDA_PATH', 'CUDA_HOME', 'CUDA_ROOT', 'CUDAToolkit_ROOT']) {
    if (process.env[v]) candidates.push(path.join(process.env[v], 'bin', 'nvcc' + exe));
  }
  candidates.push('/usr/local/cuda/bin/nvcc', '/opt/cuda/bin/nvcc');
  return candidates.find(isFile) || null;
}

const nvcc = findNvcc();
if (!nvcc) {
  const msg = 'build-cuda: nvcc (the CUDA compiler) was not found on PATH, in $CUDACXX, ' +
    '$CUDA_PATH/bin or /usr/local/cuda/bin, so the CUDA addon cannot be built.\n' +
    '  Install the CUDA toolkit (12.x/13.x; cudart is enough, no cuBLAS needed) or put nvcc on ' +
    'PATH.\n  The CPU addon (npm run build:native) does not need it.';
  if (ifAvailable) {
    console.log(msg.replace('build-cuda:', 'build-cuda: skipped:'));
    process.exit(0);
  }
  console.error(msg);
  process.exit(1);
}

const win = process.platform === 'win32';
const cmakeJs = path.join(root, 'node_modules', '.bin', 'cmake-js' + (win ? '.cmd' : ''));
if (!existsSync(cmakeJs)) {
  console.error('build-cuda: node_modules/.bin/cmake-js is missing: run `npm install` first.');
  process.exit(1);
}

const env = { ...process.env, CUDACXX: nvcc };
// No downloads: with "binary.napi_versions" in package.json cmake-js uses node-api-headers (a
// dependency of cmake-js, already installed). Without it, hand cmake-js the running Node's headers.
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
if (!pkg.binary?.napi_versions) {
  const nodeDir = path.resolve(path.dirname(process.execPath), '..');
  if (existsSync(path.join(nodeDir, 'include', 'node', 'node_api.h'))) {
    env.npm_config_nodedir = nodeDir;
  } else if (!env.npm_config_nodedir ||
             !existsSync(path.join(env.npm_config_nodedir, 'include', 'node', 'node_api.h'))) {
    console.error('build-cuda: no local Node-API headers: add "binary": { "napi_versions": [8] } ' +
      'to package.json (cmake-js then uses node-api-headers) or set npm_config_nodedir to a Node ' +
      'install with include/node; refusing to let cmake-js download headers.');
    process.exit(1);
  }
}

const outDir = path.join(root, 'build-cuda');
const parallel = String(os.availableParallelism?.() ?? os.cpus().length);
const args = ['rebuild', '--out', outDir, '--parallel', parallel,
  '--CDKEXUE_REQUIRE_CUDA=ON', ...extra];
console.log(`build-cuda: nvcc ${nvcc}; cmake-js ${args.join(' ')}`);
const r = spawnSync(cmakeJs, args, { cwd: root, env, stdio: 'inherit', shell: win });
if (r.status !== 0) {
  const why = r.error ? r.error.message : `exit status ${r.status}`;
  console.error(`build-cuda: cmake-js failed (${why})`);
  process.exit(1);
}

const addon = path.join(outDir, 'Release', 'kexue.node');
const checks = ['kexue_cuda_check', 'kexue_cuda_attention_check', 'kexue_cuda_linalg_check', 'kexue_cuda_ig_mlp_check', 'kexue_cuda_sector_check',
  'kexue_cuda_mlp_train_check']
  .map((name) => path.join(outDir, 'Release', name + exe));
if (!existsSync(addon)) {
  console.error(`build-cuda: the build finished but ${path.relative(root, addon)} is missing`);
  process.exit(1);
}
const built = checks.filter((c) => existsSync(c)).map((c) => path.relative(root, c));
console.log(`build-cuda: built ${path.relative(root, addon)}` +
  (built.length ? ` and ${built.join(', ')}` : ''));

if (runCheck) {
  for (const check of checks) {
    if (!existsSync(check)) {
      console.error(`build-cuda: --check: ${path.relative(root, check)} was not built ` +
        '(KEXUE_BUILD_CHECKS=OFF?)');
      process.exit(1);
    }
    console.log(`build-cuda: running ${path.relative(root, check)} --no-bench`);
    const c = spawnSync(check, ['--no-bench'], { stdio: 'inherit' });
    if (c.status !== 0) process.exit(c.status ?? 1);
  }
  process.exit(0);
}
