// Sampling benchmark: uniform and normal (mean 0, std 1) float32, 16M elements each.
// Compares kexue's cpu (1 and 2 threads), wasm and js backends with plain-JS Math.random loops,
// tfjs (wasm backend), numpy (Debian python3) and the machine's memory-copy ceiling.
// Run: node bench/sampling.bench.mjs   (or node bench/run.mjs for every bench)
import os from 'node:os'
import { uniform, normal, setNumThreads, getNumThreads, tensor } from '../dist/index.js'
import {
  FAST, MEDIUM, SLOW, NUMPY, COPY_BYTES, log, keep, sinkValue, sanityFail, runBench, benchCopy, benchAlloc,
  runNumpy, loadTfjsWasm, copyRow, lowerBound, allocRow, entryRows, machineInfo, kexueInfo, writeResult,
} from './common.mjs'

const N = 16 * 2 ** 20
const BYTES = 4 * N // float32 written; nothing read
const fail = sanityFail('sampling')

// ---- plain-JS loops into a preallocated Float32Array ----
function mathRandomUniform (out) {
  for (let i = 0; i < out.length; i++) out[i] = Math.random()
}

function mathRandomBoxMuller (out) { // out.length even
  for (let i = 0; i < out.length; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - Math.random())) // 1 - u in (0, 1]: log never sees 0
    const t = 2 * Math.PI * Math.random()
    out[i] = r * Math.cos(t)
    out[i + 1] = r * Math.sin(t)
  }
}

// ---- sanity checks: a broken build must fail here, not get timed ----
function summary (a) {
  let s = 0; let s2 = 0; let min = Infinity; let max = -Infinity; let ones = 0; let below = 0; let nonFinite = 0
  for (let i = 0; i < a.length; i++) {
    const v = a[i]
    if (!Number.isFinite(v)) { nonFinite++; continue }
    s += v
    s2 += v * v
    if (v < min) min = v
    if (v > max) max = v
    if (v === 1) ones++
    if (v < 0.25) below++
  }
  const mean = s / a.length
  return { mean, var: s2 / a.length - mean * mean, min, max, ones, below, nonFinite }
}

// Tolerances are tens of standard errors at n = 16M (sd of the mean: 7e-5 uniform, 2.4e-4 normal).
const OPS = {
  uniform: {
    sample: (opts) => uniform([N], opts),
    jsName: 'Math.random loop',
    jsLoop: mathRandomUniform,
    tfName: 'tfjs wasm tf.randomUniform',
    tfSample: (tf) => tf.randomUniform([N]),
    // allowOne: Math.random() (and tfjs's alea) return doubles below 1 that can round to 1.0f
    // (2^-25 of the time: ~0.5 per 16M); kexue and numpy build floats from 24 bits and never do.
    check (label, a, { allowOne = false } = {}) {
      const m = summary(a)
      if (m.nonFinite || m.min < 0 || m.max > 1 || (m.max === 1 && !allowOne)) fail(`${label}: values outside [0, 1): min ${m.min}, max ${m.max}, ${m.nonFinite} not finite`)
      if (Math.abs(m.mean - 0.5) > 0.002) fail(`${label}: mean ${m.mean}, expected ~0.5`)
      if (Math.abs(m.var - 1 / 12) > 0.002) fail(`${label}: variance ${m.var}, expected ~${1 / 12}`)
      if (Math.abs(m.below / a.length - 0.25) > 0.002) fail(`${label}: ${m.below / a.length} of values < 0.25, expected ~0.25`)
      return { mean: m.mean, var: m.var, min: m.min, max: m.max, onesFromRounding: m.ones }
    },
  },
  normal: {
    sample: (opts) => normal([N], { mean: 0, std: 1, ...opts }),
    jsName: 'Math.random Box-Muller loop',
    jsLoop: mathRandomBoxMuller,
    tfName: 'tfjs wasm tf.randomNormal',
    tfSample: (tf) => tf.randomNormal([N]),
    check (label, a) {
      const m = summary(a)
      if (m.nonFinite) fail(`${label}: ${m.nonFinite} values not finite`)
      if (Math.abs(m.mean) > 0.005) fail(`${label}: mean ${m.mean}, expected ~0`)
      if (Math.abs(m.var - 1) > 0.01) fail(`${label}: variance ${m.var}, expected ~1`)
      // P(x < 0.25) = Phi(0.25) = 0.598706: catches a wrong shape with the right moments
      if (Math.abs(m.below / a.length - 0.598706) > 0.002) fail(`${label}: ${m.below / a.length} of values < 0.25, expected ~0.5987`)
      if (m.min > -4 || m.max < 4) fail(`${label}: range [${m.min}, ${m.max}] has no tails`)
      return { mean: m.mean, var: m.var, min: m.min, max: m.max }
    },
  },
}

