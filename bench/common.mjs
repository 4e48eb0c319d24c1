// Shared by the bench/*.bench.mjs files: tinybench wrapper, memory-copy ceiling, numpy launcher,
// tfjs wasm loader, onnxruntime loader and SGEMM ceiling, table rows (bandwidth and GFLOP/s),
// machine info and result writing.
import { Bench } from 'tinybench'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { backends } from '../dist/index.js'
import { onnxModel } from './onnx.mjs'

export const here = path.dirname(fileURLToPath(import.meta.url))
export const root = path.resolve(here, '..')
export const GB = 1e9
export const COPY_BYTES = 256 * 2 ** 20

// Budgets (ms / iteration counts). Sequential tinybench runs each task until BOTH the time
// budget and the minimum iteration count are met, so slow entries get time ~0 and few iterations.
export const FAST = { time: 3000, iterations: 15, warmupTime: 500, warmupIterations: 5 }
export const SLOW = { time: 0, iterations: 5, warmupTime: 0, warmupIterations: 1 }
export const MEDIUM = { time: 2500, iterations: 8, warmupTime: 0, warmupIterations: 2 }
export const NUMPY = { reps: 15, warmup: 3 }
export const GFLOP = 1e9

export const log = (...a) => console.error(...a) // progress to stderr, the table to stdout

// every task folds something of its result in here so nothing is dead code
let sink = 0
export const keep = (v) => { sink += v }
export const sinkValue = () => sink

// ---- sanity failures: a broken build must fail before anything is timed ----
export class SanityError extends Error {}
export const sanityFail = (bench) => (msg) => { throw new SanityError(`${bench} bench sanity check failed: ${msg}`) }

// ---- tinybench ----
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

/** tasks: [name, fn, hooks?][]; returns { [name]: stats } */
export async function runBench (name, opts, tasks) {
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

// ---- references ----
/** The machine's bandwidth ceiling: dst.set(src) between two 256 MiB Uint8Arrays (bytes read + written). */
export async function benchCopy () {
  log('memory copy ceiling (256 MiB Uint8Array.prototype.set)')
  const src = new Uint8Array(COPY_BYTES).fill(1)
  const dst = new Uint8Array(COPY_BYTES).fill(2) // touch every page before timing
  const r = await runBench('copy', FAST, [['copy', () => { dst.set(src); keep(dst[COPY_BYTES - 1]) }]])
  if (dst[12345] !== 1) throw new Error('copy did not copy')
  return { ...r.copy, GBps: (2 * COPY_BYTES) / (r.copy.medianMs / 1e3) / GB, bytesCounted: 2 * COPY_BYTES }
}

/**
 * Not an op: what allocating fresh output arrays and touching every page once costs here
 * (kexue without `out`, and numpy, pay it per call; the copy ceiling and the plain-JS loops do not).
 * allocate: () => TypedArray[]
 */
export async function benchAlloc (what, allocate) {
  log(`reference: allocate + first touch of ${what}`)
  const r = await runBench('alloc', FAST, [['alloc', () => {
    const arrays = allocate()
    for (const a of arrays) a.fill(1)
    keep(arrays[0][arrays[0].length - 1] + arrays[arrays.length - 1][0])
  }]])
  return r.alloc
}

// ---- numpy (Debian /usr/bin/python3), timed in Python by numpy_ops.py ----
/**
 * Runs `numpy_ops.py OP N REPS WARMUP ...args`; returns its JSON (plus `samples`) or { skipped }.
 * check(r) throws (a SanityError, through the bench's fail) when the script reports odd output.
 * opts: { reps, warmup } (default NUMPY) and env: extra environment variables for the script
 * (e.g. OPENBLAS_NUM_THREADS).
 */
export function runNumpy (op, n, args, check, { reps = NUMPY.reps, warmup = NUMPY.warmup, env = {} } = {}) {
  const py = '/usr/bin/python3'
  if (!existsSync(py)) return { skipped: `${py} not found` }
  try {
    // OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset for this command only
    const stdout = execFileSync('env', ['-u', 'OPENBLAS_CORETYPE', '-u', 'OPENBLAS_L2_SIZE', py,
      path.join(here, 'numpy_ops.py'), op, String(n), String(reps), String(warmup), ...args.map(String)],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 120_000, env: { ...process.env, ...env } })
    const r = JSON.parse(stdout.trim().split('\n').pop())
    if (r.skipped) return r
    check(r)
    log(`  numpy ${op}: median ${r.medianMs.toFixed(2)} ms (${r.samplesMs.length} samples)`)
    return { ...r, samples: r.samplesMs.length }
  } catch (e) {
    if (e instanceof SanityError) throw e
    return { skipped: `numpy run failed: ${e.message.split('\n')[0]}` }
  }
}

