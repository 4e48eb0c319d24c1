// Reads the one native source list (native/sources.gypi) for the scripts and tests.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** { kexue_core_sources: [...], ... } from native/sources.gypi (a Python literal with comments). */
export function readSources() {
  const text = readFileSync(path.join(root, 'native/sources.gypi'), 'utf8');
  const out = {};
  for (const m of text.matchAll(/'(\w+)'\s*:\s*\[([^\]]*)\]/g)) {
    out[m[1]] = [...m[2].matchAll(/'([^']+)'/g)].map((x) => x[1]);
  }
  return out;
}
