// The small Transformer's forward (transformerForward) and function-preserving widening (widen):
// a 2-block model, dModel 64, 4 heads of 16, dFF 256, vocab 512, a batch of 2 sequences of 128
// tokens, causal, float32 weights (float32 inference emulated: products in float64 gemm, attention
// in float32). kexue cpu (1 and 2 threads), wasm and the js reference; the widened (k = 2) model's
// logits must agree with the original's to 4e-6 relative on every backend, the backends with js to 1e-5.
// Nominal FLOP per forward: per token and block 2 (4 d i + 2 d f) for the projections and 4 N i for
// attention (half of it masked, counted in full), plus 2 d V for the head.
// Run: node bench/transformer.bench.mjs (or node bench/run.mjs transformer)
import os from 'node:os'
import { Tensor, backends, getNumThreads, randomTransformer, setNumThreads, transformerForward, uniform, widen } from '../dist/index.js'
import { FAST, SLOW, GFLOP, log, runBench, machineInfo, kexueInfo, writeResult, sanityFail } from './common.mjs'

const fail = sanityFail('transformer')
const t0 = performance.now()
const load0 = os.loadavg()
const config = { vocab: 512, dModel: 64, heads: 4, dFF: 256, layers: 2, maxLen: 128 }
const B = 2, N = 128
const { dModel: d, dFF: f, vocab: V, layers: L } = config
const i = d
const flops = B * N * (L * (2 * (4 * d * i + 2 * d * f) + 4 * N * i) + 2 * d * V)
const w = randomTransformer(config, { seed: 1 })
const wide = widen(w, { factor: 2 })
const u = uniform([B * N], { seed: 2, dtype: 'float64' }).data
const ids = new Tensor(Int32Array.from(u, (x) => Math.floor(x * V)), [B, N])

const rel = (a, b) => {
  let e = 0, m = 0
  for (let j = 0; j < b.length; j++) (e = Math.max(e, Math.abs(a[j] - b[j]))), (m = Math.max(m, Math.abs(b[j])))
  return e / m
}

const avail = new Set(backends().filter((b) => b.available).map((b) => b.name))
const rows = [['kexue cpu 2t', 'cpu', 2], ['kexue cpu 1t', 'cpu', 1], ['kexue wasm', 'wasm', 0], ['kexue js', 'js', 0]].filter(([, b]) => avail.has(b))

const threads0 = getNumThreads()
const ref = transformerForward(w, ids, { backend: 'js' }).logits.data
const results = {}
for (const [name, backend, threads] of rows) {
  if (threads) setNumThreads(threads)
  const a = transformerForward(w, ids, { backend }).logits.data
  const b = transformerForward(wide, ids, { backend }).logits.data
  const vsJs = rel(a, ref), widened = rel(b, a)
  if (!(vsJs <= 1e-5)) fail(`${name} differs from kexue js by ${vsJs}`)
  if (!(widened <= 4e-6)) fail(`${name}: the widened model differs by ${widened}`)
  log(name)
  const opts = backend === 'js' ? SLOW : FAST
  const s = await runBench(name, opts, [
    [`${name} forward`, () => transformerForward(w, ids, { backend })],
    [`${name} forward, widened k = 2`, () => transformerForward(wide, ids, { backend })],
  ])
  for (const [task, r] of Object.entries(s)) results[task] = { ...r, threads, relDiffVsJs: vsJs, widenedRelDiff: widened, flops: task.includes('widened') ? 4 * flops : flops }
}
setNumThreads(threads0)
const wt = await runBench('widen', FAST, [['widen k = 2 (weights only)', () => widen(w, { factor: 2 })]])
Object.assign(results, wt)

const table = Object.entries(results).map(([entry, r]) => ({
  entry,
  'median ms': r.medianMs.toFixed(2),
  'min ms': r.minMs.toFixed(2),
  'GFLOP/s (nominal)': r.flops ? (r.flops / GFLOP / (r.medianMs / 1e3)).toFixed(2) : '-',
  'rel diff vs js': r.relDiffVsJs === undefined ? '-' : r.relDiffVsJs.toExponential(1),
  'widened rel diff': r.widenedRelDiff === undefined ? '-' : r.widenedRelDiff.toExponential(1),
}))
console.log(`\nTransformer forward: ${L} blocks, d = ${d}, ${config.heads} heads, dFF = ${f}, vocab ${V}, ${B} x ${N} tokens, causal, float32; nominal ${(flops / 1e6).toFixed(0)} MFLOP (widened: about 4x)`)
console.table(table)
writeResult('transformer', {
  bench: 'transformer', date: new Date().toISOString(), machine: machineInfo(load0), kexue: kexueInfo(threads0),
  params: { ...config, B, N, mask: 'causal', dtype: 'float32', flops },
  results, tables: { main: table }, wallSeconds: (performance.now() - t0) / 1e3,
})