// ---- tfjs with the wasm backend ----
/** Returns { tf, info } or { skipped }. */
export async function loadTfjsWasm () {
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
  return { tf, info }
}

// ---- onnxruntime-node (CPU execution provider) ----
/** Returns { ort, info } or { skipped }. The package is a devDependency installed with --ignore-scripts (CPU binaries only). */
export function loadOrt () {
  let ort
  try {
    ort = createRequire(path.join(root, 'package.json'))('onnxruntime-node')
  } catch (e) {
    return { skipped: `onnxruntime-node not loadable: ${e.message.split('\n')[0]}` }
  }
  const supported = ort.listSupportedBackends?.() ?? []
  if (!supported.some((b) => b.name === 'cpu')) return { skipped: `onnxruntime-node has no cpu backend (${JSON.stringify(supported)})` }
  const info = { version: ort.env?.versions?.node, backends: supported, executionProvider: 'cpu' }
  return { ort, info }
}

/** One InferenceSession on the CPU EP with `threads` intra-op threads, graphOptimizationLevel 'all'. */
export function ortSession (ort, modelBytes, threads) {
  return ort.InferenceSession.create(modelBytes, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
  })
}

/**
 * The machine's SGEMM ceiling: an onnxruntime MatMul of two n x n float32 inputs (n = 1024 by
 * default) at each thread count; GFLOP/s = 2 n^3 / median. Checked against a few float64 dot
 * products before timing. Returns { [threads]: stats + GFLOPs } or { skipped }.
 */
export async function benchOrtSgemm (ortLoaded, fail, { n = 1024, threads = [2, 1] } = {}) {
  if (ortLoaded.skipped) return { skipped: ortLoaded.skipped }
  const { ort } = ortLoaded
  const model = onnxModel({
    nodes: [{ op: 'MatMul', inputs: ['a', 'b'], outputs: ['c'] }],
    inputs: [{ name: 'a', shape: [n, n] }, { name: 'b', shape: [n, n] }],
    outputs: [{ name: 'c', shape: [n, n] }],
  })
  const a = new Float32Array(n * n)
  const b = new Float32Array(n * n)
  for (let i = 0; i < a.length; i++) { a[i] = ((i * 7919) % 1000) / 1000 - 0.5; b[i] = ((i * 104729) % 997) / 997 - 0.5 }
  const feeds = { a: new ort.Tensor('float32', a, [n, n]), b: new ort.Tensor('float32', b, [n, n]) }
  const flops = 2 * n * n * n
  const out = { n, flops, model: 'ai.onnx MatMul (opset 21), inputs [n, n] x [n, n] float32' }
  for (const t of threads) {
    log(`SGEMM ceiling: onnxruntime MatMul ${n}^3, ${t} thread${t > 1 ? 's' : ''}`)
    const session = await ortSession(ort, model, t)
    const c = (await session.run(feeds)).c.data
    for (const [i, j] of [[0, 0], [1, n - 1], [n - 1, 7], [n >> 1, n >> 2]]) {
      let want = 0
      for (let p = 0; p < n; p++) want += a[i * n + p] * b[p * n + j]
      if (!(Math.abs(c[i * n + j] - want) <= 1e-3 * (1 + Math.abs(want)))) fail(`ORT MatMul c[${i}, ${j}] = ${c[i * n + j]}, expected ${want}`)
    }
    const name = `sgemm ${t}t`
    const r = await runBench(name, { time: 1500, iterations: 10, warmupTime: 0, warmupIterations: 3 },
      [[name, async () => { keep((await session.run(feeds)).c.data[0]) }, { async: true }]])
    await session.release()
    out[t] = { ...r[name], GFLOPs: flops / (r[name].medianMs / 1e3) / GFLOP, threads: t }
  }
  return out
}

