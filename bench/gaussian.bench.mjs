// Gaussian benchmark: the squared 2-Wasserstein distance W2^2 between two Gaussians with random SPD
// covariances (float64; n in {64, 256, 1024, 2048}), sqrtm of an SPD matrix (n in {64, 256, 1024})
// and FID end to end from two float32 feature .npy files (10000 x 2048).
// Compares kexue's cpu (1 and 2 threads), wasm and js backends with numpy (the Cholesky route),
// scipy (pytorch-fid's sqrtm(S1 S2) route), ml-matrix and mathjs (the plain-JS ways; run in a
// worker thread with a time limit) and numpy's DGEMM as the machine's float64 ceiling.
// Run: node bench/gaussian.bench.mjs [--quick] [--sizes 64,256] [--sqrtm-sizes 64,256]
//        [--fid-rows 10000] [--fid-dim 2048] [--no-fid] [--peer-limit 20]
//      (or node bench/run.mjs gaussian; --quick = sizes 64,256, FID 1000 x 256)
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads'
import {
  GaussianStats, backends, frechetDistance, gaussian, getNumThreads, normal, readNpyFile, setNumThreads, sqrtm, tensor, writeNpyFile,
} from '../dist/index.js'
import {
  GFLOP, here, root, log, keep, sinkValue, sanityFail, runBench, fmt, otherLoadMeter, machineInfo, kexueInfo, writeResult,
} from './common.mjs'

const fail = sanityFail('gaussian')
const TARGET_MS = 2000 // each entry gets about this much time of samples ...
const SLOW_MS = 5000 // ... and an entry whose first call takes longer than this has that call as its only sample
const MIN_IT = 3
const MAX_IT = 30
const RIDGE = 1e-3 // S = X^T X / m + RIDGE I, X [m = 2n, n] standard normal (column-scaled for S2)
const KEXUE_TOL = 1e-10 // kexue backends must agree with kexue cpu to this (relative), or the bench fails
const CHOL_TARGET = 1e-12 // Cholesky routes (numpy, ml-matrix): relative difference target vs kexue cpu
const SQRTM_TARGET = 1e-6 // routes through sqrtm(S1 S2) (scipy, mathjs): looser; they are known to lose accuracy
const FID_NUMPY_TARGET = 1e-6 // FID from numpy: pytorch-fid's mu = np.mean(float32 features) is computed in float32
const KEXUE_JS_MAX_N = 256
const NUMPY_ENV = { OPENBLAS_NUM_THREADS: '2' }
const PY_TIMEOUT_MS = 600_000 // one numpy/scipy process (scipy sqrtm at n = 2048 takes tens of seconds)
const FID_CHUNK = 1000 // GaussianStats.update rows per chunk

const flopsW2 = (n) => (11 / 3) * n ** 3 // nominal: Cholesky n^3/3 + L^T S2 L 2n^3 + tridiagonalization 4n^3/3
const flopsFid = (m, n) => 2 * m * n * n + flopsW2(n) // nominal: two co-moments (m n^2 each, symmetric) + W2

// ---------------------------------------------------------------------------------------------
// peers in a worker thread: ml-matrix and mathjs, terminated when a call runs past the limit
// ---------------------------------------------------------------------------------------------
const rows2d = (a, n) => Array.from({ length: n }, (_, i) => Array.from(a.subarray(i * n, (i + 1) * n)))

async function peerFn ({ peer, n, mu1, S1, mu2, S2 }) {
  let dd = 0
  if (mu1) for (let i = 0; i < n; i++) dd += (mu1[i] - mu2[i]) ** 2
  if (peer.startsWith('ml-matrix')) {
    const { Matrix, CholeskyDecomposition, EigenvalueDecomposition } = await import('ml-matrix')
    const A = new Matrix(rows2d(S1, n))
    if (peer === 'ml-matrix w2') {
      const B = new Matrix(rows2d(S2, n))
      return () => { // the Cholesky route as a JS developer writes it with ml-matrix
        const L = new CholeskyDecomposition(A).lowerTriangularMatrix
        const M = L.transpose().mmul(B).mmul(L)
        const ev = new EigenvalueDecomposition(M, { assumeSymmetric: true }).realEigenvalues
        let tr = 0
        for (const l of ev) tr += Math.sqrt(Math.max(l, 0))
        return dd + A.trace() + B.trace() - 2 * tr
      }
    }
    return () => { // sqrtm: V diag(sqrt(max(lambda, 0))) V^T
      const e = new EigenvalueDecomposition(A, { assumeSymmetric: true })
      const V = e.eigenvectorMatrix
      const X = V.clone().mulRowVector(e.realEigenvalues.map((l) => Math.sqrt(Math.max(l, 0)))).mmul(V.transpose())
      return Float64Array.from(X.to1DArray())
    }
  }
  const math = await import('mathjs')
  const A = math.matrix(rows2d(S1, n))
  if (peer === 'mathjs w2') {
    const B = math.matrix(rows2d(S2, n))
    return () => { // pytorch-fid's formula in mathjs: tr sqrtm(S1 S2)
      const covmean = math.sqrtm(math.multiply(A, B))
      return dd + math.trace(A) + math.trace(B) - 2 * math.trace(covmean)
    }
  }
  return () => Float64Array.from(math.flatten(math.sqrtm(A)).toArray())
}

