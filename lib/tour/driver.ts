// The tour's driver: parses the command line, runs the selected sections (lib/tour/sections/) in
// article order, prints one table per section (claim, number computed, PASS/FAIL), draws progress
// bars for long parts, writes the sections' plots as SVG, and ends with a summary table. The exit
// status is 0 when every claim holds, 1 when one fails, 2 for a usage error.
import { resolve } from 'node:path';
import { writePlot, loadPlotter } from './plot.js';
import type { TourContext, TourRow, TourSection } from './types.js';

export interface TourOptions {
  /** Section names to run (all when null), in the sections' order. */
  sections: string[] | null;
  quick: boolean;
  outDir: string;
  list: boolean;
  help: boolean;
}

export class UsageError extends Error {}

export const USAGE = `usage: npm start -- [options]   (or: node dist/tour/main.js [options])

Reproduces each technique's claims with the library's own kernels: one table per article (the
claim, the number computed, PASS/FAIL), plots as SVG files, a summary at the end. Exits 1 if a
claim fails.

options:
  --section NAME[,NAME...]  run only these sections (see --list)
  --quick                   shorter runs (fewer samples and sizes); the claims still hold
  --out DIR                 where the SVG plots go (default ./kexue-tour)
  --list                    list the sections and exit
  --help                    this text`;

/** Parses the tour's arguments (throws UsageError on a bad one). */
export function parseArgs(argv: readonly string[], known: readonly TourSection[]): TourOptions {
  const o: TourOptions = { sections: null, quick: false, outDir: 'kexue-tour', list: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf('=');
    const [flag, inline] = arg.startsWith('--') && eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--section':
      case '--sections': {
        const names = value().split(',').map((s) => s.trim()).filter((s) => s !== '');
        const unknown = names.filter((n) => !known.some((s) => s.name === n));
        if (unknown.length > 0)
          throw new UsageError(`unknown section${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `'${n}'`).join(', ')}; the sections are: ${known.map((s) => s.name).join(', ')}`);
        o.sections = [...(o.sections ?? []), ...names];
        break;
      }
      case '--quick':
        o.quick = true;
        break;
      case '--out':
        o.outDir = value();
        break;
      case '--list':
        o.list = true;
        break;
      case '--help':
      case '-h':
        o.help = true;
        break;
      default:
        throw new UsageError(`unknown option '${arg}' (see --help)`);
    }
  }
  return o;
}

/** Splits text into lines of at most `width` characters, at spaces where possible. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const para of text.split('\n')) {
    let line = '';
    for (let word of para.split(' ')) {
      while (word.length > width) {
        if (line !== '') lines.push(line);
        lines.push(word.slice(0, width));
        word = word.slice(width);
        line = '';
      }
      if (line === '') line = word;
      else if (line.length + 1 + word.length <= width) line += ' ' + word;
      else {
        lines.push(line);
        line = word;
      }
    }
    lines.push(line);
  }
  return lines;
}

const fmtTime = (ms: number): string => (ms < 1000 ? `${ms.toFixed(0)} ms` : `${(ms / 1000).toFixed(1)} s`);

const verdict = (pass: boolean | null): string => (pass === null ? 'info' : pass ? 'PASS' : 'FAIL');

/** A plain-text table: a header, a rule, and rows whose cells wrap within their column. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[], maxWidths: readonly number[]): string[] {
  const widths = header.map((h, c) => Math.min(maxWidths[c], Math.max(h.length, ...rows.map((r) => Math.max(...r[c].split('\n').map((l) => l.length))))));
  const out: string[] = [];
  const emit = (cells: readonly string[]) => {
    const wrapped = cells.map((cell, c) => wrap(cell, widths[c]));
    const height = Math.max(...wrapped.map((w) => w.length));
    for (let k = 0; k < height; k++) out.push(('  ' + wrapped.map((w, c) => (w[k] ?? '').padEnd(widths[c])).join('  ')).trimEnd());
  };
  emit(header);
  out.push('  ' + widths.map((w) => '-'.repeat(w)).join('  '));
  rows.forEach(emit);
  return out;
}

/**
 * Progress bars: redrawn in place on a terminal; elsewhere (CI logs) a plain line at each quarter,
 * and only for parts running longer than a second.
 */
class Progress {
  private active = '';
  private lastDraw = 0;
  private readonly started = new Map<string, { t0: number; quarter: number; printed: boolean }>();
  constructor(private readonly stream: NodeJS.WriteStream) {}

