// Dropout benchmark (issue #1): 16M float32 elements, p = 0.1.
// Compares kexue's cpu (1 and 2 threads), wasm and js backends with a plain Math.random loop,
// tfjs (wasm backend), numpy (Debian python3) and the machine's memory-copy ceiling.
// Run: node bench/dropout.bench.mjs   (or node bench/run.mjs for every bench)
import { Bench } from 'tinybench'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { dropout, setNumThreads, getNumThreads, backends, tensor } from '../dist/index.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(here, '..')
const N = 16 * 2 ** 20
const P = 0.1
const SCALE = 1 / (1 - P)
const BYTES = 9 * N // 4n read (x) + 4n written (out) + n written (mask bytes)
const COPY_BYTES = 256 * 2 ** 20
const GB = 1e9

// Budgets (ms / iteration counts). Sequential tinybench runs each task until BOTH the time
// budget and the minimum iteration count are met, so slow entries get time ~0 and few iterations.
const FAST = { time: 3000, iterations: 15, warmupTime: 500, warmupIterations: 5 }
const SLOW = { time: 0, iterations: 5, warmupTime: 0, warmupIterations: 1 }
const MEDIUM = { time: 2500, iterations: 8, warmupTime: 0, warmupIterations: 2 }
const NUMPY = { reps: 15, warmup: 3 }

let sink = 0 // every task folds something of its result in here so nothing is dead code
const log = (...a) => console.error(...a) // progress to stderr, the table to stdout

function makeInput () {
  // deterministic values in [0.5, 1.5): never 0, so a kept element is never mistaken for a dropped one
  const x = new Float32Array(N)
  let s = 0x9e3779b9
  for (let i = 0; i < N; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    x[i] = 0.5 + s / 2 ** 32
  }
  return x
}

// ---- sanity checks: a broken build must fail here, not get timed ----
function fail (msg) {
  throw new Error(`dropout bench sanity check failed: ${msg}`)
}

function checkDropout (label, x, out, mask) {
  if (!(out instanceof Float32Array) || out.length !== N) fail(`${label}: output is not a Float32Array of ${N}`)
  if (mask && (!(mask instanceof Uint8Array) || mask.length !== N)) fail(`${label}: mask is not a Uint8Array of ${N}`)
  let kept = 0
  for (let i = 0; i < N; i++) {
    const o = out[i]
    const k = mask ? mask[i] : (o !== 0 ? 1 : 0)
    if (k === 1) {
      kept++
      const want = x[i] * SCALE
      if (!(Math.abs(o - want) <= 1e-6 * want)) fail(`${label}: out[${i}] = ${o}, kept, expected ${want}`)
    } else if (k === 0) {
      if (o !== 0) fail(`${label}: out[${i}] = ${o} but mask[${i}] = 0`)
    } else fail(`${label}: mask[${i}] = ${k}`)
  }
  const frac = kept / N
  // sd of the kept fraction is sqrt(p(1-p)/n) ~ 7e-5; 0.002 is ~27 sd
  if (Math.abs(frac - (1 - P)) > 0.002) fail(`${label}: kept fraction ${frac}, expected ~${1 - P}`)
  return frac
}

function sanityKexue (x) {
  const checks = {}
  const masks = {}
  const variants = [['cpu-1t', 'cpu', 1], ['cpu-2t', 'cpu', 2], ['wasm', 'wasm'], ['js', 'js']]
  for (const [label, backend, threads] of variants) {
    if (threads) setNumThreads(threads)
    const r = dropout(x, { p: P, seed: 7, backend })
    checks[label] = { keptFraction: checkDropout(`kexue ${label}`, x, r.output.data, r.mask.data) }
    masks[label] = r.mask.data
  }
  // same seed -> the same mask on every backend (documented: kept exactly when uniform(seed)[i] >= p)
  for (const label of Object.keys(masks)) {
    const a = masks['cpu-1t']
    const b = masks[label]
    for (let i = 0; i < N; i++) if (a[i] !== b[i]) fail(`mask of ${label} differs from cpu-1t at ${i} (same seed)`)
  }
  // another seed -> another mask (about 2p(1-p) = 18% of positions differ)
  const other = dropout(x, { p: P, seed: 8, backend: 'cpu' }).mask.data
  let diff = 0
  for (let i = 0; i < N; i++) diff += other[i] !== masks['cpu-1t'][i] ? 1 : 0
  if (Math.abs(diff / N - 2 * P * (1 - P)) > 0.003) fail(`seeds 7 and 8 differ at ${diff / N} of positions, expected ~${2 * P * (1 - P)}`)
  checks.seedsDiffer = diff / N
  return checks
}