async function peerWorker () {
  const fn = await peerFn(workerData)
  parentPort.postMessage({ type: 'ready' }) // the limit counts from here (not the imports and matrix building)
  const t0 = performance.now()
  const first = fn()
  const firstMs = performance.now() - t0
  parentPort.postMessage({ type: 'first', firstMs, value: first })
  const stats = firstMs > SLOW_MS
    ? single(firstMs)
    : (await runBench(workerData.peer, budget(firstMs), [[workerData.peer, () => { const v = fn(); keep(typeof v === 'number' ? v : v[0]) }]]))[workerData.peer]
  parentPort.postMessage({ type: 'done', stats: { ...stats, firstCallMs: firstMs } })
}

/**
 * Runs a peer in a worker: once it is ready (imports done, matrices built), the first (checked)
 * call must finish within limitMs, the timed runs
 * after it within budgetMs. Resolves { value, stats } or { dnf } (the worker is terminated).
 */
function runPeer (data, limitMs) {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL(import.meta.url), { workerData: data, stderr: false })
    let value
    let timer = setTimeout(() => { w.terminate(); resolve({ dnf: 'the worker did not start in 120 s' }) }, 120_000)
    w.on('message', (m) => {
      if (m.type === 'ready') {
        clearTimeout(timer)
        timer = setTimeout(() => { w.terminate(); resolve({ dnf: `did not finish in ${limitMs / 1e3} s` }) }, limitMs)
      } else if (m.type === 'first') {
        value = m.value
        clearTimeout(timer)
        const budgetMs = m.firstMs > SLOW_MS ? 1000 : 4 * (TARGET_MS + m.firstMs * (MAX_IT + 3)) + 30_000
        timer = setTimeout(() => { w.terminate(); resolve({ dnf: `timed runs did not finish in ${(budgetMs / 1e3).toFixed(0)} s` }) }, budgetMs)
      } else {
        clearTimeout(timer)
        resolve({ value, stats: m.stats })
        w.terminate()
      }
    })
    w.on('error', (e) => { clearTimeout(timer); reject(e) })
  })
}

// ---------------------------------------------------------------------------------------------
// timing helpers
// ---------------------------------------------------------------------------------------------
function budget (firstMs) {
  const iterations = Math.min(MAX_IT, Math.max(MIN_IT, Math.ceil(TARGET_MS / firstMs)))
  return { time: 0, iterations, warmupTime: 0, warmupIterations: firstMs < 100 ? 2 : firstMs < 1000 ? 1 : 0 }
}
const single = (ms) => ({ medianMs: ms, meanMs: ms, minMs: ms, maxMs: ms, samples: 1, samplesMs: [ms], firstCallIsSample: true })

/** Times fn on the main thread: the first call is checked by the caller; slow calls are their own sample. */
async function timeKexue (name, fn, prepare) {
  prepare?.()
  const t0 = performance.now()
  const value = fn()
  const firstMs = performance.now() - t0
  if (firstMs > SLOW_MS) return { value, stats: { ...single(firstMs), firstCallMs: firstMs } }
  const r = await runBench(name, budget(firstMs), [[name, () => { const v = fn(); keep(typeof v === 'number' ? v : v[0] ?? 0) }, { beforeAll: prepare }]])
  return { value, stats: { ...r[name], firstCallMs: firstMs } }
}

/** gaussian_peers.py OP ROUTE DIR N TARGET_MS MAX_REPS; returns its JSON or { skipped } / { error }. */
function runPeers (op, route, dir, n, env = NUMPY_ENV) {
  const py = '/usr/bin/python3'
  if (!existsSync(py)) return { skipped: `${py} not found` }
  try {
    // OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset for this command only
    const stdout = execFileSync('env', ['-u', 'OPENBLAS_CORETYPE', '-u', 'OPENBLAS_L2_SIZE', py,
      path.join(here, 'gaussian_peers.py'), op, route, dir, String(n), String(TARGET_MS), String(MAX_IT)],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: PY_TIMEOUT_MS, env: { ...process.env, ...env }, maxBuffer: 1 << 26 })
    const r = JSON.parse(stdout.trim().split('\n').pop())
    if (r.skipped || r.error) return r
    if (!r.sane) return { error: `odd output: ${JSON.stringify(r).slice(0, 200)}` }
    log(`  python ${op} ${route}: min ${r.minMs.toFixed(2)} ms, median ${r.medianMs.toFixed(2)} ms (${r.samplesMs.length} samples)`)
    return { ...r, samples: r.samplesMs.length, stats: { ...r, samples: r.samplesMs.length } }
  } catch (e) {
    if (e.code === 'ETIMEDOUT' || e.signal === 'SIGTERM') return { dnf: `did not finish in ${PY_TIMEOUT_MS / 1e3} s` }
    return { error: `python run failed: ${e.message.split('\n')[0]}` }
  }
}

