// Attention benchmark: masked scaled-dot-product attention O = softmax(q k^T / sqrt(D) + mask) v,
// float32, B = 1, H = 8, D = Dv = 64, N = Nq = Nk in {256, 1024, 2048}, masks none / causal / noSelf.
// Compares kexue's cpu (1 and 2 threads), wasm and js backends with a plain-JS triple loop, tfjs
// (wasm backend), onnxruntime-node (CPU EP; com.microsoft MultiHeadAttention and ONNX Attention-23,
// models built here), numpy (Debian python3) and the machine's SGEMM ceiling (onnxruntime MatMul).
// Run: node bench/attention.bench.mjs   (or node bench/run.mjs attention)
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { attention, backends, getNumThreads, normal, setNumThreads } from '../dist/index.js'
import { onnxModel } from './onnx.mjs'
import {
  NUMPY, GFLOP, log, keep, sinkValue, sanityFail, runBench, runNumpy, loadTfjsWasm, loadOrt, ortSession,
  benchOrtSgemm, flopRow, flopRows, fmt, otherLoadMeter, machineInfo, kexueInfo, writeResult,
} from './common.mjs'

const B = 1
const H = 8
const D = 64
const NS = [256, 1024, 2048]
const MASKS = ['none', 'causal', 'noSelf']
const SCALE = 1 / Math.sqrt(D)
const MASK_BIAS = -1e9 // additive bias for a hidden key (tfjs, numpy, onnxruntime noSelf): exp underflows to exactly 0
const flopsOf = (N) => 4 * B * H * N * N * D // QK^T and PV, the full N x N matrix even for causal
const BASE = 'onnxruntime MHA 2t' // the ratio column's base
const TOL = 1e-4 // max |out - ref| / max |ref| on the float64-checked rows
const JS_MAX_N = 1024 // the plain-JS triple loop runs at N <= 1024
const KEXUE_JS_MAX_N = 256 // kexue's pure-TS reference backend at N = 256 only
// Each timed entry gets iterations ~ TARGET_MS / (time of its first, checked call), within
// [MIN_IT, MAX_IT], so slow entries get few iterations and the whole bench stays under ~4 minutes.
const TARGET_MS = 400
const MIN_IT = 3
const MAX_IT = 30
const NUMPY_BUDGET = { 256: NUMPY, 1024: { reps: 7, warmup: 2 }, 2048: { reps: 4, warmup: 1 } }
const NUMPY_ENV = { OPENBLAS_NUM_THREADS: '2' }
const OTHER_LOAD_WARN = 0.15 // cores used by other processes during a group that earn a warning

const fail = sanityFail('attention')
const visible = { none: () => true, causal: (i, j) => j <= i, noSelf: (i, j) => j !== i }

function budget (firstMs) {
  const iterations = Math.min(MAX_IT, Math.max(MIN_IT, Math.ceil(TARGET_MS / firstMs)))
  return { time: 0, iterations, warmupTime: 0, warmupIterations: firstMs < 100 ? 2 : firstMs < 1000 ? 1 : 0 }
}

// ---- layouts and masks ----
/** [1, H, N, D] -> [1, N, H * D] (MultiHeadAttention's layout) and back. */
function toBNC (a, N) {
  const o = new Float32Array(a.length)
  for (let h = 0; h < H; h++) for (let n = 0; n < N; n++) o.set(a.subarray((h * N + n) * D, (h * N + n + 1) * D), (n * H + h) * D)
  return o
}
function fromBNC (a, N) {
  const o = new Float32Array(a.length)
  for (let h = 0; h < H; h++) for (let n = 0; n < N; n++) o.set(a.subarray((n * H + h) * D, (n * H + h + 1) * D), (h * N + n) * D)
  return o
}
/** [N, N] additive bias: 0 where key j is visible to query i, MASK_BIAS where hidden; null for 'none'. */
function maskBias (mask, N) {
  if (mask === 'none') return null
  const b = new Float32Array(N * N)
  const vis = visible[mask]
  for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) if (!vis(i, j)) b[i * N + j] = MASK_BIAS
  return b
}

