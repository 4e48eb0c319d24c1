#!/usr/bin/env node
// The kexue command line: `kexue fid A B`, the Frechet distance (FID) between two feature sets.
import { readFileSync, writeFileSync } from 'node:fs';
import { KexueError, GaussianStats, frechetDistance, setBackend, type BackendChoice, type Tensor } from '../index.js';
import { readNpy } from '../io/npy.js';

const HELP = `Usage:
  kexue fid A B [--json] [--save-stats OUT] [--backend NAME]
  kexue fid A --save-stats OUT [--json]
  kexue --help | --version

fid   The Frechet distance (FID when the features come from Inception) between the Gaussians
      fitted to A and B: mean and covariance (divisor count - 1).
      A and B are each either
        - a .npy file of features [m, n] (float32 or float64, C order), as written by np.save, or
        - a statistics JSON file written by --save-stats (GaussianStats.toJSON()).
      The kind is told from the file's content, not its name.

Options:
  --json             print {"fid": ..., "a": {"file", "count", "n"}, "b": {...}} instead of "FID <value>"
  --save-stats OUT   write the statistics of A (count, mean, co-moment) as JSON to OUT; they can be
                     passed as A or B later instead of the features. B is optional with this option:
                     \`kexue fid A --save-stats OUT\` only computes and saves A's statistics.
  --backend NAME     force a kexue backend (auto, cuda, cpu, wasm, js); the default is auto
  -h, --help         show this help
  -V, --version      show the version

Exit status: 0 on success, 1 on an error (bad or unreadable file, ...), 2 on a usage error.
`;

class UsageError extends Error {}

interface Args {
  command?: string;
  inputs: string[];
  json: boolean;
  saveStats?: string;
  backend?: string;
  help: boolean;
  version: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { inputs: [], json: false, help: false, version: false };
  const positional: string[] = [];
  const value = (name: string, inline: string | undefined, i: number): [string, number] => {
    if (inline !== undefined) {
      if (inline === '') throw new UsageError(`${name} needs a value`);
      return [inline, i];
    }
    const v = argv[i + 1];
    if (v === undefined || (v.startsWith('-') && v !== '-')) throw new UsageError(`${name} needs a value`);
    return [v, i + 1];
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const inline = arg.startsWith('--') && eq > 0 ? arg.slice(eq + 1) : undefined;
    const noValue = () => {
      if (inline !== undefined) throw new UsageError(`${name} takes no value`);
    };
    switch (name) {
      case '-h':
      case '--help':
        noValue();
        a.help = true;
        break;
      case '-V':
      case '--version':
        noValue();
        a.version = true;
        break;
      case '--json':
        noValue();
        a.json = true;
        break;
      case '--save-stats':
        [a.saveStats, i] = value(name, inline, i);
        break;
      case '--backend':
        [a.backend, i] = value(name, inline, i);
        break;
      default:
        throw new UsageError(`unknown option ${name}`);
    }
  }
  a.command = positional[0];
  a.inputs = positional.slice(1);
  return a;
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? 'unknown';
}

const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];

/** Statistics of one input: a .npy feature file or a statistics JSON file. */
function loadStats(path: string): GaussianStats {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'is a directory' : err.message;
    throw new KexueError('E_ARG', `cannot read ${path}: ${why}`, { cause: e });
  }
  const isNpy = NPY_MAGIC.every((b, i) => bytes[i] === b);
  const trimmed = bytes.toString('utf8', 0, Math.min(bytes.length, 64)).trimStart();
  if (isNpy || !trimmed.startsWith('{') || /\.npy$/i.test(path)) {
    let x: Tensor;
    try {
      x = readNpy(bytes);
    } catch (e) {
      if (e instanceof KexueError && !isNpy && !/\.npy$/i.test(path))
        throw new KexueError('E_FORMAT', `${path}: neither a .npy file nor a statistics JSON file`, { cause: e });
      throw prefixed(e, path);
    }
    if (x.dtype !== 'float32' && x.dtype !== 'float64')
      throw new KexueError('E_DTYPE', `${path}: features must be float32 or float64; got ${x.dtype}`);
    if (x.rank !== 2) throw new KexueError('E_SHAPE', `${path}: features must be a 2-d array [m, n]; got shape [${x.shape.join(', ')}]`);
    if (x.shape[1] === 0) throw new KexueError('E_SHAPE', `${path}: features must have at least one column; got shape [${x.shape.join(', ')}]`);
    try {
      return new GaussianStats(x.shape[1]).update(x);
    } catch (e) {
      throw prefixed(e, path);
    }
  }
  let j: unknown;
  try {
    j = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new KexueError('E_FORMAT', `${path}: not valid JSON (${(e as Error).message}) and not a .npy file`, { cause: e });
  }
  try {
    return GaussianStats.fromJSON(j);
  } catch (e) {
    if (e instanceof KexueError) throw new KexueError('E_FORMAT', `${path}: not a statistics file: ${e.message}`, { cause: e });
    throw e;
  }
}