// ---------------------------------------------------------------------------------------------
// inputs
// ---------------------------------------------------------------------------------------------
/** X^T X / m + ridge I for X [m, n] (row-major), float64, four rows per pass over the upper triangle. */
function covarianceOf (X, m, n, ridge) {
  const C = new Float64Array(n * n)
  let r = 0
  for (; r + 4 <= m; r += 4) {
    const o0 = r * n, o1 = o0 + n, o2 = o1 + n, o3 = o2 + n
    for (let i = 0; i < n; i++) {
      const a0 = X[o0 + i], a1 = X[o1 + i], a2 = X[o2 + i], a3 = X[o3 + i]
      const ci = i * n
      for (let j = i; j < n; j++) C[ci + j] += a0 * X[o0 + j] + a1 * X[o1 + j] + a2 * X[o2 + j] + a3 * X[o3 + j]
    }
  }
  for (; r < m; r++) for (let i = 0; i < n; i++) for (let j = i; j < n; j++) C[i * n + j] += X[r * n + i] * X[r * n + j]
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) C[j * n + i] = C[i * n + j] = C[i * n + j] / m
    C[i * n + i] += ridge
  }
  return C
}

/** Seeded W2 inputs of size n, also written to dir as .npy for the Python side. */
function w2Inputs (n, dir) {
  const m = 2 * n
  const X1 = normal([m, n], { seed: 11, dtype: 'float64' }).data
  const X2 = normal([m, n], { seed: 12, dtype: 'float64' }).data
  for (let r = 0; r < m; r++) for (let j = 0; j < n; j++) X2[r * n + j] *= 0.5 + j / n // a different spectrum for S2
  const S1 = covarianceOf(X1, m, n, RIDGE)
  const S2 = covarianceOf(X2, m, n, RIDGE)
  const mu1 = normal([n], { seed: 13, dtype: 'float64' }).data.map((x) => 0.1 * x)
  const mu2 = normal([n], { seed: 14, dtype: 'float64' }).data.map((x) => 0.1 * x)
  const t = { mu1: tensor(mu1, [n]), S1: tensor(S1, [n, n]), mu2: tensor(mu2, [n]), S2: tensor(S2, [n, n]) }
  for (const [k, v] of [['mu1', t.mu1], ['s1', t.S1], ['mu2', t.mu2], ['s2', t.S2]]) writeNpyFile(path.join(dir, `${k}-${n}.npy`), v)
  return { raw: { mu1, S1, mu2, S2 }, t }
}

/** Two float32 feature sets [rows, dim] written as dir/fid-a.npy and fid-b.npy (column scales exp(-3 j / dim); set b shifted and wider). */
function fidInputs (rows, dim, dir) {
  const files = []
  for (const [k, seed, scale, shift] of [['a', 21, 1, 0], ['b', 22, 1.05, 0.05]]) {
    const x = normal([rows, dim], { seed }).data
    const s = Float32Array.from({ length: dim }, (_, j) => Math.exp((-3 * j) / dim) * scale)
    for (let r = 0; r < rows; r++) for (let j = 0; j < dim; j++) x[r * dim + j] = x[r * dim + j] * s[j] + shift
    const f = path.join(dir, `fid-${k}.npy`)
    writeNpyFile(f, tensor(x, [rows, dim]))
    files.push(f)
  }
  return files
}

// ---------------------------------------------------------------------------------------------
// kexue feature detection (kernels being added: report what actually runs)
// ---------------------------------------------------------------------------------------------
const LINALG_OP = /eig|sqrtm|chol|stat|cov|syrk|w2|gauss/i
function linalgOps () {
  const out = {}
  for (const b of backends()) if (b.available) out[b.name] = b.ops.filter((o) => LINALG_OP.test(o))
  return out
}

/**
 * { note } when `backend` has no `kernel` in backends(): kexue then runs the next available backend
 * that has it (cuda, cpu, wasm, js order), which the note names.
 */