  update(label: string, done: number, total: number): void {
    const frac = total > 0 ? Math.min(1, Math.max(0, done / total)) : 1;
    const finished = done >= total;
    const now = performance.now();
    if (this.stream.isTTY) {
      if (!finished && label === this.active && now - this.lastDraw < 80) return;
      this.lastDraw = now;
      const cols = Math.max(40, (this.stream.columns ?? 80) - 1);
      const counts = ` ${done}/${total}`;
      const barWidth = Math.max(10, Math.min(30, cols - label.length - counts.length - 6));
      const filled = Math.round(frac * barWidth);
      const text = `  ${label} [${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}]${counts}`.slice(0, cols);
      this.stream.write(`\r\x1b[K${text}`);
      this.active = label;
      if (finished) this.clear();
      return;
    }
    let s = this.started.get(label);
    if (s === undefined) this.started.set(label, (s = { t0: now, quarter: 0, printed: false }));
    const q = Math.floor(frac * 4);
    if (finished) {
      if (s.printed) this.stream.write(`  ${label}: done (${done}/${total}, ${fmtTime(now - s.t0)})\n`);
      this.started.delete(label);
    } else if (q > s.quarter && now - s.t0 > 1000) {
      s.quarter = q;
      s.printed = true;
      this.stream.write(`  ${label}: ${Math.round(frac * 100)}% (${done}/${total})\n`);
    }
  }

  /** Removes a bar still on screen (before other output). */
  clear(): void {
    if (this.active !== '' && this.stream.isTTY) this.stream.write('\r\x1b[K');
    this.active = '';
  }
}

interface SectionResult {
  section: TourSection;
  rows: TourRow[];
  ms: number;
}

/** Runs the tour with the given arguments; returns the exit status. */
export async function runTour(argv: readonly string[], all: readonly TourSection[]): Promise<number> {
  let o: TourOptions;
  try {
    o = parseArgs(argv, all);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`kexue tour: ${e.message}`);
    return 2;
  }
  if (o.help) {
    console.log(USAGE);
    return 0;
  }
  if (o.list) {
    const w = Math.max(...all.map((s) => s.name.length));
    for (const s of all) console.log(`${s.name.padEnd(w)}  ${s.title}`);
    return 0;
  }
  const chosen = o.sections === null ? all : all.filter((s) => o.sections!.includes(s.name));
  const outDir = resolve(o.outDir);
  const progress = new Progress(process.stderr);
  const written: string[] = [];
  const results: SectionResult[] = [];
  const plotter = await loadPlotter();
  const cols = process.stdout.isTTY ? Math.max(80, process.stdout.columns ?? 120) : 140;

  console.log(`# kexue tour${o.quick ? ' (--quick)' : ''}: ${chosen.length} section${chosen.length === 1 ? '' : 's'}, plots into ${outDir}`);
  if (typeof plotter === 'string') console.log(plotter);
  const t0 = performance.now();
  for (const section of chosen) {
    const notes: string[] = [];
    const ctx: TourContext = {
      quick: o.quick,
      outDir,
      progress: (label, done, total) => progress.update(label, done, total),
      plot: async (file, spec) => {
        const path = await writePlot(outDir, file, spec);
        if (path === null) return '';
        if (!written.includes(path)) written.push(path);
        return path;
      },
      note: (line) => notes.push(line),
    };
    const ts = performance.now();
    let rows: TourRow[];
    try {
      rows = await section.run(ctx);
    } catch (e) {
      rows = [{ claim: 'the section runs to the end', computed: `threw ${(e as Error).stack ?? String(e)}`.split('\n').slice(0, 3).join(' '), pass: false }];
    }
    const ms = performance.now() - ts;
    progress.clear();
    results.push({ section, rows, ms });
    console.log(`\n## ${section.title}  [${section.name}, ${fmtTime(ms)}]\n`);
    const claimWidth = Math.min(64, Math.floor((cols - 12) * 0.5));
    for (const line of formatTable(['', 'claim', 'computed'], rows.map((r) => [verdict(r.pass), r.claim, r.computed]), [4, claimWidth, cols - claimWidth - 12])) console.log(line);
    if (notes.length > 0) console.log('\n' + notes.map((n) => (n === '' ? '' : '  ' + n)).join('\n'));
  }
  const total = performance.now() - t0;

  const claims = (r: SectionResult) => r.rows.filter((x) => x.pass !== null);
  const failed = results.flatMap((r) => claims(r).filter((x) => x.pass === false).map((x) => `${r.section.name}: ${x.claim}`));
  console.log('\n## Summary\n');
  const summary = results.map((r) => {
    const c = claims(r);
    const info = r.rows.length - c.length;
    return [r.section.name, `${c.filter((x) => x.pass).length}/${c.length}${info > 0 ? ` (+${info} info)` : ''}`, fmtTime(r.ms)];
  });
  summary.push(['total', `${results.reduce((s, r) => s + claims(r).filter((x) => x.pass).length, 0)}/${results.reduce((s, r) => s + claims(r).length, 0)}`, fmtTime(total)]);
  for (const line of formatTable(['section', 'claims passed', 'time'], summary, [20, 24, 10])) console.log(line);
  if (written.length > 0) {
    console.log(`\nSVG files written (${written.length}):`);
    for (const p of written) console.log(`  ${p}`);
  }
  if (failed.length === 0) {
    console.log('\nEvery claim reproduced.');
    return 0;
  }
  console.log(`\n${failed.length} claim(s) FAILED:`);
  for (const f of failed) console.log(`  ${f}`);
  return 1;
}
