// Runs every bench/*.bench.mjs in turn, each in its own Node process (fresh heap and JIT state).
// usage: node bench/run.mjs [name-filter...] [-- bench args...]   e.g. node bench/run.mjs dropout
//        node bench/run.mjs gaussian -- --quick   (arguments after -- go to every bench run)
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
const argv = process.argv.slice(2)
const dash = argv.indexOf('--')
const filters = dash < 0 ? argv : argv.slice(0, dash)
const benchArgs = dash < 0 ? [] : argv.slice(dash + 1)
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.mjs'))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort()
if (files.length === 0) {
  console.error(`no bench/*.bench.mjs matches ${filters.join(' ')}`)
  process.exit(1)
}
const failed = []
for (const f of files) {
  console.error(`\n=== ${f} ===`)
  const t0 = performance.now()
  const r = spawnSync(process.execPath, [path.join(here, f), ...benchArgs], { stdio: 'inherit' })
  const s = ((performance.now() - t0) / 1e3).toFixed(1)
  if (r.status !== 0) {
    failed.push(f)
    console.error(`=== ${f} FAILED (${r.signal ?? `exit ${r.status}`}, ${s} s) ===`)
  } else console.error(`=== ${f} done (${s} s) ===`)
}
if (failed.length) {
  console.error(`\nfailed: ${failed.join(', ')}`)
  process.exit(1)
}