// ---- tinybench helpers ----
function stats (task) {
  const r = task.result
  if (r.state === 'errored') throw r.error
  if (r.state !== 'completed' && r.state !== 'aborted-with-statistics') throw new Error(`${task.name}: ${r.state}`)
  const l = r.latency
  return {
    medianMs: l.p50,
    meanMs: l.mean,
    minMs: l.min,
    maxMs: l.max,
    p75Ms: l.p75,
    sdMs: l.sd,
    madMs: l.mad,
    rmePercent: l.rme,
    samples: l.samplesCount,
    samplesMs: l.samples ? Array.from(l.samples) : undefined,
  }
}

async function runBench (name, opts, tasks) {
  const bench = new Bench({ name, retainSamples: true, ...opts })
  for (const [taskName, fn, hooks] of tasks) bench.add(taskName, fn, { async: false, ...hooks })
  bench.addEventListener('cycle', (e) => {
    const t = e.task
    if (t?.result?.latency) log(`  ${t.name}: median ${t.result.latency.p50.toFixed(2)} ms (${t.result.latency.samplesCount} samples)`)
  })
  bench.addEventListener('warning', (e) => log(`  warning ${e.task?.name}: ${e.reason}`))
  await bench.run()
  const out = {}
  for (const t of bench.tasks) out[t.name] = stats(t)
  return out
}

// ---- entries ----
async function benchCopy () {
  log('memory copy ceiling (256 MiB Uint8Array.prototype.set)')
  const src = new Uint8Array(COPY_BYTES).fill(1)
  const dst = new Uint8Array(COPY_BYTES).fill(2) // touch every page before timing
  const r = await runBench('copy', FAST, [['copy', () => { dst.set(src); sink += dst[COPY_BYTES - 1] }]])
  if (dst[12345] !== 1) fail('copy did not copy')
  return r.copy
}

// Not a dropout: what allocating fresh out + mask arrays and touching every page once costs here.
// kexue's dropout() (like numpy) returns new arrays each call; the copy ceiling and the
// Math.random loop use preallocated, already-touched buffers.
async function benchAlloc () {
  log('reference: allocate + first touch of out (16M f32) and mask (16M u8)')
  const r = await runBench('alloc', FAST, [['alloc', () => {
    const a = new Float32Array(N)
    const b = new Uint8Array(N)
    a.fill(1)
    b.fill(1)
    sink += a[N - 1] + b[0]
  }]])
  return r.alloc
}

async function benchKexue (x) {
  log('kexue: cpu 1 thread, cpu 2 threads, wasm')
  let seed = 1000
  const run = (backend) => () => {
    const r = dropout(x, { p: P, seed: seed++, backend })
    sink += r.output.data[N - 1] + r.mask.data[N >> 1]
  }
  // The same call writing into preallocated tensors (`out`, `outMask`): the steady state of a
  // training loop that reuses its buffers, and the like-for-like comparison with the Math.random
  // loop, which also writes into preallocated arrays.
  const out = tensor(new Float32Array(N))
  const outMask = tensor(new Uint8Array(N))
  const reuse = (backend) => () => {
    const r = dropout(x, { p: P, seed: seed++, backend, out, outMask })
    sink += r.output.data[N - 1] + r.mask.data[N >> 1]
  }
  const fast = await runBench('kexue', FAST, [
    ['kexue cpu 1t', run('cpu'), { beforeAll: () => setNumThreads(1) }],
    ['kexue cpu 2t', run('cpu'), { beforeAll: () => setNumThreads(2) }],
    ['kexue wasm', run('wasm')],
    ['kexue cpu 1t, out reused', reuse('cpu'), { beforeAll: () => setNumThreads(1) }],
    ['kexue cpu 2t, out reused', reuse('cpu'), { beforeAll: () => setNumThreads(2) }],
    ['kexue wasm, out reused', reuse('wasm')],
  ])
  log('kexue: js (pure-TS reference, few iterations)')
  const slow = await runBench('kexue-js', SLOW, [['kexue js', run('js')]])
  return { ...fast, ...slow }
}

function mathRandomDropout (x, out, mask, p, scale) {
  for (let i = 0; i < x.length; i++) {
    const keep = Math.random() >= p
    out[i] = keep ? x[i] * scale : 0
    mask[i] = keep
  }
}