// ---- table ----
export const fmt = (v, d) => (v === undefined || v === null || !Number.isFinite(v) ? '-' : v.toFixed(d))

/** One table row; every column the benches print, '-' where not given. */
export function row (entry, c = {}) {
  return {
    entry,
    'median ms': c.ms ?? '-',
    'GB/s': c.gbs ?? '-',
    'x numpy': c.np ?? '-',
    'x Math.random': c.mr ?? '-',
    'of ceiling': c.ceiling ?? '-',
    samples: c.samples ?? '-',
  }
}

export const copyRow = (copy) => row('memory copy 256 MiB (ceiling)', {
  ms: fmt(copy.medianMs, 2), gbs: fmt(copy.GBps, 2), ceiling: '100%', samples: copy.samples,
})

/** `bytes` moved at the copy bandwidth; npMs / mrMs: the numpy and plain-JS medians it is compared with. */
export function lowerBound (label, bytes, copy, npMs, mrMs) {
  const ms = bytes / (copy.GBps * GB) * 1e3
  return {
    ms,
    row: row(label, { ms: fmt(ms, 2), gbs: fmt(copy.GBps, 2), np: fmt(npMs / ms, 2), mr: fmt(mrMs / ms, 2), ceiling: '100%' }),
  }
}

export const allocRow = (label, alloc, bytes) => row(label, {
  ms: fmt(alloc.medianMs, 2), gbs: fmt(bytes / (alloc.medianMs / 1e3) / GB, 2), samples: alloc.samples,
})

/**
 * Rows and derived numbers for timed entries: GB/s = bytes / median, ratios against the entries
 * named numpyName and jsName (how many times faster, > 1 = faster), fraction of the copy GB/s.
 */
export function entryRows (entries, { bytes, copy, numpyName, jsName, prefix = '' }) {
  const np = entries[numpyName]?.medianMs
  const mr = entries[jsName]?.medianMs
  const rows = []
  const derived = {}
  for (const [name, e] of Object.entries(entries)) {
    if (e.skipped) {
      rows.push(row(prefix + name, { ms: 'skipped', samples: e.skipped }))
      continue
    }
    const gbs = bytes / (e.medianMs / 1e3) / GB
    derived[name] = {
      medianMs: e.medianMs,
      GBps: gbs,
      speedupVsNumpy: np ? np / e.medianMs : null,
      speedupVsMathRandom: mr ? mr / e.medianMs : null,
      fractionOfCopyCeiling: gbs / copy.GBps,
    }
    rows.push(row(prefix + name, {
      ms: fmt(e.medianMs, 2),
      gbs: fmt(gbs, 2),
      np: fmt(np && np / e.medianMs, 2),
      mr: fmt(mr && mr / e.medianMs, 2),
      ceiling: fmt(100 * gbs / copy.GBps, 1) + '%',
      samples: e.samples,
    }))
  }
  return { rows, derived }
}

// ---- compute-bound tables (GFLOP/s) ----
/** One row of a GFLOP/s table; '-' where not given. */
export function flopRow (entry, c = {}) {
  return {
    entry,
    'median ms': c.ms ?? '-',
    'GFLOP/s': c.gflops ?? '-',
    [c.baseLabel ?? 'x base']: c.base ?? '-',
    'of peak': c.peak ?? '-',
    threads: c.threads ?? '-',
    samples: c.samples ?? '-',
  }
}