// ---- the plain-JS triple loop a developer would write: scores row, softmax, weighted sum ----
function plainAttention (q, k, v, out, N, mask) {
  const vis = visible[mask]
  const s = new Float64Array(N)
  for (let h = 0; h < H; h++) {
    const base = h * N * D
    for (let i = 0; i < N; i++) {
      const qi = base + i * D
      let max = -Infinity
      for (let j = 0; j < N; j++) {
        if (!vis(i, j)) { s[j] = -Infinity; continue }
        const kj = base + j * D
        let dot = 0
        for (let d = 0; d < D; d++) dot += q[qi + d] * k[kj + d]
        s[j] = dot * SCALE
        if (s[j] > max) max = s[j]
      }
      let sum = 0
      for (let j = 0; j < N; j++) { s[j] = Math.exp(s[j] - max); sum += s[j] }
      const oi = base + i * D
      for (let d = 0; d < D; d++) out[oi + d] = 0
      for (let j = 0; j < N; j++) {
        const p = s[j] / sum
        const vj = base + j * D
        for (let d = 0; d < D; d++) out[oi + d] += p * v[vj + d]
      }
    }
  }
  return out
}

// ---- checks: every entry's first output against float64 rows, and against kexue cpu 1t ----
/** Float64 reference of rows `rows` of every head (the first, middle and last queries). */
function referenceRows (q, k, v, N, mask) {
  const rows = [...new Set([0, 1, 2, 3, (N >> 1) - 1, N >> 1, N - 2, N - 1])]
  const vis = visible[mask]
  const ref = []
  const s = new Float64Array(N)
  for (let h = 0; h < H; h++) {
    const base = h * N * D
    for (const i of rows) {
      let max = -Infinity
      for (let j = 0; j < N; j++) {
        if (!vis(i, j)) { s[j] = -Infinity; continue }
        let dot = 0
        for (let d = 0; d < D; d++) dot += q[base + i * D + d] * k[base + j * D + d]
        s[j] = dot * SCALE
        max = Math.max(max, s[j])
      }
      let sum = 0
      for (let j = 0; j < N; j++) { s[j] = Math.exp(s[j] - max); sum += s[j] }
      const o = new Float64Array(D)
      for (let j = 0; j < N; j++) for (let d = 0; d < D; d++) o[d] += (s[j] / sum) * v[base + j * D + d]
      ref.push({ at: (h * N + i) * D, o })
    }
  }
  let scale = 0
  for (const r of ref) for (const x of r.o) scale = Math.max(scale, Math.abs(x))
  return { rows, ref, scale }
}

/** max |a - b| / max |b| over whole tensors. */
function relErr (a, b) {
  let e = 0
  let m = 0
  for (let i = 0; i < b.length; i++) {
    e = Math.max(e, Math.abs(a[i] - b[i]))
    m = Math.max(m, Math.abs(b[i]))
  }
  return e / m
}

function check (label, out, N, rowRef, cpuOut) {
  if (!(out instanceof Float32Array) || out.length !== B * H * N * D) fail(`${label}: output is not a Float32Array of ${B * H * N * D} ([1, H, N, D])`)
  for (let i = 0; i < out.length; i++) if (!Number.isFinite(out[i])) fail(`${label}: output[${i}] = ${out[i]}`)
  let e = 0
  for (const { at, o } of rowRef.ref) for (let d = 0; d < D; d++) e = Math.max(e, Math.abs(out[at + d] - o[d]))
  const rowsErr = e / rowRef.scale
  if (!(rowsErr <= TOL)) fail(`${label}: max error ${rowsErr.toExponential(2)} of max |ref| on the float64-checked rows (tolerance ${TOL})`)
  const vsCpu = cpuOut ? relErr(out, cpuOut) : 0
  if (!(vsCpu <= TOL)) fail(`${label}: differs from kexue cpu 1t by ${vsCpu.toExponential(2)} of max |output| (tolerance ${TOL})`)
  return { relErrFloat64Rows: rowsErr, relErrVsKexueCpu1t: vsCpu }
}

// ---- onnxruntime models ----
const io = (name, shape) => ({ name, shape })
/**
 * com.microsoft MultiHeadAttention: query / key / value [B, N, H*D], num_heads = H, default scale
 * 1 / sqrt(D). causal: unidirectional = 1; noSelf: attention_bias [1, 1, N, N] (input 5).
 */
