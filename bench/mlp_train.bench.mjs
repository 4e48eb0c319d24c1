// MLP training-step benchmark: one step (forward + loss gradient + backward + Adam) of the built-in
// MLP kernels (Kernels.mlpForward, mlpBackward, adam; float64) on two networks:
//   2-128-128-1 tanh/tanh/identity, batch 256, mean squared error (a small regression net)
//   784-256-256-10 relu/relu/softmax, batch 128, cross-entropy (an MNIST-sized classifier)
// Rows: kexue js (the pure-TS reference kernels, dist/backends/js/mlp_train.js), kexue cpu 1 and 2
// threads (the addon), kexue wasm, and tfjs (float32) tf.train.adam minimize steps on the same
// network on its 'cpu' and 'wasm' backends. GFLOP/s counts the step's GEMM work: forward
// 2 B sum(in out), weight gradients the same, input gradients of layers 2..L (the kernels skip
// layer 1's, which no one needs): elementwise work is not counted.
// Run: node bench/mlp_train.bench.mjs [--quick]   (or node bench/run.mjs mlp_train [-- --quick])
// Writes bench/results/mlp_train.json.
import os from 'node:os'
import { getNumThreads, setNumThreads } from '../dist/index.js'
import { createCpuBackend } from '../dist/backends/native.js'
import { createWasmBackend } from '../dist/backends/wasm.js'
import {
  GFLOP, fmt, keep, kexueInfo, loadTfjsWasm, log, machineInfo, otherLoadMeter, runBench, sanityFail, sinkValue, writeResult,
} from './common.mjs'

const fail = sanityFail('mlp_train')
const argv = process.argv.slice(2)
for (const a of argv) if (a !== '--quick') throw new Error(`unknown argument ${a} (see the header of bench/mlp_train.bench.mjs)`)
const QUICK = argv.includes('--quick')
const OPTS = QUICK ? { time: 300, iterations: 5, warmupTime: 100, warmupIterations: 2 } : { time: 1500, iterations: 10, warmupTime: 300, warmupIterations: 3 }
const ACT = { identity: 0, relu: 1, gelu: 2, tanh: 3, sigmoid: 4, softmax: 5 }
const CONFIGS = [
  { name: '2-128-128-1 tanh/tanh/identity, batch 256, MSE', dims: [2, 128, 128, 1], acts: ['tanh', 'tanh', 'identity'], batch: 256 },
  { name: '784-256-256-10 relu/relu/softmax, batch 128, cross-entropy', dims: [784, 256, 256, 10], acts: ['relu', 'relu', 'softmax'], batch: 128 },
]
const HYPER = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 }
const KEXUE_TOL = 1e-10 // params after one step, every kexue row vs kexue js: max |a - ref| / max |ref|

// Deterministic data: a xorshift generator (the bench needs fixed, not random, inputs).
function rng (seed) {
  let s = seed >>> 0 || 1
  return () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 4294967296 }
}

function setup (cfg) {
  const r = rng(12345)
  const { dims, batch } = cfg
  const L = dims.length - 1
  const spec = Float64Array.from([L, ...dims, ...cfg.acts.map((a) => ACT[a])])
  const parts = []
  let macs = 0
  for (let l = 1; l <= L; l++) {
    const sc = Math.sqrt(6 / (dims[l - 1] + dims[l])) // Glorot uniform
    for (let i = 0; i < dims[l] * dims[l - 1]; i++) parts.push((2 * r() - 1) * sc)
    for (let i = 0; i < dims[l]; i++) parts.push(0)
    macs += dims[l] * dims[l - 1]
  }
  const params = Float64Array.from(parts)
  const x = Float64Array.from({ length: batch * dims[0] }, () => 2 * r() - 1)
  const dL = dims[L]
  const y = new Float64Array(batch * dL) // regression: sin(3 x0) cos(2 x1); classes: one-hot of a hash
  for (let b = 0; b < batch; b++) {
    if (cfg.acts[L - 1] === 'softmax') y[b * dL + (Math.floor(r() * dL))] = 1
    else y[b] = Math.sin(3 * x[b * dims[0]]) * Math.cos(2 * x[b * dims[0] + 1])
  }
  const sumd = dims.slice(1).reduce((a, b) => a + b, 0)
  const flops = 2 * batch * macs + 2 * batch * macs + 2 * batch * (macs - dims[0] * dims[1])
  return { ...cfg, L, spec, params, x, y, dL, sumd, flops }
}