async function benchMathRandom (x) {
  log('plain JS Math.random loop (preallocated out/mask)')
  const out = new Float32Array(N)
  const mask = new Uint8Array(N)
  mathRandomDropout(x, out, mask, P, SCALE)
  const frac = checkDropout('Math.random loop', x, out, mask)
  const r = await runBench('math-random', MEDIUM, [['Math.random loop', () => {
    mathRandomDropout(x, out, mask, P, SCALE)
    sink += out[N - 1] + mask[N >> 1]
  }]])
  return { ...r['Math.random loop'], keptFraction: frac }
}

async function benchTfjs (x) {
  log('tfjs tf.dropout, wasm backend (+ dataSync readback)')
  let tf, wasm
  try {
    tf = await import('@tensorflow/tfjs')
    wasm = await import('@tensorflow/tfjs-backend-wasm')
  } catch (e) {
    return { skipped: `tfjs not importable: ${e.message}` }
  }
  wasm.setWasmPaths(path.join(root, 'node_modules/@tensorflow/tfjs-backend-wasm/dist') + path.sep)
  if (!(await tf.setBackend('wasm')) || tf.getBackend() !== 'wasm') return { skipped: 'tfjs wasm backend failed to initialize' }
  await tf.ready()
  const info = {
    tfjs: tf.version.tfjs,
    backend: tf.getBackend(),
    simd: await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'),
    multithread: await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'),
  }
  const xt = tf.tensor1d(x)
  const step = () => {
    const out = tf.tidy(() => tf.dropout(xt, P))
    const d = out.dataSync()
    out.dispose()
    return d
  }
  const frac = checkDropout('tfjs', x, step(), null)
  const before = tf.memory()
  const r = await runBench('tfjs', MEDIUM, [['tfjs wasm tf.dropout', () => { const d = step(); sink += d[N - 1] }]])
  const after = tf.memory()
  xt.dispose()
  if (after.numTensors !== before.numTensors) fail(`tfjs leaked tensors: ${before.numTensors} -> ${after.numTensors}`)
  return { ...r['tfjs wasm tf.dropout'], keptFraction: frac, info, numTensors: after.numTensors, numBytes: after.numBytes }
}

function benchNumpy () {
  log('numpy (Debian /usr/bin/python3), timed in Python')
  const py = '/usr/bin/python3'
  if (!existsSync(py)) return { skipped: `${py} not found` }
  try {
    // OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset for this command only
    const stdout = execFileSync('env', ['-u', 'OPENBLAS_CORETYPE', '-u', 'OPENBLAS_L2_SIZE', py,
      path.join(here, 'dropout_numpy.py'), String(N), String(P), String(NUMPY.reps), String(NUMPY.warmup)],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 120_000 })
    const r = JSON.parse(stdout.trim().split('\n').pop())
    if (r.skipped) return r
    if (!r.sane) fail(`numpy reference produced odd output (kept ${r.keptFraction})`)
    log(`  numpy: median ${r.medianMs.toFixed(2)} ms (${r.samplesMs.length} samples)`)
    return { ...r, samples: r.samplesMs.length }
  } catch (e) {
    if (e.message.startsWith('dropout bench sanity')) throw e
    return { skipped: `numpy run failed: ${e.message.split('\n')[0]}` }
  }
}