function prefixed(e: unknown, path: string): unknown {
  return e instanceof KexueError ? new KexueError(e.code, `${path}: ${e.message}`, { cause: e }) : e;
}

function fid(a: Args): void {
  const [fileA, fileB, ...rest] = a.inputs;
  if (fileA === undefined) throw new UsageError('fid needs two inputs A and B (or one with --save-stats OUT)');
  if (rest.length > 0) throw new UsageError(`fid takes two inputs; got ${a.inputs.length}`);
  if (fileB === undefined && a.saveStats === undefined) throw new UsageError('fid needs a second input B (or --save-stats OUT to only save the statistics of A)');
  if (a.backend !== undefined) {
    const names = ['auto', 'cuda', 'cpu', 'wasm', 'js'];
    if (!names.includes(a.backend)) throw new UsageError(`--backend must be one of ${names.join(', ')}; got '${a.backend}'`);
    try {
      setBackend(a.backend as BackendChoice);
    } catch (e) {
      throw prefixed(e, '--backend');
    }
  }

  const sa = loadStats(fileA);
  const info = (file: string, s: GaussianStats) => ({ file, count: s.count, n: s.n });
  if (a.saveStats !== undefined) {
    try {
      writeFileSync(a.saveStats, JSON.stringify(sa.toJSON()) + '\n');
    } catch (e) {
      throw new KexueError('E_ARG', `cannot write ${a.saveStats}: ${(e as Error).message}`, { cause: e });
    }
  }
  if (fileB === undefined) {
    if (a.json) console.log(JSON.stringify({ a: info(fileA, sa), saved: a.saveStats }));
    else console.log(`saved the statistics of ${fileA} (count ${sa.count}, n ${sa.n}) to ${a.saveStats}`);
    return;
  }
  const sb = loadStats(fileB);
  if (sa.n !== sb.n) throw new KexueError('E_SHAPE', `feature dimensions differ: ${fileA} has ${sa.n}, ${fileB} has ${sb.n}`);
  for (const [file, s] of [[fileA, sa], [fileB, sb]] as const)
    if (s.count < 2) throw new KexueError('E_RANGE', `${file}: a covariance needs at least 2 samples; have ${s.count}`);
  const d = frechetDistance(sa, sb);
  if (a.json) {
    const out: Record<string, unknown> = { fid: d, a: info(fileA, sa), b: info(fileB, sb) };
    if (a.saveStats !== undefined) out.saved = a.saveStats;
    console.log(JSON.stringify(out));
  } else console.log(`FID ${d}`);
}

function main(argv: string[]): number {
  try {
    const a = parseArgs(argv);
    if (a.help) {
      process.stdout.write(HELP);
      return 0;
    }
    if (a.version) {
      console.log(version());
      return 0;
    }
    if (a.command === undefined) throw new UsageError('no command given');
    if (a.command !== 'fid') throw new UsageError(`unknown command '${a.command}'`);
    fid(a);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`kexue: ${e.message}\nTry 'kexue --help'.`);
      return 2;
    }
    if (e instanceof KexueError) {
      console.error(`kexue: ${e.message}`);
      return 1;
    }
    // Not kexue's own error: a bug or an environment failure. A stack only on request.
    console.error(`kexue: ${e instanceof Error ? e.message : String(e)}`);
    if (process.env.KEXUE_DEBUG) console.error(e);
    return 1;
  }
}

// `kexue fid A B | head -0`: a closed pipe is not an error worth a stack trace.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

process.exitCode = main(process.argv.slice(2));
