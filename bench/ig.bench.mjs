// Integrated-gradients benchmark (issue 5): IG of an MLP 784-256-256-10 (ReLU, ReLU, softmax),
// target class 3, zero baseline, 64 steps, methods riemann_trapezoid and gausslegendre, for one
// input and for a batch of 64 inputs. Compares kexue's built-in MLP (cpu 1 and 2 threads, wasm,
// js) with a hand-written plain-JS forward/backward (Float64Array loops) and tfjs tf.grad on its
// 'cpu' and 'wasm' backends, and kexue's own float64 GEMM (native linalgGemm 1024^3) as the
// machine's ceiling.
// Run: node bench/ig.bench.mjs [--quick] [--no-batch]   (or node bench/run.mjs ig [-- --quick])
import os from 'node:os'
import { getNumThreads, integratedGradients, mlp, normal, quadrature, setNumThreads, tensor, uniform } from '../dist/index.js'
import {
  GFLOP, log, keep, sinkValue, sanityFail, runBench, loadTfjsWasm, fmt, otherLoadMeter, machineInfo, kexueInfo, writeResult,
} from './common.mjs'

const fail = sanityFail('ig')
const argv = process.argv.slice(2)
for (const a of argv) if (a !== '--quick' && a !== '--no-batch') throw new Error(`unknown argument ${a} (see the header of bench/ig.bench.mjs)`)
const QUICK = argv.includes('--quick')
const BATCH = !argv.includes('--no-batch')

const DIMS = [784, 256, 256, 10]
const ACTS = ['relu', 'relu', 'softmax']
const STEPS = 64
const TARGET = 3
const BATCH_SIZE = 64
const METHODS = ['gausslegendre', 'riemann_trapezoid']
const WEIGHT_SEEDS = [101, 102, 103] // W_l = normal([out, in], std 1 / sqrt(in)), float64
const BIAS_SEEDS = [201, 202, 203] // b_l = 0.1 * normal([out])
const INPUT_SEED = 7 // x = uniform([B, 784]) in [0, 1) (pixel-like), float64
const KEXUE_TOL = 1e-10 // kexue rows and plain JS vs kexue js (float64): max |a - ref| / max |ref|; else the bench fails
const TFJS_TOL = 1e-4 // tfjs (float32) target; beyond TFJS_FAIL the bench fails (a wrong model, not rounding)
const TFJS_FAIL = 1e-3
// nominal FLOPs: per path point a forward (2 * sum in*out: multiply + add) and an input-gradient
// backward (the same again: W^T g per layer), no weight gradients; 4 * 64 * 268800 = 68.8 MFLOP per input
const MACS = DIMS.slice(1).reduce((s, o, l) => s + DIMS[l] * o, 0) // 268800
const flopsPerInput = 2 * 2 * STEPS * MACS
// kexue's native igMlp (cpu and wasm rows; not the js reference) folds layer 1 along the linear
// path (native/core/mlp.cc): z_1 = u + a_k v with u = W1 x' + b1, v = W1 (x - x'), and
// sum_k w_k W1^T g_k = W1^T sum_k w_k g_k, so layer 1 costs 3 forward rows (x, x', x - x') and one
// backward row per input instead of 2 * steps; layers 2-3 run on the steps path points plus x and
// x' (forward only). Its real count (the 'real' columns; nominal GFLOP/s stay the headline):
const L1 = DIMS[0] * DIMS[1]
const foldedFlopsPerInput = 2 * (2 * STEPS * (MACS - L1) + 2 * (MACS - L1) + 4 * L1)
const FOLDED = new Set(['kexue cpu 1t', 'kexue cpu 2t', 'kexue wasm'])
const TARGET_MS = QUICK ? 300 : 1500 // each entry gets about this much time of samples ...
const MIN_IT = QUICK ? 2 : 5
const MAX_IT = QUICK ? 10 : 40
const SLOW_MS = QUICK ? 3000 : 8000 // ... an entry whose first call takes longer gets MIN_IT - 2 (>= 1) samples
const GEMM_N = 1024