/** A training step on a kernels object; returns { step, state } with state.params updated in place. */
function kexueStepper (k, s) {
  const state = { params: s.params.slice(), m: new Float64Array(s.params.length), v: new Float64Array(s.params.length), t: 0 }
  const acts = new Float64Array(2 * s.batch * s.sumd)
  const gradOut = new Float64Array(s.batch * s.dL)
  const gp = new Float64Array(s.params.length)
  const noGradX = new Float64Array(0)
  const hyper = new Float64Array(7)
  const softmax = s.acts[s.L - 1] === 'softmax'
  const outOff = acts.length - s.batch * s.dL
  const step = () => {
    k.mlpForward(s.spec, state.params, s.batch, s.x, acts)
    for (let i = 0; i < gradOut.length; i++) {
      const a = acts[outOff + i]
      gradOut[i] = softmax ? (s.y[i] !== 0 ? -s.y[i] / (a * s.batch) : 0) : 2 * (a - s.y[i]) / gradOut.length
    }
    k.mlpBackward(s.spec, state.params, s.batch, s.x, acts, gradOut, gp, noGradX)
    state.t++
    hyper.set([HYPER.lr, HYPER.beta1, HYPER.beta2, HYPER.eps, HYPER.weightDecay, 1 - HYPER.beta1 ** state.t, 1 - HYPER.beta2 ** state.t])
    k.adam(state.params, gp, state.m, state.v, hyper)
    return state.params
  }
  return { step, state }
}

/** tfjs: the same network and data in float32, tf.train.adam minimize. */
function tfjsStepper (tf, s) {
  const vars = []
  let o = 0
  for (let l = 1; l <= s.L; l++) {
    const [inp, out] = [s.dims[l - 1], s.dims[l]]
    const k = new Float32Array(inp * out) // [in, out] (Dense layout)
    for (let j = 0; j < out; j++) for (let i = 0; i < inp; i++) k[i * out + j] = s.params[o + j * inp + i]
    o += out * inp
    vars.push(tf.variable(tf.tensor2d(k, [inp, out])), tf.variable(tf.tensor1d(Float32Array.from(s.params.subarray(o, o + out)))))
    o += out
  }
  const xs = tf.tensor2d(Float32Array.from(s.x), [s.batch, s.dims[0]])
  const ys = tf.tensor2d(Float32Array.from(s.y), [s.batch, s.dL])
  const opt = tf.train.adam(HYPER.lr, HYPER.beta1, HYPER.beta2, HYPER.eps)
  const softmax = s.acts[s.L - 1] === 'softmax'
  const loss = () => {
    let h = xs
    for (let l = 0; l < s.L; l++) {
      h = tf.add(tf.matMul(h, vars[2 * l]), vars[2 * l + 1])
      const a = s.acts[l]
      if (a === 'relu') h = tf.relu(h)
      else if (a === 'tanh') h = tf.tanh(h)
    }
    return softmax ? tf.losses.softmaxCrossEntropy(ys, h) : tf.losses.meanSquaredError(ys, h)
  }
  const step = () => {
    const l = opt.minimize(loss, true)
    const v = l.dataSync()[0]
    l.dispose()
    return v
  }
  const dispose = () => { vars.forEach((v) => v.dispose()); xs.dispose(); ys.dispose(); opt.dispose() }
  return { step, dispose }
}