function kernelNote (backend, kernel, what) {
  const list = backends()
  const from = list.findIndex((b) => b.name === backend)
  const ran = list.slice(from).find((b) => b.available && b.ops.includes(kernel))?.name ?? 'js'
  return ran === backend ? {} : { note: `the ${backend} backend has no '${kernel}' kernel yet: ${what} ran on ${ran}`, ranOn: ran }
}

/**
 * Runs each kexue op on each backend in a child process (n = 64, 5 calls at 1 and at 2 threads) before
 * anything is timed, so a native kernel that crashes the process (abort, segfault) marks its rows
 * skipped instead of killing the bench. Returns { [op]: { [backend]: null | reason } }.
 */
function probeKexue (backendNames) {
  const dist = new URL('../dist/index.js', import.meta.url).href
  const code = `
    const k = await import(${JSON.stringify(dist)})
    const [what, backend] = process.argv.slice(-2)
    const n = 64
    const X = k.normal([2 * n, n], { seed: 1, dtype: 'float64' })
    const Y = k.normal([2 * n, n], { seed: 2, dtype: 'float64' })
    for (const th of [1, 2]) {
      k.setNumThreads(th)
      const a = new k.GaussianStats(n).update(X, what === 'featureStats' ? { backend } : {})
      const b = new k.GaussianStats(n).update(Y, what === 'featureStats' ? { backend } : {})
      for (let i = 0; i < 5; i++) {
        if (what === 'w2') k.gaussian.w2(a.mean, a.covariance, b.mean, b.covariance, { backend })
        if (what === 'sqrtm') k.sqrtm(a.covariance, { method: 'eigh', backend })
        if (what === 'featureStats') k.frechetDistance(a, b, { backend })
      }
    }`
  const out = {}
  for (const what of ['w2', 'sqrtm', 'featureStats']) {
    out[what] = {}
    for (const b of backendNames) {
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', code, '--', what, b], { encoding: 'utf8', timeout: 120_000 })
      const last = (r.stderr || '').trim().split('\n').filter(Boolean).slice(-1)[0] ?? ''
      out[what][b] = r.status === 0 ? null : `${r.signal ?? `exit ${r.status}`}${last ? `: ${last.slice(0, 160)}` : ''}`
      if (out[what][b]) log(`  probe: kexue ${what} on ${b} failed in a child process (${out[what][b]}); its rows are skipped`)
    }
  }
  return out
}
const probeSkip = (ctx, what, backend) => {
  const r = ctx.probe[what]?.[backend]
  return r ? { skipped: `kexue ${what} on ${backend} failed in a probe process (${r})` } : null
}

// ---------------------------------------------------------------------------------------------
// sections
// ---------------------------------------------------------------------------------------------
function pkgVersion (name) {
  try { return JSON.parse(readFileSync(path.join(root, 'node_modules', name, 'package.json'), 'utf8')).version } catch { return null }
}

const relDiff = (a, b) => Math.abs(a - b) / Math.abs(b)
function matDiff (a, b) {
  let e = 0, m = 0
  for (let i = 0; i < b.length; i++) { e = Math.max(e, Math.abs(a[i] - b[i])); m = Math.max(m, Math.abs(b[i])) }
  return e / m
}

/** Peer in a worker with the skip rule: skipped when the previous size did not finish, or its time predicts > 3 x the limit. */
async function peerEntry (peer, n, data, state, limitMs) {
  const prev = state[peer]
  if (prev?.dnf) return { skipped: `skipped: n = ${prev.n} did not finish in ${limitMs / 1e3} s` }
  if (prev?.ms) {
    const predicted = prev.ms * (n / prev.n) ** 3
    if (predicted > 3 * limitMs) return { skipped: `skipped: n = ${prev.n} took ${(prev.ms / 1e3).toFixed(1)} s (min), predicts ~${(predicted / 1e3).toFixed(0)} s here` }
  }
  log(`  ${peer} n = ${n} (worker, limit ${limitMs / 1e3} s)`)
  const r = await runPeer({ peer, n, ...data }, limitMs)
  if (r.dnf) { state[peer] = { dnf: true, n }; return { dnf: r.dnf } }
  state[peer] = { ms: r.stats.minMs, n } // the best call (the first one includes JIT warm-up)
  log(`  ${peer}: min ${r.stats.minMs.toFixed(2)} ms, median ${r.stats.medianMs.toFixed(2)} ms (${r.stats.samples} samples)`)
  return r
}