// ---------------------------------------------------------------------------------------------
// model and inputs
// ---------------------------------------------------------------------------------------------
function buildModel () {
  const W = []
  const b = []
  for (let l = 0; l < 3; l++) {
    const [inp, out] = [DIMS[l], DIMS[l + 1]]
    W.push(normal([out, inp], { seed: WEIGHT_SEEDS[l], mean: 0, std: 1 / Math.sqrt(inp), dtype: 'float64' }).data)
    b.push(normal([out], { seed: BIAS_SEEDS[l], mean: 0, std: 0.1, dtype: 'float64' }).data)
  }
  const model = mlp({ layers: W.map((w, l) => ({ weight: tensor(w, [DIMS[l + 1], DIMS[l]]), bias: tensor(b[l], [DIMS[l + 1]]), activation: ACTS[l] })) })
  return { W, b, model }
}

// ---------------------------------------------------------------------------------------------
// plain JS: IG by hand, the way a developer writes it (no folding, no batching)
// ---------------------------------------------------------------------------------------------
function plainIg (W, b) {
  const net = {
    W1: W[0], W2: W[1], W3: W[2], b1: b[0], b2: b[1], b3: b[2],
    p: new Float64Array(d0), h1: new Float64Array(d1), h2: new Float64Array(d2), z: new Float64Array(d3),
    g1: new Float64Array(d1), g2: new Float64Array(d2), gz: new Float64Array(d3), gx: new Float64Array(d0),
  }
  return (x, xo, out, nodes, weights, target) => plainIgInto(net, x, xo, out, nodes, weights, target)
}

/**
 * The attributions of x[xo .. xo + 784) written into out; zero baseline. A top-level function with
 * everything in locals: V8 then compiles one fast version whatever closure calls it.
 */
const [d0, d1, d2, d3] = DIMS // module constants: loop bounds V8 can fold
function plainIgInto (net, x, xo, out, nodes, weights, target) {
  const { W1, W2, W3, b1, b2, b3, p, h1, h2, z, g1, g2, gz, gx } = net
  const avg = out // accumulate the weighted gradient in out, multiply by (x - x') at the end
  for (let i = 0; i < d0; i++) avg[i] = 0
  for (let k = 0; k < nodes.length; k++) {
    const a = nodes[k]
    for (let i = 0; i < d0; i++) p[i] = a * x[xo + i] // x' + a (x - x'), x' = 0
    // forward
    for (let o = 0; o < d1; o++) {
      let s = b1[o]
      const r = o * d0
      for (let i = 0; i < d0; i++) s += W1[r + i] * p[i]
      h1[o] = s > 0 ? s : 0
    }
    for (let o = 0; o < d2; o++) {
      let s = b2[o]
      const r = o * d1
      for (let i = 0; i < d1; i++) s += W2[r + i] * h1[i]
      h2[o] = s > 0 ? s : 0
    }
    let zmax = -Infinity
    for (let o = 0; o < d3; o++) {
      let s = b3[o]
      const r = o * d2
      for (let i = 0; i < d2; i++) s += W3[r + i] * h2[i]
      z[o] = s
      if (s > zmax) zmax = s
    }
    let sum = 0
    for (let o = 0; o < d3; o++) sum += (z[o] = Math.exp(z[o] - zmax))
    for (let o = 0; o < d3; o++) z[o] /= sum // z = softmax
    // backward: d softmax_t / d z_j = s_t (delta_tj - s_j)
    const st = z[target]
    for (let o = 0; o < d3; o++) gz[o] = st * ((o === target ? 1 : 0) - z[o])
    g2.fill(0)
    for (let o = 0; o < d3; o++) {
      const g = gz[o], r = o * d2
      for (let i = 0; i < d2; i++) g2[i] += g * W3[r + i]
    }
    for (let i = 0; i < d2; i++) if (!(h2[i] > 0)) g2[i] = 0
    g1.fill(0)
    for (let o = 0; o < d2; o++) {
      const g = g2[o], r = o * d1
      for (let i = 0; i < d1; i++) g1[i] += g * W2[r + i]
    }
    for (let i = 0; i < d1; i++) if (!(h1[i] > 0)) g1[i] = 0
    gx.fill(0)
    for (let o = 0; o < d1; o++) {
      const g = g1[o], r = o * d0
      for (let i = 0; i < d0; i++) gx[i] += g * W1[r + i]
    }
    const w = weights[k]
    for (let i = 0; i < d0; i++) avg[i] += w * gx[i]
  }
  for (let i = 0; i < d0; i++) avg[i] *= x[xo + i] // (x - x') * avg
}