function sameBits (a, b) {
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length)
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length)
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i
  return -1
}

function expectF32 (label, t) {
  if (!(t.data instanceof Float32Array) || t.data.length !== N) fail(`${label}: result is not a Float32Array of ${N}`)
  return t.data
}

function sanityKexue (name) {
  const op = OPS[name]
  const checks = {}
  const variants = [['cpu-1t', 'cpu', 1], ['cpu-2t', 'cpu', 2], ['wasm', 'wasm'], ['js', 'js']]
  let ref
  for (const [label, backend, threads] of variants) {
    if (threads) setNumThreads(threads)
    const a = expectF32(`kexue ${name} ${label}`, op.sample({ seed: 7, backend }))
    checks[label] = op.check(`kexue ${name} ${label}`, a)
    // same seed -> the same bits on every backend (documented for both ops)
    ref ??= a
    const at = sameBits(ref, a)
    if (at >= 0) fail(`${name} ${label} differs from cpu-1t at ${at} (same seed): ${a[at]} vs ${ref[at]}`)
    if (backend !== 'js') { // `out`: written in place, the same bits
      const out = tensor(new Float32Array(N).fill(NaN))
      const b = expectF32(`kexue ${name} ${label}, out`, op.sample({ seed: 7, backend, out }))
      if (b !== out.data) fail(`${name} ${label}: the result does not wrap out's array`)
      const at2 = sameBits(ref, b)
      if (at2 >= 0) fail(`${name} ${label} with out differs at ${at2}: ${b[at2]} vs ${ref[at2]}`)
    }
  }
  // another seed -> other samples
  const other = expectF32(`kexue ${name} seed 8`, op.sample({ seed: 8, backend: 'cpu' }))
  let equal = 0
  for (let i = 0; i < N; i++) equal += other[i] === ref[i] ? 1 : 0
  if (equal / N > 0.001) fail(`${name}: seeds 7 and 8 agree at ${equal / N} of positions`)
  checks.seedsEqualFraction = equal / N
  return checks
}

// ---- entries ----
async function benchKexue (name) {
  const op = OPS[name]
  log(`kexue ${name}: cpu 1 thread, cpu 2 threads, wasm; new tensor per call, then out reused`)
  let seed = 1000
  const run = (backend) => () => { keep(op.sample({ seed: seed++, backend }).data[N - 1]) }
  // The same call writing into a preallocated tensor (`out`): a training loop's steady state,
  // and the like-for-like comparison with the Math.random loops, which also write into a
  // preallocated array.
  const out = tensor(new Float32Array(N))
  const reuse = (backend) => () => { keep(op.sample({ seed: seed++, backend, out }).data[N >> 1]) }
  const fast = await runBench(`kexue-${name}`, FAST, [
    ['kexue cpu 1t', run('cpu'), { beforeAll: () => setNumThreads(1) }],
    ['kexue cpu 2t', run('cpu'), { beforeAll: () => setNumThreads(2) }],
    ['kexue wasm', run('wasm')],
    ['kexue cpu 1t, out reused', reuse('cpu'), { beforeAll: () => setNumThreads(1) }],
    ['kexue cpu 2t, out reused', reuse('cpu'), { beforeAll: () => setNumThreads(2) }],
    ['kexue wasm, out reused', reuse('wasm')],
  ])
  log(`kexue ${name}: js (pure-TS reference, few iterations)`)
  const slow = await runBench(`kexue-js-${name}`, SLOW, [['kexue js', run('js')]])
  return { ...fast, ...slow }
}