// ---- report ----
function report (entries, copy, alloc) {
  const copyGBs = (2 * COPY_BYTES) / (copy.medianMs / 1e3) / GB
  const np = entries.numpy?.medianMs
  const mr = entries['Math.random loop']?.medianMs
  const rows = []
  const fmt = (v, d) => (v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(d))
  rows.push({
    entry: 'memory copy 256 MiB (ceiling)',
    'median ms': fmt(copy.medianMs, 2),
    'GB/s': fmt(copyGBs, 2),
    'x numpy': '-',
    'x Math.random': '-',
    'of ceiling': '100%',
    samples: copy.samples,
  })
  const boundMs = BYTES / (copyGBs * GB) * 1e3
  rows.push({
    entry: 'dropout lower bound (9n B @ copy bw)',
    'median ms': fmt(boundMs, 2),
    'GB/s': fmt(copyGBs, 2),
    'x numpy': fmt(np / boundMs, 2),
    'x Math.random': fmt(mr / boundMs, 2),
    'of ceiling': '100%',
    samples: '-',
  })
  rows.push({
    entry: 'ref: alloc+touch out+mask (5n B)',
    'median ms': fmt(alloc.medianMs, 2),
    'GB/s': fmt(5 * N / (alloc.medianMs / 1e3) / GB, 2),
    'x numpy': '-',
    'x Math.random': '-',
    'of ceiling': '-',
    samples: alloc.samples,
  })
  const derived = {}
  for (const [name, e] of Object.entries(entries)) {
    if (e.skipped) {
      rows.push({ entry: name, 'median ms': 'skipped', 'GB/s': '-', 'x numpy': '-', 'x Math.random': '-', 'of ceiling': '-', samples: e.skipped })
      continue
    }
    const gbs = BYTES / (e.medianMs / 1e3) / GB
    derived[name] = {
      medianMs: e.medianMs,
      GBps: gbs,
      speedupVsNumpy: np ? np / e.medianMs : null,
      speedupVsMathRandom: mr ? mr / e.medianMs : null,
      fractionOfCopyCeiling: gbs / copyGBs,
    }
    rows.push({
      entry: name,
      'median ms': fmt(e.medianMs, 2),
      'GB/s': fmt(gbs, 2),
      'x numpy': fmt(np && np / e.medianMs, 2),
      'x Math.random': fmt(mr && mr / e.medianMs, 2),
      'of ceiling': fmt(100 * gbs / copyGBs, 1) + '%',
      samples: e.samples,
    })
  }
  return { rows, copyGBs, boundMs, derived }
}

function addonFiles () {
  const files = {}
  for (const f of ['build-cuda/Release/kexue.node', 'build/Release/kexue.node', 'native/wasm/kexue.wasm']) {
    const p = path.join(root, f)
    files[f] = existsSync(p) ? { bytes: statSync(p).size, mtime: statSync(p).mtime.toISOString() } : null
  }
  return files
}

async function main () {
  const t0 = performance.now()
  const loadavgAtStart = os.loadavg()
  const defaultThreads = getNumThreads()
  log(`dropout bench: n = ${N} float32 (16M), p = ${P}; bytes moved per call 9n = ${(BYTES / 1e6).toFixed(1)} MB`)
  const x = makeInput()
  log('sanity checks (kexue cpu 1t/2t, wasm, js)...')
  const sanity = sanityKexue(x)
  setNumThreads(defaultThreads)

  const copy = await benchCopy()
  const alloc = await benchAlloc()
  const entries = {}
  Object.assign(entries, await benchKexue(x))
  setNumThreads(defaultThreads)
  entries['Math.random loop'] = await benchMathRandom(x)
  entries.numpy = benchNumpy()
  entries['tfjs wasm tf.dropout'] = await benchTfjs(x)

  const { rows, copyGBs, boundMs, derived } = report(entries, copy, alloc)
  console.log(`\nDropout, n = 16M float32, p = ${P}; GB/s counts 9n bytes moved (4n read + 4n written + n mask); ` +
    "'x numpy' / 'x Math.random' = how many times faster than that entry (>1 = faster); 'of ceiling' = GB/s / copy GB/s")
  console.table(rows)

  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'))
  const cpus = os.cpus()
  const result = {
    bench: 'dropout',
    date: new Date().toISOString(),
    machine: {
      cpuModel: cpus[0]?.model,
      cores: cpus.length,
      availableParallelism: os.availableParallelism?.(),
      totalMemBytes: os.totalmem(),
      platform: `${os.platform()} ${os.release()} ${os.arch()}`,
      node: process.version,
      loadavgAtStart,
      loadavgAtEnd: os.loadavg(),
    },
    // kexue loads the CUDA-enabled addon (which also carries the cpu kernels) first when it is built
    kexue: { version: pkg.version, backends: backends(), defaultThreads, addons: addonFiles() },
    params: { n: N, p: P, scale: SCALE, bytesMoved: BYTES, copyBytes: COPY_BYTES, budgets: { FAST, MEDIUM, SLOW, NUMPY } },
    sanity,
    copy: { ...copy, GBps: copyGBs, bytesCounted: 2 * COPY_BYTES },
    lowerBound: { ms: boundMs, GBps: copyGBs },
    allocTouchOutMask: { ...alloc, bytesTouched: 5 * N },
    entries,
    derived,
    table: rows,
    sink,
    wallSeconds: (performance.now() - t0) / 1e3,
  }
  mkdirSync(path.join(here, 'results'), { recursive: true })
  const file = path.join(here, 'results', 'dropout.json')
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n')
  log(`wrote ${path.relative(root, file)} (${result.wallSeconds.toFixed(1)} s)`)
}

await main()