// ---------------------------------------------------------------------------------------------
// tfjs: the same weights (float32), tf.grad of the target probability over a batch of path points
// ---------------------------------------------------------------------------------------------
function tfjsModel (tf, W, b) {
  // Dense-layer layout: kernels [in, out] (transposed once, as tf.layers stores them)
  const kernels = W.map((w, l) => {
    const [inp, out] = [DIMS[l], DIMS[l + 1]]
    const t = new Float32Array(inp * out)
    for (let o = 0; o < out; o++) for (let i = 0; i < inp; i++) t[i * out + o] = w[o * inp + i]
    return tf.tensor2d(t, [inp, out])
  })
  const biases = b.map((v) => tf.tensor1d(Float32Array.from(v)))
  const prob = (P) => {
    let h = P
    for (let l = 0; l < 3; l++) {
      h = tf.add(tf.matMul(h, kernels[l]), biases[l])
      h = l < 2 ? tf.relu(h) : tf.softmax(h)
    }
    return h.slice([0, TARGET], [-1, 1]).sum() // sum over points: its gradient is each point's own
  }
  const gradFn = tf.grad(prob)
  const tensors = [...kernels, ...biases]
  /** IG of xs [B, 784] (a tf tensor) with one batch of all B * steps path points (Captum's default) */
  const ig = (xs, alphas, wts, B) => tf.tidy(() => {
    const pts = tf.mul(xs.reshape([B, 1, DIMS[0]]), alphas).reshape([B * STEPS, DIMS[0]]) // x' + a (x - x'), x' = 0
    const g = gradFn(pts).reshape([B, STEPS, DIMS[0]])
    return tf.mul(tf.sum(tf.mul(g, wts), 1), xs)
  })
  return { ig, dispose: () => tensors.forEach((t) => t.dispose()) }
}

// ---------------------------------------------------------------------------------------------
// timing and checks
// ---------------------------------------------------------------------------------------------
function budget (firstMs) {
  const iterations = firstMs > SLOW_MS ? Math.max(1, MIN_IT - 2) : Math.min(MAX_IT, Math.max(MIN_IT, Math.ceil(TARGET_MS / firstMs)))
  return { time: 0, iterations, warmupTime: 0, warmupIterations: firstMs < 100 ? 2 : firstMs < 1000 ? 1 : 0 }
}

/** max |a - ref| / max |ref| */
function relErr (a, ref) {
  let num = 0, den = 0
  for (let i = 0; i < ref.length; i++) {
    num = Math.max(num, Math.abs(a[i] - ref[i]))
    den = Math.max(den, Math.abs(ref[i]))
  }
  return num / den
}

/**
 * Times entries [name, { fn, prepare?, threads, tol }]: prepare, one first call (its value
 * checked against ref), then tinybench with iterations sized from the first call.
 */