async function main () {
  const t0 = performance.now()
  const loadavgAtStart = os.loadavg()
  const defaultThreads = getNumThreads()
  const cpu = createCpuBackend()
  const wasm = createWasmBackend()
  let js = null
  try {
    const m = await import('../dist/backends/js/mlp_train.js')
    if (m.mlpForwardReference && m.mlpBackwardReference && m.adamReference) {
      js = { mlpForward: m.mlpForwardReference, mlpBackward: m.mlpBackwardReference, adam: m.adamReference }
    }
  } catch (e) {
    log(`kexue js row skipped: ${e.message}`)
  }
  const tfw = await loadTfjsWasm()
  const tf = tfw.tf ?? null
  const results = []
  for (const cfg of CONFIGS) {
    const s = setup(cfg)
    log(`\n${cfg.name}: ${(s.flops / 1e6).toFixed(1)} MFLOP per step`)
    // One step from the same start on every kexue row: the parameters must agree.
    const ref = js ? kexueStepper(js, s).step().slice() : null
    const rows = [
      ['kexue js', js ? { k: js } : { skipped: 'dist/backends/js/mlp_train.js has no reference kernels' }],
      ['tfjs cpu', tf ? { tf: 'cpu' } : { skipped: tfw.skipped }],
      ['kexue cpu 1t', cpu.available ? { k: cpu.kernels, threads: 1 } : { skipped: cpu.info().reason }],
      ['kexue cpu 2t', cpu.available ? { k: cpu.kernels, threads: 2 } : { skipped: cpu.info().reason }],
      ['kexue wasm', wasm.available ? { k: wasm.kernels } : { skipped: wasm.info().reason }],
      ['tfjs wasm', tf ? { tf: 'wasm' } : { skipped: tfw.skipped }],
    ]
    const entries = {}
    const meter = otherLoadMeter()
    for (const [name, e] of rows) {
      if (e.skipped) { entries[name] = { skipped: e.skipped }; continue }
      if (e.k) {
        if (!e.k.mlpForward || !e.k.mlpBackward || !e.k.adam) { entries[name] = { skipped: 'kernels missing' }; continue }
        if (e.threads) setNumThreads(e.threads)
        const check = kexueStepper(e.k, s).step()
        if (ref) {
          let num = 0, den = 0
          for (let i = 0; i < ref.length; i++) { num = Math.max(num, Math.abs(check[i] - ref[i])); den = Math.max(den, Math.abs(ref[i])) }
          if (!(num / den <= KEXUE_TOL)) fail(`${name}: params after one step differ from kexue js by ${num / den}`)
        }
        const st = kexueStepper(e.k, s)
        const r = await runBench(name, OPTS, [[name, () => { keep(st.step()[0]) }]])
        entries[name] = { ...r[name], threads: e.threads ?? 1 }
      } else {
        if (!(await tf.setBackend(e.tf))) { entries[name] = { skipped: `tfjs backend ${e.tf} failed to initialize` }; continue }
        await tf.ready()
        const st = tfjsStepper(tf, s)
        const first = st.step()
        if (!Number.isFinite(first)) fail(`${name}: loss ${first}`)
        const r = await runBench(name, OPTS, [[name, () => { keep(st.step()) }]])
        st.dispose()
        entries[name] = { ...r[name], threads: e.tf === 'wasm' ? (tfw.info?.multithread ? os.cpus().length : 1) : 1 }
      }
    }
    setNumThreads(defaultThreads)
    const table = []
    for (const [name, e] of Object.entries(entries)) {
      if (e.skipped) { table.push({ entry: name, 'median ms': 'skipped', 'GFLOP/s': '-', threads: '-', samples: e.skipped }); continue }
      e.GFLOPs = s.flops / (e.medianMs / 1e3) / GFLOP
      table.push({ entry: name, 'median ms': fmt(e.medianMs, 3), 'min ms': fmt(e.minMs, 3), 'GFLOP/s': fmt(e.GFLOPs, 2), threads: e.threads, samples: e.samples })
    }
    console.log(`\n${cfg.name} (${(s.flops / 1e6).toFixed(1)} MFLOP per step)`)
    console.table(table)
    results.push({ name: cfg.name, dims: cfg.dims, acts: cfg.acts, batch: cfg.batch, flopsPerStep: s.flops, entries, otherLoad: meter() })
  }
  writeResult('mlp_train', {
    bench: 'mlp_train',
    quick: QUICK,
    hyper: HYPER,
    configs: results,
    tfjs: tfw.info ?? { skipped: tfw.skipped },
    machine: machineInfo(loadavgAtStart),
    kexue: kexueInfo(defaultThreads),
    sink: sinkValue(),
    wallSeconds: (performance.now() - t0) / 1e3,
  })
}

await main()