async function benchW2 (n, dir, ctx) {
  log(`W2, n = ${n}`)
  const meter = otherLoadMeter()
  const { raw, t } = w2Inputs(n, dir)
  const entries = {}
  const w2 = (backend) => () => gaussian.w2(t.mu1, t.S1, t.mu2, t.S2, { backend })
  const kexue = [['kexue cpu 1t', 'cpu', 1], ['kexue cpu 2t', 'cpu', 2], ['kexue wasm', 'wasm', 1]]
  if (n <= KEXUE_JS_MAX_N) kexue.push(['kexue js', 'js', 1])
  let ref
  for (const [name, backend, threads] of kexue) {
    const skip = probeSkip(ctx, 'w2', backend)
    if (skip) { entries[name] = skip; continue }
    const r = await timeKexue(name, w2(backend), () => { if (backend === 'cpu') setNumThreads(threads) })
    if (!Number.isFinite(r.value) || !(r.value > 0)) fail(`${name} n ${n}: W2 = ${r.value}`)
    ref ??= r.value
    const d = relDiff(r.value, ref)
    if (!(d <= KEXUE_TOL)) fail(`${name} n ${n}: W2 ${r.value} differs from kexue cpu 1t's ${ref} by ${d.toExponential(2)} (tolerance ${KEXUE_TOL})`)
    entries[name] = { ...r.stats, threads, value: r.value, relDiff: d, target: KEXUE_TOL, ...kernelNote(backend, 'w2Trace', 'the W2 trace') }
    log(`  ${name}: min ${r.stats.minMs.toFixed(2)} ms, W2 = ${r.value}`)
  }
  setNumThreads(ctx.defaultThreads)
  for (const [name, route, target] of [['numpy cholesky route', 'cholesky', CHOL_TARGET], ['scipy sqrtm(S1 S2) (pytorch-fid)', 'scipy-sqrtm', SQRTM_TARGET]]) {
    log(`  ${name}`)
    const r = runPeers('w2', route, dir, n)
    entries[name] = r.stats ? { ...r.stats, threads: 2, value: r.value, relDiff: relDiff(r.value, ref), target, code: r.code } : r
  }
  const data = { mu1: raw.mu1, S1: raw.S1, mu2: raw.mu2, S2: raw.S2 }
  for (const [name, peer, target] of [['ml-matrix cholesky route', 'ml-matrix w2', CHOL_TARGET], ['mathjs sqrtm(S1 S2)', 'mathjs w2', SQRTM_TARGET]]) {
    const r = await peerEntry(peer, n, data, ctx.peerState.w2, ctx.peerLimitMs)
    entries[name] = r.stats ? { ...r.stats, threads: 1, value: r.value, relDiff: relDiff(r.value, ref), target } : r
  }
  return { entries, value: ref, flops: flopsW2(n), otherLoad: meter() }
}

async function benchSqrtm (n, dir, ctx) {
  log(`sqrtm, n = ${n}`)
  const meter = otherLoadMeter()
  const { raw, t } = w2Inputs(n, dir) // S1 (the file s1-n.npy too)
  const entries = {}
  let ref
  for (const [name, backend, threads] of [['kexue cpu 1t', 'cpu', 1], ['kexue cpu 2t', 'cpu', 2], ['kexue wasm', 'wasm', 1]]) {
    const skip = probeSkip(ctx, 'sqrtm', backend)
    if (skip) { entries[name] = skip; continue }
    const r = await timeKexue(name, () => sqrtm(t.S1, { method: 'eigh', backend }).sqrt.data, () => { if (backend === 'cpu') setNumThreads(threads) })
    ref ??= r.value
    const d = matDiff(r.value, ref)
    if (!(d <= KEXUE_TOL)) fail(`sqrtm ${name} n ${n}: differs from kexue cpu 1t by ${d.toExponential(2)} of max |X| (tolerance ${KEXUE_TOL})`)
    entries[name] = { ...r.stats, threads, relDiff: d, target: KEXUE_TOL, ...kernelNote(backend, 'sqrtm', 'sqrtm') }
    log(`  ${name}: min ${r.stats.minMs.toFixed(2)} ms`)
  }
  setNumThreads(ctx.defaultThreads)
  for (const [name, route, target] of [['numpy eigh route', 'eigh', CHOL_TARGET], ['scipy.linalg.sqrtm', 'scipy', SQRTM_TARGET]]) {
    log(`  ${name}`)
    const r = runPeers('sqrtm', route, dir, n)
    if (!r.stats) { entries[name] = r; continue }
    const x = readNpyFile(path.join(dir, `out-sqrtm-${route}-${n}.npy`)).data
    entries[name] = { ...r.stats, threads: 2, relDiff: matDiff(x, ref), residual: r.residual, target, code: r.code }
  }
  for (const [name, peer, target] of [['ml-matrix eigen route', 'ml-matrix sqrtm', CHOL_TARGET], ['mathjs sqrtm', 'mathjs sqrtm', SQRTM_TARGET]]) {
    const r = await peerEntry(peer, n, { S1: raw.S1 }, ctx.peerState.sqrtm, ctx.peerLimitMs)
    entries[name] = r.stats ? { ...r.stats, threads: 1, relDiff: matDiff(r.value, ref), target } : r
  }
  return { entries, otherLoad: meter() }
}