function mhaModel (N, mask) {
  const x = [B, N, H * D]
  const inputs = [io('q', x), io('k', x), io('v', x)]
  const nodeInputs = ['q', 'k', 'v']
  const attrs = { num_heads: H }
  if (mask === 'causal') attrs.unidirectional = 1
  else if (mask !== 'none') { inputs.push(io('bias', [1, 1, N, N])); nodeInputs.push('', '', 'bias') } // bias, key_padding_mask omitted
  return onnxModel({
    nodes: [{ op: 'MultiHeadAttention', domain: 'com.microsoft', inputs: nodeInputs, outputs: ['o'], attrs }],
    inputs,
    outputs: [io('o', x)],
    opsets: { '': 21, 'com.microsoft': 1 },
  })
}
/** ONNX Attention (opset 23): Q / K / V [B, H, N, D]; causal: is_causal = 1; noSelf: float attn_mask [N, N] (added to the scores). */
function attention23Model (N, mask) {
  const x = [B, H, N, D]
  const inputs = [io('q', x), io('k', x), io('v', x)]
  const nodeInputs = ['q', 'k', 'v']
  const attrs = {}
  if (mask === 'causal') attrs.is_causal = 1
  else if (mask !== 'none') { inputs.push(io('bias', [N, N])); nodeInputs.push('bias') }
  return onnxModel({ nodes: [{ op: 'Attention', inputs: nodeInputs, outputs: ['o'], attrs }], inputs, outputs: [io('o', x)], opsets: { '': 23 }, irVersion: 11 })
}

// ---- entries of one (N, mask) ----
function entriesFor (N, mask, ctx) {
  const { q, k, v, tfjs, ort, wasmHasAttention } = ctx
  const list = []
  const kexue = (backend, threads) => ({
    threads,
    prepare: () => { if (backend === 'cpu') setNumThreads(threads) },
    run: () => attention(q, k, v, { mask, backend }).output.data,
  })
  list.push(['kexue cpu 1t', kexue('cpu', 1)], ['kexue cpu 2t', kexue('cpu', 2)])
  list.push(['kexue wasm', wasmHasAttention ? kexue('wasm', 1) : { skipped: "the wasm backend has no 'attention' op (it would silently fall back to js)" }])
  if (N <= KEXUE_JS_MAX_N) list.push(['kexue js', kexue('js', 1)])
  if (N <= JS_MAX_N) {
    const out = new Float32Array(B * H * N * D)
    list.push(['plain JS loop', { threads: 1, run: () => plainAttention(q.data, k.data, v.data, out, N, mask) }])
  }
  if (tfjs.skipped) list.push(['tfjs wasm', { skipped: tfjs.skipped }])
  else {
    const { tf, threads } = tfjs
    let bias = null
    list.push(['tfjs wasm', {
      threads,
      prepare: () => { const b = maskBias(mask, N); if (b && !bias) bias = tf.tensor2d(b, [N, N]) },
      run: () => {
        const o = tf.tidy(() => {
          let s = tf.matMul(tfjs.q, tfjs.k, false, true).mul(SCALE)
          if (bias) s = s.add(bias)
          return tf.matMul(tf.softmax(s), tfjs.v)
        })
        const d = o.dataSync()
        o.dispose()
        return d
      },
      dispose: () => bias?.dispose(),
    }])
  }
  const ortEntry = (model, threads, layout) => {
    if (ort.skipped) return { skipped: ort.skipped }
    const T = ort.ort.Tensor
    let session
    let feeds
    return {
      threads,
      async: true,
      prepare: async () => {
        if (session) return
        session = await ortSession(ort.ort, model(N, mask), threads)
        const shape = layout === 'BNC' ? [B, N, H * D] : [B, H, N, D]
        const data = layout === 'BNC' ? ctx.bnc : { q: q.data, k: k.data, v: v.data }
        feeds = { q: new T('float32', data.q, shape), k: new T('float32', data.k, shape), v: new T('float32', data.v, shape) }
        const b = maskBias(mask, N)
        if (b && mask !== 'causal') feeds.bias = new T('float32', b, layout === 'BNC' ? [1, 1, N, N] : [N, N])
      },
      run: async () => {
        const o = (await session.run(feeds)).o.data
        return layout === 'BNC' ? fromBNC(o, N) : o
      },
      step: async () => { keep((await session.run(feeds)).o.data[0]) }, // timed: no layout conversion
      dispose: () => session?.release(),
    }
  }
  list.push(['onnxruntime MHA 1t', ortEntry(mhaModel, 1, 'BNC')])
  list.push([BASE, ortEntry(mhaModel, 2, 'BNC')])
  list.push(['onnxruntime Attention-23 2t', ortEntry(attention23Model, 2, 'BHND')])
  return list
}