async function timeEntries (list, ref) {
  const entries = {}
  for (const [name, e] of list) {
    if (e.skipped) { entries[name] = { skipped: e.skipped }; continue }
    e.prepare?.()
    const t0 = performance.now()
    const value = e.fn()
    const firstMs = performance.now() - t0
    const err = relErr(value, ref)
    log(`  ${name}: first call ${firstMs.toFixed(1)} ms, rel err vs kexue js ${err.toExponential(2)}`)
    if (!(err <= e.tol)) fail(`${name}: attributions differ from kexue js by ${err.toExponential(3)} (max |a - ref| / max |ref|; limit ${e.tol})`)
    if (e.warnTol && err > e.warnTol) log(`  warning: ${name}: rel err ${err.toExponential(2)} above the ${e.warnTol} target`)
    if (e.warmupMs) { // extra warm-up: V8 runs a hot JS loop on slower on-stack-replaced code for a while
      const w0 = performance.now()
      let calls = 0
      while (performance.now() - w0 < e.warmupMs || calls < 3) { keep(e.fn()[0]); calls++ }
    }
    const r = await runBench(name, budget(firstMs), [[name, () => { keep(e.fn()[0]) }, { beforeAll: e.prepare }]])
    entries[name] = { ...r[name], firstCallMs: firstMs, relErrVsKexueJs: err, threads: e.threads }
  }
  return entries
}

// ---------------------------------------------------------------------------------------------
// GEMM ceiling: kexue's own float64 gemm (the native linalgGemm kernel), 1024^3, 1 and 2 threads
// ---------------------------------------------------------------------------------------------
async function gemmCeiling () {
  const n = GEMM_N
  let addon
  try {
    addon = (await import('../dist/backends/native.js')).loadNative().addon
  } catch (e) {
    return { skipped: `native addon not loadable: ${e.message}` }
  }
  if (typeof addon?.linalgGemm !== 'function') return { skipped: 'native addon has no linalgGemm' }
  const a = new Float64Array(n * n), bm = new Float64Array(n * n), c = new Float64Array(n * n)
  for (let i = 0; i < a.length; i++) { a[i] = ((i * 7919) % 1000) / 1000 - 0.5; bm[i] = ((i * 104729) % 997) / 997 - 0.5 }
  const gemm = () => addon.linalgGemm(n, n, n, a, n, false, bm, n, false, c, n, 1, 0)
  gemm()
  for (const [i, j] of [[0, 0], [1, n - 1], [n - 1, 7], [n >> 1, n >> 2]]) {
    let want = 0
    for (let p = 0; p < n; p++) want += a[i * n + p] * bm[p * n + j]
    if (!(Math.abs(c[i * n + j] - want) <= 1e-9 * (1 + Math.abs(want)))) fail(`linalgGemm c[${i}, ${j}] = ${c[i * n + j]}, expected ${want}`)
  }
  const flops = 2 * n * n * n
  const out = { n, flops, kernel: 'native linalgGemm (row-major, no transposes, alpha 1, beta 0), float64' }
  for (const t of [2, 1]) {
    log(`DGEMM ceiling: kexue linalgGemm ${n}^3 float64, ${t} thread${t > 1 ? 's' : ''}`)
    const name = `dgemm ${t}t`
    const r = await runBench(name, { time: QUICK ? 500 : 1500, iterations: QUICK ? 3 : 8, warmupTime: 0, warmupIterations: 2 },
      [[name, () => { gemm(); keep(c[0]) }, { beforeAll: () => setNumThreads(t) }]])
    // the best run is the ceiling (min time): a ceiling should not be lowered by a busy moment
    out[t] = { ...r[name], GFLOPs: flops / (r[name].minMs / 1e3) / GFLOP, threads: t }
  }
  return out
}