async function benchFid (rows, dim, dir, ctx) {
  log(`FID end to end, 2 x [${rows}, ${dim}] float32 .npy files`)
  const meter = otherLoadMeter()
  const files = fidInputs(rows, dim, dir)
  const entries = {}
  let ref
  const fidKexue = (backend) => {
    const phases = { loadMs: 0, statsMs: 0, distanceMs: 0 }
    const fn = () => {
      const t0 = performance.now()
      const feats = files.map((f) => readNpyFile(f))
      const t1 = performance.now()
      const stats = feats.map((x) => {
        const s = new GaussianStats(dim)
        for (let r = 0; r < rows; r += FID_CHUNK) s.update(tensor(x.data.subarray(r * dim, Math.min(rows, r + FID_CHUNK) * dim), [Math.min(FID_CHUNK, rows - r), dim]), { backend })
        return s
      })
      const t2 = performance.now()
      const v = frechetDistance(stats[0], stats[1], { backend })
      const t3 = performance.now()
      Object.assign(phases, { loadMs: t1 - t0, statsMs: t2 - t1, distanceMs: t3 - t2 }) // the last call's
      return v
    }
    return { fn, phases }
  }
  const list = [['kexue cpu 2t', 'cpu', 2], ['kexue cpu 1t', 'cpu', 1], ['kexue wasm', 'wasm', 1]]
  if (rows * dim * dim <= 1000 * 256 * 256) list.push(['kexue js', 'js', 1])
  for (const [name, backend, threads] of list) {
    const skip = probeSkip(ctx, 'featureStats', backend)
    if (skip) { entries[name] = skip; continue }
    const { fn, phases } = fidKexue(backend)
    const r = await timeKexue(name, fn, () => { if (backend === 'cpu') setNumThreads(threads) })
    if (!Number.isFinite(r.value) || !(r.value > 0)) fail(`FID ${name}: ${r.value}`)
    ref ??= r.value
    const d = relDiff(r.value, ref)
    if (!(d <= KEXUE_TOL)) fail(`FID ${name}: ${r.value} differs from kexue cpu 2t's ${ref} by ${d.toExponential(2)}`)
    entries[name] = { ...r.stats, threads, value: r.value, relDiff: d, target: KEXUE_TOL, phasesOfLastCall: { ...phases }, ...kernelNote(backend, 'featureStats', 'GaussianStats.update') }
    log(`  ${name}: min ${r.stats.minMs.toFixed(2)} ms (last call: load ${phases.loadMs.toFixed(0)}, stats ${phases.statsMs.toFixed(0)}, distance ${phases.distanceMs.toFixed(0)} ms), FID = ${r.value}`)
  }
  setNumThreads(ctx.defaultThreads)
  // np.mean of float32 features is a float32 mean (pytorch-fid's mu), so both numpy rows differ from
  // kexue's float64 statistics by ~1e-9 whatever the route: FID_NUMPY_TARGET for both
  for (const [name, route, target] of [['numpy/scipy pytorch-fid', 'scipy-sqrtm', FID_NUMPY_TARGET], ['numpy cov + cholesky route', 'cholesky', FID_NUMPY_TARGET]]) {
    log(`  ${name}`)
    const r = runPeers('fid', route, dir, dim)
    entries[name] = r.stats ? { ...r.stats, threads: 2, value: r.value, relDiff: relDiff(r.value, ref), target, code: r.code } : r
  }
  return { rows, dim, entries, value: ref, flops: flopsFid(rows, dim), otherLoad: meter() }
}

// ---------------------------------------------------------------------------------------------
// report
// ---------------------------------------------------------------------------------------------
/** Ratio columns: base min / entry min (> 1 = the entry is faster). */
function printNotes (entries) {
  for (const [name, e] of Object.entries(entries)) if (e.note) console.log(`  note: ${name}: ${e.note}`)
}