async function benchGroup (N, mask, ctx) {
  log(`N = ${N}, mask ${mask}`)
  const meter = otherLoadMeter()
  const rowRef = referenceRows(ctx.q.data, ctx.k.data, ctx.v.data, N, mask)
  const entries = {}
  const checks = {}
  let cpuOut = null
  for (const [name, e] of entriesFor(N, mask, ctx)) {
    if (e.skipped) { entries[name] = { skipped: e.skipped }; continue }
    await e.prepare?.()
    const t0 = performance.now()
    const out = await e.run() // the first call: checked, and its time sizes the budget
    const firstMs = performance.now() - t0
    checks[name] = check(`N ${N} ${mask} ${name}`, out, N, rowRef, cpuOut)
    cpuOut ??= out // kexue cpu 1t comes first
    const step = e.step ?? (e.async ? async () => { keep((await e.run())[0]) } : () => { keep(e.run()[0]) })
    const r = await runBench(name, budget(firstMs), [[name, step, { async: !!e.async, beforeAll: e.prepare }]])
    entries[name] = { ...r[name], threads: e.threads, firstCallMs: firstMs }
    await e.dispose?.()
  }
  entries.numpy = benchNumpy(N, mask, rowRef, cpuOut, ctx.dir)
  if (!entries.numpy.skipped) checks.numpy = entries.numpy.check
  const otherLoad = meter()
  if (otherLoad && otherLoad.otherCores > OTHER_LOAD_WARN) log(`  warning: other processes used ${otherLoad.otherCores.toFixed(2)} cores during N = ${N} ${mask}; its timings are noisy`)
  return { entries, checks, checkedRows: rowRef.rows, otherLoad }
}

function benchNumpy (N, mask, rowRef, cpuOut, dir) {
  const r = runNumpy('attention', N, [H, D, mask, dir], (res) => {
    if (!res.sane) fail(`numpy attention N ${N} ${mask}: odd output`)
    const bytes = readFileSync(path.join(dir, 'out-numpy.f32'))
    const out = new Float32Array(bytes.length / 4)
    new Uint8Array(out.buffer).set(bytes)
    res.check = check(`N ${N} ${mask} numpy`, out, N, rowRef, cpuOut)
  }, { ...NUMPY_BUDGET[N], env: NUMPY_ENV })
  return r.skipped ? r : { ...r, threads: 2 }
}

// ---- setup per N ----
async function inputsFor (N, tfjsLoaded, dir) {
  const q = normal([B, H, N, D], { seed: 1 })
  const k = normal([B, H, N, D], { seed: 2 })
  const v = normal([B, H, N, D], { seed: 3 })
  for (const [name, t] of [['q', q], ['k', k], ['v', v]]) writeFileSync(path.join(dir, `${name}.f32`), t.data)
  const bnc = { q: toBNC(q.data, N), k: toBNC(k.data, N), v: toBNC(v.data, N) }
  let tfjs = { skipped: tfjsLoaded.skipped }
  if (!tfjsLoaded.skipped) {
    const { tf } = tfjsLoaded
    const shape = [B, H, N, D]
    tfjs = { tf, threads: tfjsLoaded.threads, q: tf.tensor4d(q.data, shape), k: tf.tensor4d(k.data, shape), v: tf.tensor4d(v.data, shape) }
  }
  return { q, k, v, bnc, tfjs }
}

