// The tour's plots: a plain Vega-Lite spec compiled with vega-lite and rendered headless by vega
// (View with renderer 'none', toSVG()) into an SVG file. Both are devDependencies, loaded with a
// dynamic import so the library itself never depends on them; without them the tour skips its
// plots. No node-canvas: vega estimates text widths without it. The same spec gives the same SVG.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The parts of vega and vega-lite the tour uses (typed here: the library carries no types of theirs). */
interface VegaLite {
  compile(spec: unknown, opts: { logger: VegaLogger }): { spec: unknown };
}
interface VegaView {
  toSVG(): Promise<string>;
  finalize(): void;
}
/** vega's logger interface; the tour's turns vega's errors (logged, not thrown) into an exception. */
interface VegaLogger {
  level(): number;
  level(l: number): VegaLogger;
  error(...args: unknown[]): VegaLogger;
  warn(...args: unknown[]): VegaLogger;
  info(...args: unknown[]): VegaLogger;
  debug(...args: unknown[]): VegaLogger;
}
interface Vega {
  parse(spec: unknown): unknown;
  View: new (runtime: unknown, opts: { renderer: 'none'; logger: VegaLogger }) => VegaView;
}

/** A logger that keeps errors and warnings (vega reports a bad spec's errors only through it). */
function collectingLogger(errors: string[]): VegaLogger {
  const text = (args: unknown[]) => args.map((a) => (a instanceof Error ? a.message : String(a))).join(' ');
  const logger: VegaLogger = {
    level: ((l?: number) => (l === undefined ? 2 : logger)) as VegaLogger['level'],
    error: (...args) => (errors.push(text(args)), logger),
    warn: (...args) => (errors.push(`warning: ${text(args)}`), logger),
    info: () => logger,
    debug: () => logger,
  };
  return logger;
}

export interface Plotter {
  /** Renders the spec to SVG text. */
  svg(spec: Record<string, unknown>): Promise<string>;
}

/**
 * vega numbers gradients and clip paths with process-wide counters (gradient_3 after two earlier
 * plots); renumbering the ids from 0 in each file makes the SVG depend only on its spec.
 */
function renumberIds(svg: string): string {
  const next = new Map<string, number>();
  const ids = new Map<string, string>();
  for (const [, id, prefix] of svg.matchAll(/\sid="(([A-Za-z]+_?)\d+)"/g)) {
    if (ids.has(id)) continue;
    const n = next.get(prefix) ?? 0;
    next.set(prefix, n + 1);
    ids.set(id, `${prefix}${n}`);
  }
  if (ids.size === 0) return svg;
  return svg.replace(/(\sid="|url\(#|href="#)([A-Za-z]+_?\d+)(?=[")])/g, (m, lead: string, id: string) => (ids.has(id) ? lead + ids.get(id) : m));
}

let loading: Promise<Plotter | string> | null = null;

/** The plotter, or why there is none (a one-line reason). Loaded once. */
export function loadPlotter(): Promise<Plotter | string> {
  loading ??= (async () => {
    // module names in variables: tsc neither resolves nor type-checks them
    const names = ['vega', 'vega-lite'];
    try {
      const [vega, vl] = (await Promise.all(names.map((n) => import(n)))) as [Vega, VegaLite];
      return {
        async svg(spec) {
          const errors: string[] = [];
          const logger = collectingLogger(errors);
          const compiled = vl.compile({ $schema: 'https://vega.github.io/schema/vega-lite/v6.json', ...spec }, { logger }).spec;
          const view = new vega.View(vega.parse(compiled), { renderer: 'none', logger });
          try {
            const svg = await view.toSVG();
            if (errors.length > 0) throw new Error(`vega: ${errors.join('; ')}`);
            return renumberIds(svg);
          } finally {
            view.finalize();
          }
        },
      } satisfies Plotter;
    } catch (e) {
      return `plots skipped: vega and vega-lite are not installed (npm install --save-dev vega vega-lite): ${(e as Error).message.split('\n')[0]}`;
    }
  })();
  return loading;
}

/** Renders `spec` into `${dir}/${file}`; returns the path, or null when plots are unavailable. */
export async function writePlot(dir: string, file: string, spec: Record<string, unknown>): Promise<string | null> {
  if (!/^[\w.-]+\.svg$/.test(file)) throw new Error(`plot file name must be a plain name ending in .svg; got ${JSON.stringify(file)}`);
  const plotter = await loadPlotter();
  if (typeof plotter === 'string') return null;
  const svg = await plotter.svg(spec);
  await mkdir(dir, { recursive: true });
  const path = join(dir, file);
  await writeFile(path, svg.endsWith('\n') ? svg : svg + '\n');
  return path;
}