async function benchJsLoop (name) {
  const op = OPS[name]
  log(`plain JS: ${op.jsName} (preallocated Float32Array)`)
  const out = new Float32Array(N)
  op.jsLoop(out)
  const check = op.check(op.jsName, out, { allowOne: true })
  const r = await runBench(`js-${name}`, MEDIUM, [[op.jsName, () => { op.jsLoop(out); keep(out[N - 1]) }]])
  return { ...r[op.jsName], check }
}

function benchNumpy (name) {
  log(`numpy ${name} (Debian /usr/bin/python3), timed in Python`)
  return runNumpy(name, N, [], (r) => {
    if (!r.sane) fail(`numpy ${name} produced odd output (mean ${r.mean}, var ${r.var}, min ${r.min}, max ${r.max})`)
  })
}

async function benchTfjs (name, tfjs) {
  const op = OPS[name]
  log(`${op.tfName} (+ dataSync readback, dispose)`)
  if (tfjs.skipped) return { skipped: tfjs.skipped }
  const { tf, info } = tfjs
  const step = () => {
    const t = op.tfSample(tf)
    const d = t.dataSync()
    t.dispose()
    return d
  }
  const check = op.check(op.tfName, step(), { allowOne: true })
  const before = tf.memory()
  const r = await runBench(`tfjs-${name}`, MEDIUM, [[op.tfName, () => { keep(step()[N - 1]) }]])
  const after = tf.memory()
  if (after.numTensors !== before.numTensors) fail(`tfjs leaked tensors: ${before.numTensors} -> ${after.numTensors}`)
  return { ...r[op.tfName], check, info, numTensors: after.numTensors, numBytes: after.numBytes }
}

async function main () {
  const t0 = performance.now()
  const loadavgAtStart = os.loadavg()
  const defaultThreads = getNumThreads()
  log(`sampling bench: uniform and normal, n = ${N} float32 (16M); bytes written per call 4n = ${(BYTES / 1e6).toFixed(1)} MB`)
  const sanity = {}
  for (const name of Object.keys(OPS)) {
    log(`sanity checks ${name} (kexue cpu 1t/2t, wasm, js; out)...`)
    sanity[name] = sanityKexue(name)
  }
  setNumThreads(defaultThreads)

  const copy = await benchCopy()
  const alloc = await benchAlloc('out (16M f32)', () => [new Float32Array(N)])
  const tfjs = await loadTfjsWasm()
  const ops = {}
  const rows = [copyRow(copy), allocRow('ref: alloc+touch out (4n B)', alloc, BYTES)]
  for (const name of Object.keys(OPS)) {
    const op = OPS[name]
    const entries = await benchKexue(name)
    setNumThreads(defaultThreads)
    entries[op.jsName] = await benchJsLoop(name)
    entries.numpy = benchNumpy(name)
    entries[op.tfName] = await benchTfjs(name, tfjs)
    const bound = lowerBound(`${name}: lower bound (4n B @ copy bw)`, BYTES, copy, entries.numpy?.medianMs, entries[op.jsName]?.medianMs)
    const { rows: r, derived } = entryRows(entries, { bytes: BYTES, copy, numpyName: 'numpy', jsName: op.jsName, prefix: `${name}: ` })
    rows.push(bound.row, ...r)
    ops[name] = { lowerBound: { ms: bound.ms, GBps: copy.GBps }, entries, derived }
  }

  console.log('\nSampling, n = 16M float32: uniform [0, 1) and normal (mean 0, std 1); GB/s counts the 4n bytes written; ' +
    "'x numpy' / 'x Math.random' = how many times faster than numpy / the plain-JS Math.random loop of that op (>1 = faster); " +
    "'of ceiling' = GB/s / copy GB/s")
  console.table(rows)

  writeResult('sampling', {
    bench: 'sampling',
    date: new Date().toISOString(),
    machine: machineInfo(loadavgAtStart),
    kexue: kexueInfo(defaultThreads),
    params: { n: N, dtype: 'float32', normal: { mean: 0, std: 1 }, bytesWritten: BYTES, copyBytes: COPY_BYTES, budgets: { FAST, MEDIUM, SLOW, NUMPY } },
    sanity,
    copy,
    allocTouchOut: { ...alloc, bytesTouched: BYTES },
    ops,
    table: rows,
    sink: sinkValue(),
    wallSeconds: (performance.now() - t0) / 1e3,
  })
}

await main()
