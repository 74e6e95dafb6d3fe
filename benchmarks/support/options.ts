/** Command-line options shared by every benchmark section. */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';

export interface BenchOptions {
  /** Tiny sizes, no speed claims: a smoke run (< 1 minute for the whole suite). */
  quick: boolean;
  /** Where the Markdown and SVG files go. */
  outDir: string;
  /** Bundle folders to run on. */
  bundles: string[];
  /** onnxruntime intra-op threads (default: all cores). */
  threads: number | undefined;
  /** speed.ts only: repetitions of every batch size (default 5 for the bundles, 3 for the 224x224 network). */
  reps?: number;
  /** run.ts only: the sections to run (default all). */
  only: string[] | undefined;
}

/** The repository root, from the source (ts-jest) or the compiled file (dist/benchmarks/...). */
function findRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'models'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no repository root above ${from}`);
  }
}

export const REPO_ROOT = findRoot(__dirname);

export const DEFAULT_BUNDLES = ['models/resnet18-fmnist', 'models/convnext-fmnist'].map((b) => path.join(REPO_ROOT, b));
export const DATA_DIR = path.join(REPO_ROOT, 'benchmarks', 'data');

/** The builds named by `--main [label=]path` flags: a label names a build kept outside this checkout (e.g. before=/tmp/before/dist/src/cli/main.js). */
export function buildsOf(mains: readonly string[]): Array<{ file: string; label: string }> {
  return mains.map((m) => {
    const at = m.indexOf('=');
    const file = path.resolve(at < 0 ? m : m.slice(at + 1));
    return { file, label: at < 0 ? path.relative(REPO_ROOT, file) : m.slice(0, at) };
  });
}

/** The `--kinds` list, each checked against the benchmark's known kinds. */
export function kindsOf<K extends string>(list: string, known: Readonly<Record<K, unknown>>): K[] {
  const kinds = list.split(',');
  for (const k of kinds) if (!(k in known)) throw new Error(`unknown --kinds entry ${k}; known: ${Object.keys(known).join(', ')}`);
  return kinds as K[];
}

export function resultsDir(quick: boolean): string {
  return path.join(REPO_ROOT, 'benchmarks', 'results', ...(quick ? ['quick'] : []));
}

export function parseBenchArgs(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      out: { type: 'string' },
      bundle: { type: 'string', multiple: true },
      threads: { type: 'string' },
      reps: { type: 'string' },
      only: { type: 'string', multiple: true },
    },
    allowPositionals: false,
  });
  const quick = values.quick ?? false;
  const threads = values.threads === undefined ? undefined : Number(values.threads);
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1)) throw new Error(`--threads must be a positive integer`);
  const reps = values.reps === undefined ? undefined : Number(values.reps);
  if (reps !== undefined && !(Number.isInteger(reps) && reps >= 1)) throw new Error(`--reps must be a positive integer`);
  return {
    quick,
    outDir: path.resolve(values.out ?? resultsDir(quick)),
    bundles: values.bundle?.map((b) => path.resolve(b)) ?? DEFAULT_BUNDLES,
    threads,
    ...(reps === undefined ? {} : { reps }),
    only: values.only?.flatMap((v) => v.split(',')),
  };
}

/** Runs a section's main when its file is executed directly. */
export function runMain(mod: NodeModule, main: (o: BenchOptions) => Promise<unknown>): void {
  if (require.main !== mod) return;
  main(parseBenchArgs(process.argv.slice(2))).catch((e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  });
}