// ---------------------------------------------------------------------------------------------
// one configuration: B inputs, one method
// ---------------------------------------------------------------------------------------------
/** Inputs, quadrature and the kexue js (float64) reference of one configuration. */
function setupConfig (B, method, ctx) {
  const xData = uniform([B, DIMS[0]], { seed: INPUT_SEED, dtype: 'float64' }).data
  const x = tensor(xData, [B, DIMS[0]])
  const { nodes, weights } = quadrature(method, STEPS)
  const label = `${B === 1 ? 'one input' : `batch of ${B}`}, ${method}`
  log(`\n${label}: kexue js reference`)
  const ig = (backend) => integratedGradients(ctx.model, x, { steps: STEPS, method, target: TARGET, backend })
  const t0 = performance.now()
  const refRes = ig('js')
  const refMs = performance.now() - t0
  log(`  kexue js: ${refMs.toFixed(1)} ms; F(x) = ${refRes.output[0].toPrecision(6)}, delta = ${refRes.delta[0].toExponential(3)}`)
  // completeness: sum IG = F(x) - F(x') up to the quadrature error; a model or kernel bug shows here first
  let maxDelta = 0
  for (let i = 0; i < B; i++) maxDelta = Math.max(maxDelta, Math.abs(refRes.delta[i]))
  if (!(maxDelta < 0.05)) fail(`${label}: kexue js completeness delta ${maxDelta} is too large`)
  return {
    B, method, label, xData, nodes, weights, ig, ref: refRes.attributions.data,
    reference: { backend: 'js', firstCallMs: refMs, output: Array.from(refRes.output.slice(0, 4)), delta: Array.from(refRes.delta.slice(0, 4)), maxAbsDelta: maxDelta },
    entries: {},
    otherLoad: {},
  }
}

// Row order in the tables
const ORDER = ['kexue cpu 1t', 'kexue cpu 2t', 'kexue wasm', 'kexue js', 'plain JS', 'plain JS, after wasm', 'tfjs cpu', 'tfjs wasm']

/**
 * Times one phase of a configuration. Phase 'js' (run first, while no ArrayBuffer has been
 * detached in this process): kexue js, plain JS, tfjs cpu. Phase 'native': kexue cpu / wasm, tfjs
 * wasm, and (one input) plain JS again. Detaching any ArrayBuffer (a WebAssembly memory.grow does)
 * invalidates V8's ArrayBufferDetaching protector for the whole process, after which every
 * optimized typed-array access checks for detachment: JS loops over Float64Arrays get ~1.6x slower
 * here. The second plain-JS row shows that cost (what an app that also uses wasm gets).
 */
async function benchPhase (cfg, phase, ctx) {
  const { tf, tfjsWasm, W, b } = ctx
  const { B, xData, nodes, weights, ig } = cfg
  const kx = (backend, threads) => ({
    fn: () => ig(backend).attributions.data,
    prepare: threads ? () => setNumThreads(threads) : undefined,
    threads: threads ?? 1,
    tol: KEXUE_TOL,
  })
  const plain = plainIg(W, b)
  const plainOut = new Float64Array(B * DIMS[0])
  const plainRow = {
    fn: () => {
      for (let i = 0; i < B; i++) plain(xData, i * DIMS[0], plainOut.subarray(i * DIMS[0], (i + 1) * DIMS[0]), nodes, weights, TARGET)
      return plainOut
    },
    threads: 1,
    tol: KEXUE_TOL,
    warmupMs: QUICK ? 300 : 1000,
  }
  const tfState = {}
  const tfRow = (tfBackend) => {
    const skipped = tf.skipped ?? (tfBackend === 'wasm' ? tfjsWasm?.skipped : undefined)
    if (skipped) return { skipped }
    return {
      // tensors live on the backend they were made on: switch first, then build the model and inputs
      async init () {
        if (!(await tf.setBackend(tfBackend))) throw new Error(`tfjs backend ${tfBackend} failed to initialize`)
        await tf.ready()
        const m = tfjsModel(tf, W, b)
        const xs = tf.tensor2d(Float32Array.from(xData), [B, DIMS[0]])
        const alphas = tf.tensor3d(Float32Array.from(nodes), [1, STEPS, 1])
        const wts = tf.tensor3d(Float32Array.from(weights), [1, STEPS, 1])
        tfState[tfBackend] = { m, xs, alphas, wts, dispose: () => { m.dispose(); xs.dispose(); alphas.dispose(); wts.dispose() } }
      },
      fn: () => {
        const st = tfState[tfBackend]
        const r = st.m.ig(st.xs, st.alphas, st.wts, B)
        const v = r.dataSync()
        r.dispose()
        return v
      },
      done: () => { tfState[tfBackend].dispose(); delete tfState[tfBackend] },
      threads: tfBackend === 'wasm' ? (tfjsWasm?.threads ?? 1) : 1,
      tol: TFJS_FAIL,
      warnTol: TFJS_TOL,
    }
  }
  const list = phase === 'js'
    ? [...(B === 1 ? [['kexue js', kx('js')]] : []), ['plain JS', plainRow], ['tfjs cpu', tfRow('cpu')]]
    : [['kexue cpu 1t', kx('cpu', 1)], ['kexue cpu 2t', kx('cpu', 2)], ['kexue wasm', kx('wasm')], ['tfjs wasm', tfRow('wasm')],
        ...(B === 1 ? [['plain JS, after wasm', plainRow]] : [])]
  log(`\n${cfg.label}: ${phase === 'js' ? 'JS rows (no ArrayBuffer detached yet)' : 'native and wasm rows'}`)
  const meter = otherLoadMeter()
  for (const [name, e] of list) {
    if (e.init) {
      try { await e.init() } catch (err) { cfg.entries[name] = { skipped: err.message }; continue }
    }
    Object.assign(cfg.entries, await timeEntries([[name, e]], cfg.ref))
    e.done?.()
  }
  setNumThreads(ctx.defaultThreads)
  cfg.otherLoad[phase] = meter()
}

