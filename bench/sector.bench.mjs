// Sector-probability Monte-Carlo benchmark (techniques.md section 7): trials per second of
// sectorProbabilityMonteCarlo for n = 3, 10, 100, 1000 points, at the theta where the closed form
// is 1/2, on kexue cpu (1 and 2 threads), wasm and js, against plain JS the way a developer
// writes it (Math.random angles, Array.prototype.sort, the largest gap). Every kexue row must give
// the same hit count (the op's bit-identity guarantee) and every row an estimate within 5 standard
// errors of the closed form, else the bench fails before its table.
// Run: node bench/sector.bench.mjs [--quick]   (or node bench/run.mjs sector [-- --quick])
import os from 'node:os'
import { getNumThreads, sectorProbability, sectorProbabilityMonteCarlo, setNumThreads } from '../dist/index.js'
import { sectorTheta as thetaFor } from '../dist/ops/sector.js'
import { log, keep, sanityFail, runBench, fmt, otherLoadMeter, machineInfo, kexueInfo, writeResult } from './common.mjs'

const fail = sanityFail('sector')
const argv = process.argv.slice(2)
for (const a of argv) if (a !== '--quick') throw new Error(`unknown argument ${a} (see the header of bench/sector.bench.mjs)`)
const QUICK = argv.includes('--quick')
const TWO_PI = 2 * Math.PI
const NS = [3, 10, 100, 1000]
const SEED = 2024
// angles drawn per call, per kind of row (so that one call takes roughly 50-300 ms)
const WORDS = { native: QUICK ? 4e6 : 2e7, wasm: QUICK ? 1e6 : 5e6, js: QUICK ? 1e5 : 5e5 }
const OPTS = QUICK ? { time: 300, iterations: 3, warmupTime: 0, warmupIterations: 1 } : { time: 1500, iterations: 5, warmupTime: 0, warmupIterations: 1 }

/** Plain JS: Math.random angles in radians, Array.prototype.sort, the largest circular gap. */
function plainMc (n, theta, trials) {
  const a = new Array(n)
  const need = TWO_PI - theta
  let hits = 0
  for (let t = 0; t < trials; t++) {
    for (let j = 0; j < n; j++) a[j] = Math.random() * TWO_PI
    a.sort((x, y) => x - y)
    let gap = TWO_PI - a[n - 1] + a[0]
    for (let i = 1; i < n; i++) gap = Math.max(gap, a[i] - a[i - 1])
    if (gap >= need) hits++
  }
  return hits
}

async function main () {
  const t0 = performance.now()
  const loadavgAtStart = os.loadavg()
  const defaultThreads = getNumThreads()
  log(`sector bench: n = ${NS.join(', ')} at P = 1/2${QUICK ? ' (quick)' : ''}; load average ${loadavgAtStart.map((l) => l.toFixed(2)).join(' ')}`)
  const meter = otherLoadMeter()
  const configs = []
  for (const n of NS) {
    const theta = thetaFor(n, 0.5)
    const p = sectorProbability(n, theta)
    const rows = [
      ['kexue cpu 1t', 'native', () => setNumThreads(1), 'cpu'],
      ['kexue cpu 2t', 'native', () => setNumThreads(2), 'cpu'],
      ['kexue wasm', 'wasm', () => {}, 'wasm'],
      ['kexue js', 'js', () => {}, 'js'],
      ['plain JS (Math.random + sort)', 'js', () => {}, null],
    ]
    const entries = {}
    const hitsByTrials = {}
    log(`n = ${n}, theta = ${theta.toFixed(6)} (closed form ${p.toFixed(6)})`)
    for (const [name, kind, setup, backend] of rows) {
      const trials = Math.max(1, Math.round(WORDS[kind] / n))
      setup()
      const run = backend ? () => sectorProbabilityMonteCarlo(n, theta, { trials, seed: SEED, backend }).hits : () => plainMc(n, theta, trials)
      const hits = run()
      const se = Math.sqrt((p * (1 - p)) / trials)
      if (!(Math.abs(hits / trials - p) <= 5 * se)) fail(`${name} n=${n}: estimate ${hits / trials}, closed form ${p} (5 se = ${5 * se})`)
      if (backend) {
        // the same seed and trial count must give the same count on every kexue backend
        const ref = hitsByTrials[trials] ?? (hitsByTrials[trials] = sectorProbabilityMonteCarlo(n, theta, { trials, seed: SEED, backend: 'cpu' }).hits)
        if (hits !== ref) fail(`${name} n=${n}: ${hits} hits, cpu ${ref}`)
      }
      const r = await runBench(`sector n=${n}`, OPTS, [[name, () => keep(run()), { beforeEach: setup }]])
      entries[name] = { ...r[name], trials, hits, trialsPerSecond: trials / (r[name].medianMs / 1e3) }
    }
    setNumThreads(defaultThreads)
    configs.push({ n, theta, closedForm: p, entries })
  }
  const otherLoad = meter()
  console.log(`\nSector-probability Monte Carlo: trials per second (median call), n points, theta where P = 1/2. ` +
    `'x plain JS' = row rate / plain-JS rate. kexue rows: the same hit count on every backend (checked).`)
  const tables = []
  for (const c of configs) {
    const plain = c.entries['plain JS (Math.random + sort)'].trialsPerSecond
    const rows = Object.entries(c.entries).map(([name, e]) => ({
      entry: name,
      trials: e.trials,
      'median ms': fmt(e.medianMs, 2),
      'trials/s': e.trialsPerSecond.toExponential(3),
      'x plain JS': fmt(e.trialsPerSecond / plain, 2),
      estimate: fmt(e.hits / e.trials, 4),
    }))
    console.log(`\nn = ${c.n}, theta = ${c.theta.toFixed(6)} (P = ${c.closedForm.toFixed(4)})`)
    console.table(rows)
    tables.push({ n: c.n, rows })
  }
  if (otherLoad) console.log(`\nother processes used ${otherLoad.otherCores.toFixed(2)} cores on average during the run`)
  writeResult('sector', {
    bench: 'sector',
    date: new Date().toISOString(),
    quick: QUICK,
    wallSeconds: (performance.now() - t0) / 1e3,
    machine: machineInfo(loadavgAtStart),
    kexue: kexueInfo(defaultThreads),
    seed: SEED,
    otherLoad,
    configs,
    tables,
  })
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
