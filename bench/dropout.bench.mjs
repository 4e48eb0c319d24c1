// Dropout benchmark (issue #1): 16M float32 elements, p = 0.1.
// Compares kexue's cpu (1 and 2 threads), wasm and js backends with a plain Math.random loop,
// tfjs (wasm backend), numpy (Debian python3) and the machine's memory-copy ceiling.
// Run: node bench/dropout.bench.mjs   (or node bench/run.mjs for every bench)
import os from 'node:os'
import { dropout, setNumThreads, getNumThreads, tensor } from '../dist/index.js'
import {
  FAST, MEDIUM, SLOW, NUMPY, COPY_BYTES, log, keep, sinkValue, sanityFail, runBench, benchCopy, benchAlloc,
  runNumpy, loadTfjsWasm, copyRow, lowerBound, allocRow, entryRows, machineInfo, kexueInfo, writeResult,
} from './common.mjs'

const N = 16 * 2 ** 20
const P = 0.1
const SCALE = 1 / (1 - P)
const BYTES = 9 * N // 4n read (x) + 4n written (out) + n written (mask bytes)

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
const fail = sanityFail('dropout')

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

// ---- entries ----
async function benchKexue (x) {
  log('kexue: cpu 1 thread, cpu 2 threads, wasm')
  let seed = 1000
  const run = (backend) => () => {
    const r = dropout(x, { p: P, seed: seed++, backend })
    keep(r.output.data[N - 1] + r.mask.data[N >> 1])
  }
  // The same call writing into preallocated tensors (`out`, `outMask`): the steady state of a
  // training loop that reuses its buffers, and the like-for-like comparison with the Math.random
  // loop, which also writes into preallocated arrays.
  const out = tensor(new Float32Array(N))
  const outMask = tensor(new Uint8Array(N))
  const reuse = (backend) => () => {
    const r = dropout(x, { p: P, seed: seed++, backend, out, outMask })
    keep(r.output.data[N - 1] + r.mask.data[N >> 1])
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
    keep(out[N - 1] + mask[N >> 1])
  }]])
  return { ...r['Math.random loop'], keptFraction: frac }
}

async function benchTfjs (x) {
  log('tfjs tf.dropout, wasm backend (+ dataSync readback)')
  const { tf, info, skipped } = await loadTfjsWasm()
  if (skipped) return { skipped }
  const xt = tf.tensor1d(x)
  const step = () => {
    const out = tf.tidy(() => tf.dropout(xt, P))
    const d = out.dataSync()
    out.dispose()
    return d
  }
  const frac = checkDropout('tfjs', x, step(), null)
  const before = tf.memory()
  const r = await runBench('tfjs', MEDIUM, [['tfjs wasm tf.dropout', () => { const d = step(); keep(d[N - 1]) }]])
  const after = tf.memory()
  xt.dispose()
  if (after.numTensors !== before.numTensors) fail(`tfjs leaked tensors: ${before.numTensors} -> ${after.numTensors}`)
  return { ...r['tfjs wasm tf.dropout'], keptFraction: frac, info, numTensors: after.numTensors, numBytes: after.numBytes }
}

function benchNumpy () {
  log('numpy (Debian /usr/bin/python3), timed in Python')
  return runNumpy('dropout', N, [P], (r) => {
    if (!r.sane) fail(`numpy reference produced odd output (kept ${r.keptFraction})`)
  })
}

// ---- report ----
function report (entries, copy, alloc) {
  const bound = lowerBound('dropout lower bound (9n B @ copy bw)', BYTES, copy,
    entries.numpy?.medianMs, entries['Math.random loop']?.medianMs)
  const { rows, derived } = entryRows(entries, { bytes: BYTES, copy, numpyName: 'numpy', jsName: 'Math.random loop' })
  rows.unshift(copyRow(copy), bound.row, allocRow('ref: alloc+touch out+mask (5n B)', alloc, 5 * N))
  return { rows, copyGBs: copy.GBps, boundMs: bound.ms, derived }
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
  const alloc = await benchAlloc('out (16M f32) and mask (16M u8)', () => [new Float32Array(N), new Uint8Array(N)])
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

  const result = {
    bench: 'dropout',
    date: new Date().toISOString(),
    machine: machineInfo(loadavgAtStart),
    kexue: kexueInfo(defaultThreads),
    params: { n: N, p: P, scale: SCALE, bytesMoved: BYTES, copyBytes: COPY_BYTES, budgets: { FAST, MEDIUM, SLOW, NUMPY } },
    sanity,
    copy,
    lowerBound: { ms: boundMs, GBps: copyGBs },
    allocTouchOutMask: { ...alloc, bytesTouched: 5 * N },
    entries,
    derived,
    table: rows,
    sink: sinkValue(),
    wallSeconds: (performance.now() - t0) / 1e3,
  }
  writeResult('dropout', result)
}

await main()