// ---- report ----
/** The better (faster) of the ceiling runs before and after the entries, per thread count. */
function bestSgemm (runs) {
  const ok = runs.filter((r) => !r.skipped)
  if (!ok.length) return runs[0]
  const best = { ...ok[0] }
  for (const t of [1, 2]) best[t] = ok.map((r) => r[t]).reduce((a, b) => (b.GFLOPs > a.GFLOPs ? b : a))
  return best
}

function ceilingRows (sgemmRuns, npSgemm) {
  const rows = []
  for (const [when, sgemm] of [['before', sgemmRuns[0]], ['after', sgemmRuns[1]]]) {
    if (sgemm.skipped) { rows.push(flopRow(`onnxruntime sgemm (${when})`, { ms: 'skipped', samples: sgemm.skipped })); continue }
    for (const t of [2, 1]) {
      const s = sgemm[t]
      const best = bestSgemm(sgemmRuns)[t]
      rows.push(flopRow(`onnxruntime MatMul ${sgemm.n}^3 ${t}t, ${when}`, {
        ms: fmt(s.medianMs, 2), gflops: fmt(s.GFLOPs, 1), peak: fmt(100 * s.GFLOPs / best.GFLOPs, 1) + '%', threads: t, samples: s.samples,
      }))
    }
  }
  if (npSgemm.skipped) rows.push(flopRow('numpy sgemm', { ms: 'skipped', samples: npSgemm.skipped }))
  else {
    const peak = bestSgemm(sgemmRuns)[2]?.GFLOPs
    rows.push(flopRow(`numpy a @ b ${npSgemm.n}^3 (OpenBLAS, 2t)`, {
      ms: fmt(npSgemm.medianMs, 2), gflops: fmt(npSgemm.GFLOPs, 1), peak: peak ? fmt(100 * npSgemm.GFLOPs / peak, 1) + '%' : '-', threads: 2, samples: npSgemm.samples,
    }))
  }
  return rows
}

