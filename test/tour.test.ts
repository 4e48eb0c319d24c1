// The `npm start` tour (dist/tour/main.js): each section run alone with --quick prints its table
// and summary, passes, and writes its SVG plots (well-formed, the same bytes on a second run);
// --list, --help, and an unknown section or option (exit 2 with the list of names); and the driver
// turning a failed claim or a throwing section into exit status 1.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { runTour } from '../dist/tour/driver.js';
import { SECTIONS } from '../dist/tour/sections/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const main = join(root, 'dist', 'tour', 'main.js');
const dir = mkdtempSync(join(tmpdir(), 'kexue-tour-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function tour(...args: string[]) {
  const r = spawnSync(process.execPath, [main, ...args], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return r;
}

/** The plots each section of this file's list writes. */
const PLOTS: Record<string, string[]> = {
  backends: [],
  sampling: [],
  attention: ['attention-masks.svg'],
  rank: ['rank.svg'],
  gaussian: ['gaussian-shift.svg'],
  ig: ['ig-heatmap.svg'],
};

function expectSvg(path: string): void {
  expect(existsSync(path), path).toBe(true);
  const svg = readFileSync(path, 'utf8');
  expect(svg.startsWith('<svg'), path).toBe(true);
  expect(svg.trimEnd().endsWith('</svg>'), path).toBe(true);
  const w = /<svg[^>]*\swidth="(\d+(?:\.\d+)?)"/.exec(svg);
  const h = /<svg[^>]*\sheight="(\d+(?:\.\d+)?)"/.exec(svg);
  expect(Number(w?.[1]), `${path} width`).toBeGreaterThan(50);
  expect(Number(h?.[1]), `${path} height`).toBeGreaterThan(50);
  expect(svg).not.toMatch(/NaN/);
}

describe('tour sections (--quick)', () => {
  it('lists the sections in article order', () => {
    const names = SECTIONS.map((s) => s.name);
    for (const n of Object.keys(PLOTS)) expect(names).toContain(n);
    expect(names.indexOf('sampling')).toBeLessThan(names.indexOf('attention'));
    expect(names.indexOf('attention')).toBeLessThan(names.indexOf('rank'));
    expect(names.indexOf('rank')).toBeLessThan(names.indexOf('gaussian'));
    expect(names.indexOf('gaussian')).toBeLessThan(names.indexOf('ig'));
    expect(new Set(names).size).toBe(names.length);
  });

  it.each(Object.keys(PLOTS))('%s: prints its table, passes, writes its plots', (name) => {
    const out = join(dir, name);
    const r = tour('--quick', '--section', name, '--out', out);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const section = SECTIONS.find((s) => s.name === name)!;
    expect(r.stdout).toContain(`## ${section.title}  [${name}, `);
    // the table: header rule, then PASS / info rows, no FAIL
    expect(r.stdout).toMatch(/\n {2}-{4} {2}-+ {2}-+\n/);
    expect(r.stdout).toMatch(/\n {2}PASS {2}\S/);
    expect(r.stdout).not.toMatch(/\n {2}FAIL {2}/);
    expect(r.stdout).toMatch(new RegExp(`\\n {2}${name} +(\\d+)/\\1( \\(\\+\\d+ info\\))? +\\d`));
    expect(r.stdout).toContain('Every claim reproduced.');
    for (const f of PLOTS[name]) {
      expectSvg(join(out, f));
      expect(r.stdout).toContain(join(out, f));
    }
    if (PLOTS[name].length === 0) expect(existsSync(out)).toBe(false);
  });

  it('writes the same SVG bytes on a second run', () => {
    const out = join(dir, 'again');
    const r = tour('--quick', '--section=attention,ig', `--out=${out}`);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    for (const f of ['attention-masks.svg', 'ig-heatmap.svg']) expect(readFileSync(join(out, f), 'utf8')).toBe(readFileSync(join(dir, f.startsWith('ig') ? 'ig' : 'attention', f), 'utf8'));
  });
});

describe('tour command line', () => {
  it('--list prints every section name with its title', () => {
    const r = tour('--list');
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.map((l) => l.split(/\s+/)[0])).toEqual(SECTIONS.map((s) => s.name));
  });

  it('--help prints the usage', () => {
    const r = tour('--help');
    expect(r.status).toBe(0);
    for (const flag of ['--section', '--quick', '--out', '--list', '--help']) expect(r.stdout).toContain(flag);
  });

  it('an unknown section or option exits 2 naming the sections', () => {
    const r = tour('--section', 'nope');
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain("unknown section 'nope'");
    for (const s of SECTIONS) expect(r.stderr).toContain(s.name);
    const mixed = tour('--section', 'rank,nope2');
    expect(mixed.status).toBe(2);
    expect(mixed.stderr).toContain("'nope2'");
    expect(tour('--bogus').status).toBe(2);
    expect(tour('--out').status).toBe(2);
  });
});

describe('tour driver', () => {
  it('exits 1 when a claim fails or a section throws, and still runs the rest', async () => {
    const lines: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
    try {
      const ran: string[] = [];
      const status = await runTour(['--out', join(dir, 'fake')], [
        { name: 'bad', title: 'a failing claim', run: async () => (ran.push('bad'), [{ claim: 'one is two', computed: '1', pass: false }]) },
        { name: 'boom', title: 'a throwing section', run: async () => { ran.push('boom'); throw new Error('kaboom'); } },
        { name: 'good', title: 'a passing claim', run: async () => (ran.push('good'), [{ claim: 'one is one', computed: '1', pass: true }, { claim: 'note', computed: 'x', pass: null }]) },
      ]);
      expect(status).toBe(1);
      expect(ran).toEqual(['bad', 'boom', 'good']);
      const text = lines.join('\n');
      expect(text).toMatch(/FAIL {2}one is two/);
      expect(text).toMatch(/FAIL {2}the section runs to the end +threw Error: kaboom/);
      expect(text).toMatch(/good +1\/1 \(\+1 info\)/);
      expect(text).toContain('2 claim(s) FAILED');
    } finally {
      spy.mockRestore();
    }
  });
});