function tableRows (entries, bases, flops, dgemm) {
  const rows = []
  const derived = {}
  for (const [name, e] of Object.entries(entries)) {
    const row = { entry: name, 'min ms': '-', 'median ms': '-' }
    for (const [label] of bases) row[label] = '-'
    if (flops) { row['GFLOP/s'] = '-'; row['of dgemm'] = '-' }
    Object.assign(row, { 'rel diff': '-', threads: e.threads ?? '-', samples: '-' })
    if (!e.minMs) {
      row['min ms'] = e.dnf ? 'did not finish' : 'skipped'
      row.samples = e.dnf ?? e.skipped ?? e.error
      rows.push(row)
      continue
    }
    row['min ms'] = fmt(e.minMs, 2)
    row['median ms'] = fmt(e.medianMs, 2)
    const d = { minMs: e.minMs, medianMs: e.medianMs, relDiff: e.relDiff }
    for (const [label, baseName] of bases) {
      const b = entries[baseName]?.minMs
      if (b) { row[label] = fmt(b / e.minMs, 2); d[label] = b / e.minMs }
    }
    if (flops) {
      const g = flops / (e.minMs / 1e3) / GFLOP
      const peak = dgemm?.[e.threads]
      row['GFLOP/s'] = fmt(g, 2)
      if (peak) row['of dgemm'] = fmt(100 * g / peak, 1) + '%'
      d.GFLOPs = g
      d.fractionOfDgemm = peak ? g / peak : null
    }
    row['rel diff'] = e.relDiff === undefined ? '-' : e.relDiff.toExponential(1) + (e.relDiff > e.target ? ' (!)' : '')
    row.samples = e.samples
    rows.push(row)
    derived[name] = d
  }
  return { rows, derived }
}

function parseArgs (argv) {
  const a = { sizes: [64, 256, 1024, 2048], sqrtmSizes: [64, 256, 1024], fidRows: 10000, fidDim: 2048, fid: true, peerLimitS: 20, quick: false }
  const list = (s) => s.split(',').map(Number).filter((x) => Number.isInteger(x) && x > 0)
  let sqrtmGiven = false
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]
    const v = () => { if (i + 1 >= argv.length) throw new Error(`${k} needs a value`); return argv[++i] }
    if (k === '--quick') a.quick = true
    else if (k === '--sizes') a.sizes = list(v())
    else if (k === '--sqrtm-sizes') { a.sqrtmSizes = list(v()); sqrtmGiven = true }
    else if (k === '--fid-rows') a.fidRows = Number(v())
    else if (k === '--fid-dim') a.fidDim = Number(v())
    else if (k === '--no-fid') a.fid = false
    else if (k === '--peer-limit') a.peerLimitS = Number(v())
    else throw new Error(`unknown argument ${k} (see the header of bench/gaussian.bench.mjs)`)
  }
  if (a.quick) {
    if (!argv.includes('--sizes')) a.sizes = [64, 256]
    if (!argv.includes('--fid-rows')) a.fidRows = 1000
    if (!argv.includes('--fid-dim')) a.fidDim = 256
  }
  if (!sqrtmGiven) a.sqrtmSizes = a.sqrtmSizes.filter((n) => n <= Math.max(...a.sizes))
  return a
}