function finishConfig (cfg) {
  const entries = {}
  for (const k of ORDER) if (cfg.entries[k]) entries[k] = cfg.entries[k]
  const otherCores = Math.max(...Object.values(cfg.otherLoad).map((o) => o?.otherCores ?? 0))
  return {
    B: cfg.B, method: cfg.method, steps: STEPS, target: TARGET, label: cfg.label,
    nominalFlops: cfg.B * flopsPerInput,
    foldedFlopsEstimate: cfg.B * foldedFlopsPerInput,
    reference: cfg.reference,
    entries,
    otherLoad: { byPhase: cfg.otherLoad, otherCores },
  }
}

// ---------------------------------------------------------------------------------------------
// table
// ---------------------------------------------------------------------------------------------
function tableOf (g, gemm) {
  const rows = []
  const derived = {}
  const plain = g.entries['plain JS']?.medianMs
  const tfw = g.entries['tfjs wasm']?.medianMs
  const mflop = g.nominalFlops / 1e6
  for (const [name, e] of Object.entries(g.entries)) {
    if (e.skipped) { rows.push({ entry: name, 'median ms': 'skipped', samples: e.skipped }); continue }
    const gflops = g.nominalFlops / (e.medianMs / 1e3) / GFLOP
    const real = (FOLDED.has(name) ? g.foldedFlopsEstimate : g.nominalFlops) / (e.medianMs / 1e3) / GFLOP
    const peak = gemm?.[e.threads]?.GFLOPs
    derived[name] = {
      medianMs: e.medianMs,
      minMs: e.minMs,
      speedupVsPlainJs: plain ? plain / e.medianMs : null,
      speedupVsTfjsWasm: tfw ? tfw / e.medianMs : null,
      nominalGFLOPs: gflops,
      fractionOfDgemm: peak ? gflops / peak : null,
      realGFLOPs: real,
      realFractionOfDgemm: peak ? real / peak : null,
      threads: e.threads,
    }
    rows.push({
      entry: name,
      'median ms': fmt(e.medianMs, 2),
      'min ms': fmt(e.minMs, 2),
      'x plain JS': fmt(plain && plain / e.medianMs, 2),
      'x tfjs wasm': fmt(tfw && tfw / e.medianMs, 2),
      MFLOP: fmt(mflop, 1),
      'GFLOP/s': fmt(gflops, 2),
      'of dgemm': peak ? fmt(100 * gflops / peak, 1) + '%' : '-',
      'real GFLOP/s': fmt(real, 2),
      'real of dgemm': peak ? fmt(100 * real / peak, 1) + '%' : '-',
      threads: e.threads,
      'rel err': e.relErrVsKexueJs.toExponential(1),
      samples: e.samples,
    })
  }
  return { rows, derived }
}

