// Integrated gradients through the built-in attention block (issue 5's "attention block at
// N = 128"): one causal multi-head self-attention layer (d = 64, 4 heads of 16) plus a projection
// to 10 classes, mean pooling, one input of 128 tokens, 64 Gauss-Legendre steps, path points in
// batches of 64. kexue cpu (1 and 2 threads), wasm and the js reference; all must agree to 1e-12.
// Nominal FLOP per attribution: per path point, forward Q/K/V/O projections 2 N (3 d i + i c) and
// attention 4 N^2 i (half of it masked for causal, counted in full), backward about twice that.
// Run: node bench/ig_attention.bench.mjs (or node bench/run.mjs ig_attention)
import os from 'node:os'
import { attentionBlock, integratedGradients, normal, setNumThreads, getNumThreads, backends } from '../dist/index.js'
import { FAST, SLOW, GFLOP, log, runBench, machineInfo, kexueInfo, writeResult, sanityFail } from './common.mjs'

const fail = sanityFail('ig_attention')
const t0 = performance.now()
const load0 = os.loadavg()
const N = 128, d = 64, H = 4, dh = 16, c = 10, steps = 64
const inner = H * dh
const W = (r, cc, s) => normal([r, cc], { seed: s, dtype: 'float64', std: 1 / Math.sqrt(cc) })
const weights = { wq: W(inner, d, 1), wk: W(inner, d, 2), wv: W(inner, d, 3), wo: W(c, inner, 4), heads: H, mask: 'causal' }
const x = normal([1, N, d], { seed: 9, dtype: 'float64' })
const opts = { steps, target: 3, internalBatchSize: 64 }
const flopsPerPoint = 3 * (2 * N * (3 * d * inner + inner * c) + 4 * N * N * inner)
const flops = steps * flopsPerPoint

const avail = new Set(backends().filter((b) => b.available).map((b) => b.name))
const rows = []
if (avail.has('cpu')) rows.push(['kexue cpu 2t', 'cpu', 2], ['kexue cpu 1t', 'cpu', 1])
if (avail.has('wasm')) rows.push(['kexue wasm', 'wasm', 0])
rows.push(['kexue js', 'js', 0])

const threads0 = getNumThreads()
const ref = integratedGradients(attentionBlock({ ...weights, backend: 'js' }), x, opts)
const results = {}
for (const [name, backend, threads] of rows) {
  if (threads) setNumThreads(threads)
  const model = attentionBlock({ ...weights, backend })
  const r = integratedGradients(model, x, opts)
  let dmax = 0, mag = 0
  r.attributions.data.forEach((v, i) => { dmax = Math.max(dmax, Math.abs(v - ref.attributions.data[i])); mag = Math.max(mag, Math.abs(ref.attributions.data[i])) })
  if (!(dmax <= 1e-12 * mag)) fail(`${name} differs from kexue js by ${dmax / mag}`)
  log(name)
  const s = await runBench(name, backend === 'js' ? SLOW : FAST, [[name, () => integratedGradients(model, x, opts)]])
  results[name] = { ...s[name], threads, relDiff: dmax / mag, delta: r.delta[0] }
}
setNumThreads(threads0)

const table = Object.entries(results).map(([entry, r]) => ({
  entry,
  'median ms': r.medianMs.toFixed(2),
  'min ms': r.minMs.toFixed(2),
  'x js': (results['kexue js'].medianMs / r.medianMs).toFixed(1),
  'GFLOP/s (nominal)': (flops / GFLOP / (r.medianMs / 1e3)).toFixed(2),
  'rel diff': r.relDiff.toExponential(1),
  '|delta|': Math.abs(r.delta).toExponential(1),
}))
console.log(`\nIG through an attention block: N = ${N}, d = ${d}, ${H} heads x ${dh}, causal, ${c} classes, ${steps} Gauss-Legendre steps, 1 input; nominal ${(flops / 1e6).toFixed(0)} MFLOP`)
console.table(table)
writeResult('ig_attention', {
  bench: 'ig_attention', date: new Date().toISOString(), machine: machineInfo(load0), kexue: kexueInfo(threads0),
  params: { N, d, H, dh, c, steps, method: 'gausslegendre', internalBatchSize: 64, mask: 'causal', flops },
  results, tables: { main: table }, wallSeconds: (performance.now() - t0) / 1e3,
})