async function main () {
  const t0 = performance.now()
  const args = parseArgs(process.argv.slice(2))
  const loadavgAtStart = os.loadavg()
  const defaultThreads = getNumThreads()
  const ops = linalgOps()
  log(`gaussian bench: W2 n ${args.sizes.join(' / ')}, sqrtm n ${args.sqrtmSizes.join(' / ')}, ` +
    `FID ${args.fid ? `${args.fidRows} x ${args.fidDim}` : 'off'}; float64; peer limit ${args.peerLimitS} s${args.quick ? ' (quick)' : ''}`)
  log(`kexue linalg kernels per backend: ${JSON.stringify(ops)}`)
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kexue-gaussian-bench-'))
  try {
    const runMeter = otherLoadMeter()
    log('DGEMM ceiling: numpy a @ b 1024^3 float64, OpenBLAS 1 and 2 threads')
    const dgemm = {}
    const dgemmRuns = {}
    for (const th of [1, 2]) {
      const r = runPeers('dgemm', '-', dir, 1024, { OPENBLAS_NUM_THREADS: String(th) })
      dgemmRuns[th] = r
      if (r.stats) dgemm[th] = r.flops / (r.minMs / 1e3) / GFLOP
    }
    log('probing kexue ops in child processes')
    const probe = probeKexue(['cpu', 'wasm', 'js'].filter((b) => backends().find((x) => x.name === b)?.available))
    const ctx = { ops, probe, defaultThreads, peerLimitMs: args.peerLimitS * 1e3, peerState: { w2: {}, sqrtm: {} } }
    const results = { w2: {}, sqrtm: {}, fid: null }
    for (const n of args.sizes) results.w2[n] = await benchW2(n, dir, ctx)
    for (const n of args.sqrtmSizes) results.sqrtm[n] = await benchSqrtm(n, dir, ctx)
    if (args.fid) results.fid = await benchFid(args.fidRows, args.fidDim, dir, ctx)
    const otherLoad = runMeter()

    const tables = { w2: {}, sqrtm: {}, fid: null }
    const loadNote = (o) => (o ? `; other processes used ${o.otherCores.toFixed(2)} cores meanwhile` : '')
    console.log(`\nDGEMM ceiling (numpy float64 a @ b, 1024^3): ${fmt(dgemm[1], 1)} GFLOP/s 1 thread, ${fmt(dgemm[2], 1)} GFLOP/s 2 threads. ` +
      `kexue linalg kernels: ${JSON.stringify(ops)}`)
    const w2Bases = [['x numpy chol', 'numpy cholesky route'], ['x scipy', 'scipy sqrtm(S1 S2) (pytorch-fid)'], ['x ml-matrix', 'ml-matrix cholesky route']]
    for (const n of args.sizes) {
      const g = results.w2[n]
      const { rows, derived } = tableRows(g.entries, w2Bases, g.flops, dgemm)
      g.derived = derived
      tables.w2[n] = rows
      console.log(`\nW2^2 between N(mu1, S1) and N(mu2, S2), n = ${n}, float64 (W2^2 = ${g.value}): times per call; 'x ...' = that entry's min / this entry's min ` +
        `(> 1 = faster); GFLOP/s at the nominal 11/3 n^3 of the Cholesky route; 'of dgemm' at the entry's thread count; ` +
        `'rel diff' = |W2 - kexue cpu's| / kexue cpu's, (!) above the target (1e-12 Cholesky routes, 1e-6 sqrtm(S1 S2) routes)${loadNote(g.otherLoad)}`)
      console.table(rows)
      printNotes(g.entries)
    }
    const sqBases = [['x numpy eigh', 'numpy eigh route'], ['x scipy', 'scipy.linalg.sqrtm'], ['x ml-matrix', 'ml-matrix eigen route']]
    for (const n of args.sqrtmSizes) {
      const g = results.sqrtm[n]
      const { rows, derived } = tableRows(g.entries, sqBases, null, null)
      g.derived = derived
      tables.sqrtm[n] = rows
      console.log(`\nsqrtm(S1), n = ${n}, float64 SPD: 'rel diff' = max |X - X_kexue cpu| / max |X_kexue cpu|${loadNote(g.otherLoad)}`)
      console.table(rows)
      printNotes(g.entries)
    }
    if (results.fid) {
      const g = results.fid
      const { rows, derived } = tableRows(g.entries, [['x pytorch-fid', 'numpy/scipy pytorch-fid'], ['x numpy chol', 'numpy cov + cholesky route']], g.flops, dgemm)
      g.derived = derived
      tables.fid = rows
      console.log(`\nFID end to end from two float32 .npy files [${g.rows}, ${g.dim}] (load, mean + covariance, distance; FID = ${g.value}); ` +
        `GFLOP/s at the nominal 2 m n^2 + 11/3 n^3; 'rel diff' target for the numpy rows 1e-6 (pytorch-fid's np.mean of float32 features is a float32 mean)${loadNote(g.otherLoad)}`)
      console.table(rows)
      printNotes(g.entries)
    }

    writeResult('gaussian', {
      bench: 'gaussian',
      date: new Date().toISOString(),
      machine: machineInfo(loadavgAtStart),
      kexue: { ...kexueInfo(defaultThreads), linalgOps: ops, probe: ctx.probe },
      params: {
        args,
        dtype: 'float64 (FID features float32)',
        inputs: `S = X^T X / m + ${RIDGE} I, X = normal([m = 2n, n], { seed: 11 / 12, dtype: 'float64' }), X2's column j scaled by 0.5 + j / n; ` +
          "mu = 0.1 normal([n], { seed: 13 / 14 }); FID features normal([rows, dim], { seed: 21 / 22 }) * exp(-3 j / dim) (b: * 1.05 + 0.05)",
        tolerances: { kexue: KEXUE_TOL, choleskyRoutes: CHOL_TARGET, sqrtmRoutes: SQRTM_TARGET, fidNumpy: FID_NUMPY_TARGET },
        budgets: { targetMsPerEntry: TARGET_MS, slowMs: SLOW_MS, minIterations: MIN_IT, maxIterations: MAX_IT, peerLimitS: args.peerLimitS, pythonTimeoutS: PY_TIMEOUT_MS / 1e3 },
        flopsCounted: { w2: '11/3 n^3 (nominal)', fid: '2 m n^2 + 11/3 n^3 (nominal)' },
        python: { env: NUMPY_ENV, script: 'bench/gaussian_peers.py' },
        peers: { 'ml-matrix': pkgVersion('ml-matrix'), mathjs: pkgVersion('mathjs') },
      },
      ceiling: { dgemmGFLOPsByThreads: dgemm, runs: dgemmRuns },
      otherLoad,
      results,
      tables,
      sink: sinkValue(),
      wallSeconds: (performance.now() - t0) / 1e3,
    })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

if (isMainThread) await main()
else await peerWorker()