function targetsLine (d) {
  const v = (name, key) => d[name]?.[key]
  const parts = [
    ['cpu 1t x plain JS', v('kexue cpu 1t', 'speedupVsPlainJs'), 20],
    ['cpu 2t x plain JS', v('kexue cpu 2t', 'speedupVsPlainJs'), 20],
    ['cpu 1t x tfjs wasm', v('kexue cpu 1t', 'speedupVsTfjsWasm'), 10],
    ['cpu 2t x tfjs wasm', v('kexue cpu 2t', 'speedupVsTfjsWasm'), 10],
    ['wasm x tfjs wasm', v('kexue wasm', 'speedupVsTfjsWasm'), 3],
  ]
  return parts.map(([k, r, t]) => `${k} ${fmt(r, 1)} (target >= ${t}${r == null ? '' : r >= t ? ', met' : ', NOT met'})`).join('; ')
}

// ---------------------------------------------------------------------------------------------
async function main () {
  const t0 = performance.now()
  const loadavgAtStart = os.loadavg()
  const defaultThreads = getNumThreads()
  log(`ig bench: MLP ${DIMS.join('-')} (${ACTS.join(', ')}), ${STEPS} steps, target ${TARGET}, zero baseline, ` +
    `methods ${METHODS.join(' / ')}, 1 input${BATCH ? ` and a batch of ${BATCH_SIZE}` : ''}${QUICK ? ' (quick)' : ''}; load average ${loadavgAtStart.map((l) => l.toFixed(2)).join(' ')}`)
  const runMeter = otherLoadMeter()
  const { W, b, model } = buildModel()
  let tf
  try {
    tf = await import('@tensorflow/tfjs')
  } catch (e) {
    tf = { skipped: `tfjs not importable: ${e.message}` }
    log(tf.skipped)
  }
  const ctx = { W, b, model, tf, tfjsWasm: null, defaultThreads }
  const cfgs = []
  for (const B of BATCH ? [1, BATCH_SIZE] : [1]) for (const method of METHODS) cfgs.push(setupConfig(B, method, ctx))
  // phase 1: the JS rows, before anything in this process detaches an ArrayBuffer (see benchPhase)
  for (const cfg of cfgs) await benchPhase(cfg, 'js', ctx)
  // phase 2: the ceiling, tfjs wasm, kexue cpu / wasm
  const gemm = await gemmCeiling()
  setNumThreads(defaultThreads)
  const tfjs = tf.skipped ? { skipped: tf.skipped } : await loadTfjsWasm()
  if (!tfjs.skipped) tfjs.threads = tfjs.info.multithread ? (await import('@tensorflow/tfjs-backend-wasm')).getThreadsCount() : 1
  else log(`tfjs wasm skipped: ${tfjs.skipped}`)
  ctx.tfjsWasm = tfjs
  for (const cfg of cfgs) await benchPhase(cfg, 'native', ctx)
  const configs = cfgs.map(finishConfig)
  const gemmAfter = await gemmCeiling() // again at the end: the better of the two runs is the ceiling
  for (const t of [1, 2]) if (gemm[t] && gemmAfter[t] && gemmAfter[t].GFLOPs > gemm[t].GFLOPs) gemm[t] = gemmAfter[t]
  setNumThreads(defaultThreads)
  const otherLoad = runMeter()

  console.log(`\nIntegrated gradients, MLP ${DIMS.join('-')} (relu, relu, softmax), float64 (tfjs float32), ${STEPS} steps, target ${TARGET}, zero baseline.`)
  console.log(`Nominal FLOPs per input: 2 (mul + add) * 2 (forward + input-gradient backward) * ${STEPS} steps * ${MACS} (sum of in*out) = ` +
    `${fmt(flopsPerInput / 1e6, 2)} MFLOP; GFLOP/s below are nominal for every row. kexue's igMlp folds layer 1 along the linear path ` +
    `(cpu and wasm rows: about ${fmt(foldedFlopsPerInput / 1e6, 1)} MFLOP of real work per input, ${fmt(100 * foldedFlopsPerInput / flopsPerInput, 0)}% of nominal), so their nominal GFLOP/s ` +
    `overstate their arithmetic rate; the 'real' columns use that count for them (and the nominal one, which is real, for the other rows).`)
  if (gemm.skipped) console.log(`DGEMM ceiling skipped: ${gemm.skipped}`)
  else console.log(`DGEMM ceiling (kexue linalgGemm float64 ${GEMM_N}^3, best of two runs, min time): ${fmt(gemm[1].GFLOPs, 1)} GFLOP/s 1 thread, ${fmt(gemm[2].GFLOPs, 1)} GFLOP/s 2 threads; ` +
    `'of dgemm' = nominal GFLOP/s / the ceiling at the row's thread count.`)
  console.log(`Ratios on medians ('x plain JS' = plain JS median / row median, > 1 = faster). 'rel err' = max |a - a_kexue js| / max |a_kexue js|. ` +
    `tfjs: plain tf ops (matMul, add, relu, softmax, slice, sum) on float32 Dense-layout weights, tf.grad over one batch of all B * ${STEPS} path points (Captum's default), ` +
    `weighted sum and (x - x') in tf, dataSync.`)
  const tables = []
  for (const g of configs) {
    const { rows, derived } = tableOf(g, gemm)
    g.derived = derived
    const ol = `; other load ${g.otherLoad.otherCores.toFixed(2)} cores (the busier of its two phases)`
    console.log(`\n${g.label}: ${fmt(g.nominalFlops / 1e6, 1)} MFLOP nominal per call${ol}`)
    console.table(rows)
    console.log(`  targets (not asserted): ${targetsLine(derived)}`)
    tables.push({ label: g.label, rows })
  }
  const loadavgAtEnd = os.loadavg()
  console.log(`\nload average at start ${loadavgAtStart.map((l) => l.toFixed(2)).join(' ')}, at end ${loadavgAtEnd.map((l) => l.toFixed(2)).join(' ')}` +
    (otherLoad ? `; other processes used ${otherLoad.otherCores.toFixed(2)} cores on average during the run` : ''))
  writeResult('ig', {
    bench: 'ig',
    date: new Date().toISOString(),
    quick: QUICK,
    wallSeconds: (performance.now() - t0) / 1e3,
    machine: machineInfo(loadavgAtStart),
    kexue: kexueInfo(defaultThreads),
    tfjs: tfjs.skipped ? { skipped: tfjs.skipped } : { ...tfjs.info, threads: tfjs.threads, backends: ['cpu', 'wasm'] },
    model: {
      dims: DIMS, activations: ACTS, weights: `normal([out, in], seeds ${WEIGHT_SEEDS.join('/')}, std 1/sqrt(in)), float64`,
      biases: `0.1 * normal([out], seeds ${BIAS_SEEDS.join('/')})`, input: `uniform([B, 784], seed ${INPUT_SEED}) in [0, 1)`,
      steps: STEPS, target: TARGET, baseline: 'zeros', methods: METHODS, batch: BATCH ? BATCH_SIZE : null,
    },
    flops: {
      nominalPerInput: flopsPerInput,
      formula: `2 * 2 * steps * sum(in*out) = 4 * ${STEPS} * ${MACS}`,
      foldedEstimatePerInput: foldedFlopsPerInput,
      foldedFormula: `2 * (2 * steps * (sum(in*out) - 784*256) + 2 * (sum(in*out) - 784*256) + 4 * 784*256): kexue cpu / wasm (layer 1 folded along the path)`,
    },
    tolerances: { kexueAndPlainJs: KEXUE_TOL, tfjsTarget: TFJS_TOL, tfjsFail: TFJS_FAIL, norm: 'max |a - ref| / max |ref| vs kexue js' },
    ceiling: gemm,
    results: configs,
    tables,
    otherLoad,
    loadavgAtEnd,
    sink: sinkValue(),
  })
}

try {
  await main()
} catch (e) {
  console.error(e.stack ?? e)
  process.exit(1)
}