/**
 * Rows and derived numbers for timed compute entries: GFLOP/s = flops / median, `x <baseName>` =
 * base median / entry median (> 1 = faster than the base entry), 'of peak' = GFLOP/s / the SGEMM
 * ceiling at the entry's thread count (peakByThreads[e.threads]).
 */
export function flopRows (entries, { flops, baseName, baseLabel = `x ${baseName}`, peakByThreads, prefix = '' }) {
  const base = entries[baseName]?.medianMs
  const rows = []
  const derived = {}
  for (const [name, e] of Object.entries(entries)) {
    if (e.skipped) {
      rows.push(flopRow(prefix + name, { ms: 'skipped', baseLabel, samples: e.skipped }))
      continue
    }
    const gflops = flops / (e.medianMs / 1e3) / GFLOP
    const peak = peakByThreads?.[e.threads]
    derived[name] = {
      medianMs: e.medianMs,
      GFLOPs: gflops,
      speedupVsBase: base ? base / e.medianMs : null,
      fractionOfPeak: peak ? gflops / peak : null,
      threads: e.threads,
    }
    rows.push(flopRow(prefix + name, {
      ms: fmt(e.medianMs, 2),
      gflops: fmt(gflops, 2),
      baseLabel,
      base: fmt(base && base / e.medianMs, 2),
      peak: peak ? fmt(100 * gflops / peak, 1) + '%' : '-',
      threads: e.threads,
      samples: e.samples,
    }))
  }
  return { rows, derived }
}

// ---- other load on the machine while a bench runs (Linux) ----
/**
 * Starts a meter of CPU time spent by everything except this process and its waited-for children
 * (/proc/stat busy time minus /proc/self/stat utime + stime + cutime + cstime). meter() returns
 * { otherCores: that CPU time / wall time (0 = an idle machine, 1 = one core busy elsewhere), wallMs },
 * or null where /proc is not readable.
 */
export function otherLoadMeter () {
  const read = () => {
    try {
      const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number)
      const busy = cpu.reduce((a, b) => a + b, 0) - cpu[3] - (cpu[4] || 0) // minus idle and iowait
      const self = readFileSync('/proc/self/stat', 'utf8')
      const f = self.slice(self.lastIndexOf(')') + 2).split(' ').map(Number) // fields from 3 (state) on
      return { busy, self: f[11] + f[12] + f[13] + f[14], t: performance.now() } // utime stime cutime cstime (fields 14..17)
    } catch { return null }
  }
  const a = read()
  const hz = 100 // USER_HZ: 100 on every Linux Node supports
  return () => {
    const b = read()
    if (!a || !b) return null
    const wallMs = b.t - a.t
    return { otherCores: Math.max(0, ((b.busy - a.busy) - (b.self - a.self)) / hz) / (wallMs / 1e3), wallMs }
  }
}

// ---- machine, package and result file ----
export function machineInfo (loadavgAtStart) {
  const cpus = os.cpus()
  return {
    cpuModel: cpus[0]?.model,
    cores: cpus.length,
    availableParallelism: os.availableParallelism?.(),
    totalMemBytes: os.totalmem(),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    loadavgAtStart,
    loadavgAtEnd: os.loadavg(),
  }
}

function addonFiles () {
  const files = {}
  for (const f of ['build-cuda/Release/kexue.node', 'build/Release/kexue.node', 'native/wasm/kexue.wasm']) {
    const p = path.join(root, f)
    files[f] = existsSync(p) ? { bytes: statSync(p).size, mtime: statSync(p).mtime.toISOString() } : null
  }
  return files
}

// kexue loads the CUDA-enabled addon (which also carries the cpu kernels) first when it is built
export function kexueInfo (defaultThreads) {
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'))
  return { version: pkg.version, backends: backends(), defaultThreads, addons: addonFiles() }
}

/** Writes bench/results/<name>.json. */
export function writeResult (name, result) {
  mkdirSync(path.join(here, 'results'), { recursive: true })
  const file = path.join(here, 'results', `${name}.json`)
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n')
  log(`wrote ${path.relative(root, file)} (${result.wallSeconds.toFixed(1)} s)`)
}