async function main () {
  const t0 = performance.now()
  const loadavgAtStart = os.loadavg()
  const defaultThreads = getNumThreads()
  const wasm = backends().find((b) => b.name === 'wasm')
  const wasmHasAttention = !!(wasm?.available && wasm.ops.includes('attention'))
  log(`attention bench: B ${B}, H ${H}, D ${D}, N ${NS.join(' / ')}, masks ${MASKS.join(' / ')}, float32; ` +
    `GFLOP/s counts 4 B H N^2 D; kexue wasm has attention: ${wasmHasAttention}`)
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kexue-attention-bench-'))
  try {
    const ort = loadOrt()
    const runMeter = otherLoadMeter()
    const sgemmBefore = await benchOrtSgemm(ort, fail)
    log('numpy sgemm 1024^3 (OpenBLAS, 2 threads), timed in Python')
    const npSgemm = runNumpy('sgemm', 1024, [], (r) => { if (!r.sane) fail(`numpy sgemm: relErr ${r.relErr}`) }, { env: NUMPY_ENV })
    if (!npSgemm.skipped) Object.assign(npSgemm, { n: 1024, GFLOPs: npSgemm.flops / (npSgemm.medianMs / 1e3) / GFLOP })

    const tfjsLoaded = await loadTfjsWasm()
    if (!tfjsLoaded.skipped) tfjsLoaded.threads = tfjsLoaded.info.multithread ? (await import('@tensorflow/tfjs-backend-wasm')).getThreadsCount() : 1

    const results = {}
    for (const N of NS) {
      const input = await inputsFor(N, tfjsLoaded, dir)
      const ctx = { ...input, ort, wasmHasAttention, dir }
      const before = tfjsLoaded.skipped ? null : tfjsLoaded.tf.memory().numTensors
      results[N] = {}
      for (const mask of MASKS) {
        results[N][mask] = await benchGroup(N, mask, ctx)
        setNumThreads(defaultThreads)
      }
      if (!tfjsLoaded.skipped) {
        for (const t of [input.tfjs.q, input.tfjs.k, input.tfjs.v]) t.dispose()
        const after = tfjsLoaded.tf.memory().numTensors
        if (after !== before - 3) fail(`tfjs leaked tensors at N ${N}: ${before} -> ${after}`)
      }
    }
    // the ceiling again after the entries: 'of peak' uses the better of the two runs (less disturbed by other load)
    const sgemmAfter = await benchOrtSgemm(ort, fail)
    const sgemm = bestSgemm([sgemmBefore, sgemmAfter])
    const peakByThreads = sgemm.skipped ? null : { 1: sgemm[1].GFLOPs, 2: sgemm[2].GFLOPs }
    const otherLoad = runMeter()

    const tables = { ceiling: ceilingRows([sgemmBefore, sgemmAfter], npSgemm) }
    for (const N of NS) {
      const rows = []
      for (const mask of MASKS) {
        const g = results[N][mask]
        const { rows: r, derived } = flopRows(g.entries, { flops: flopsOf(N), baseName: BASE, baseLabel: 'x ORT 2t', peakByThreads, prefix: `${mask}: ` })
        rows.push(...r)
        g.derived = derived
      }
      tables[N] = rows
    }

    const loadNote = (o) => (o ? `; other processes used ${o.otherCores.toFixed(2)} cores meanwhile` : '')
    console.log(`\nSGEMM ceiling, measured before and after the entries ('of peak' here: of the better run); ` +
      `an entry's 'of peak' is its GFLOP/s over the better onnxruntime MatMul GFLOP/s at the entry's thread count${loadNote(otherLoad)} (whole run)`)
    console.table(tables.ceiling)
    for (const N of NS) {
      const loads = MASKS.map((m) => results[N][m].otherLoad?.otherCores).filter((x) => x !== undefined)
      console.log(`\nAttention, B ${B}, H ${H}, N ${N}, D ${D}, float32: GFLOP/s counts 4 B H N^2 D = ${(flopsOf(N) / GFLOP).toFixed(3)} GFLOP ` +
        `(the full matrix, also for causal); 'x ORT 2t' = ${BASE} median / entry median of the same mask (>1 = faster); ` +
        "'of peak' = GFLOP/s / SGEMM GFLOP/s at the entry's thread count" +
        (loads.length ? `; other processes used up to ${Math.max(...loads).toFixed(2)} cores meanwhile` : ''))
      console.table(tables[N])
    }

    writeResult('attention', {
      bench: 'attention',
      date: new Date().toISOString(),
      machine: machineInfo(loadavgAtStart),
      kexue: { ...kexueInfo(defaultThreads), wasmHasAttention },
      params: {
        B, H, D, Dv: D, Ns: NS, masks: MASKS, dtype: 'float32', scale: SCALE, maskBias: MASK_BIAS, tolerance: TOL,
        flopsCounted: '4 B H N^2 D', flops: Object.fromEntries(NS.map((N) => [N, flopsOf(N)])),
        budgets: { targetMsPerEntry: TARGET_MS, minIterations: MIN_IT, maxIterations: MAX_IT, numpy: NUMPY_BUDGET },
        inputs: 'normal([1, H, N, D], { seed: 1 / 2 / 3 }) for q / k / v',
      },
      onnxruntime: ort.skipped ? { skipped: ort.skipped } : {
        ...ort.info,
        sessionOptions: { graphOptimizationLevel: 'all', intraOpNumThreads: '1 or 2 (per entry)', interOpNumThreads: 1, executionMode: 'sequential' },
        ops: {
          [BASE]: 'com.microsoft MultiHeadAttention (opset com.microsoft 1, ai.onnx 21): query/key/value [B, N, H*D] (transposed once, untimed), num_heads = 8; ' +
            `causal: unidirectional = 1; noSelf: attention_bias input [1, 1, N, N] float (${MASK_BIAS} on the diagonal)`,
          'onnxruntime Attention-23 2t': `ai.onnx Attention (opset 23): Q/K/V [B, H, N, D]; causal: is_causal = 1; noSelf: float attn_mask [N, N] (${MASK_BIAS} on the diagonal)`,
        },
      },
      tfjs: tfjsLoaded.skipped ? { skipped: tfjsLoaded.skipped } : { ...tfjsLoaded.info, threads: tfjsLoaded.threads },
      ceiling: { onnxruntimeSgemm: { before: sgemmBefore, after: sgemmAfter, peakGFLOPsByThreads: peakByThreads }, numpySgemm: npSgemm },
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

await main()
