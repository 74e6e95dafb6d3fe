/**
 * Section 3: `eero classify` end to end on the Fashion-MNIST test PNGs (the
 * folders are class indices) at budgets 50% and 100%, alternating: images/s,
 * accuracy, realised cost, and where the time goes (from the command's own
 * summary). Each run is a fresh `node` process calling classifyCommand.run,
 * as `eero classify` does.
 * Usage: node dist/benchmarks/e2e.js [--quick] [--out DIR] [--threads N] [--bundle DIR ...]
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { markdownTable } from '../src/cli/report/tables';
import { writeFmnistPngs } from './fmnist-pngs';
import { fixed, mean } from './support/format';
import { DATA_DIR, REPO_ROOT, runMain, type BenchOptions } from './support/options';
import { provenance, writeOutput, type SectionResult } from './support/report';

const run = promisify(execFile);

export interface ClassifyRun {
  bundle: string;
  budget: number;
  images: number;
  errors: number;
  seconds: number;
  imagesPerSecond: number;
  /** Whole process: start, model load, classify, exit. */
  wallSeconds: number;
  accuracy: number;
  costPercent: number;
  forced: number;
  read: number;
  preprocess: number;
  engine: number;
}

export interface E2eResult extends SectionResult {
  runs: ClassifyRun[];
}

/** Numbers out of classify's summary text (src/cli/commands/classify.ts). */
export function parseSummary(text: string): Omit<ClassifyRun, 'bundle' | 'budget' | 'wallSeconds'> {
  const num = (re: RegExp): number => Number(re.exec(text)?.[1] ?? NaN);
  return {
    images: num(/(\d+) images \(/),
    errors: num(/images \((\d+) errors/),
    seconds: num(/ in ([\d.]+) s: /),
    imagesPerSecond: num(/([\d.]+) images\/s/),
    accuracy: num(/accuracy ([\d.]+)%/),
    costPercent: num(/realised average cost ([\d.]+)%/),
    forced: num(/(\d+) exits forced/),
    read: num(/time: read ([\d.]+) s/),
    preprocess: num(/preprocess ([\d.]+) s/),
    engine: num(/engine ([\d.]+) s/),
  };
}

async function classifyOnce(bundle: string, folder: string, budget: number, threads: number | undefined): Promise<ClassifyRun> {
  const tmp = mkdtempSync(path.join(tmpdir(), 'eero-e2e-'));
  try {
    const argv = [
      folder,
      '--model',
      bundle,
      '--budget',
      String(budget),
      '--out',
      path.join(tmp, 'results.jsonl'),
      '--fresh',
      ...(threads ? ['--threads', String(threads)] : []),
    ];
    const entry = path.join(REPO_ROOT, 'dist', 'src', 'cli', 'commands', 'classify.js');
    const script = `require(${JSON.stringify(entry)}).classifyCommand.run(${JSON.stringify(argv)}).then((c) => { process.exitCode = c; }, (e) => { console.error(e.stack || e); process.exitCode = 1; })`;
    const t0 = performance.now();
    const { stdout } = await run(process.execPath, ['-e', script], { cwd: REPO_ROOT, maxBuffer: 1 << 24 });
    const wallSeconds = (performance.now() - t0) / 1000;
    return { bundle: path.basename(bundle), budget, wallSeconds, ...parseSummary(stdout) };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

export async function runE2e(o: BenchOptions): Promise<E2eResult> {
  const count = o.quick ? 200 : 10000;
  const folder = path.join(DATA_DIR, o.quick ? 'fmnist-quick' : 'fmnist-test');
  const written = await writeFmnistPngs(folder, count);
  if (written) process.stderr.write(`e2e: wrote ${written} PNG files under ${folder}\n`);
  const runs: ClassifyRun[] = [];
  const order = o.quick ? [1.0, 0.5] : [1.0, 0.5, 1.0, 0.5];
  for (const bundle of o.bundles) {
    for (const budget of order) {
      const r = await classifyOnce(bundle, folder, budget, o.threads);
      process.stderr.write(`e2e: ${r.bundle} budget ${budget}: ${r.images} images, ${fixed(r.imagesPerSecond, 1)} images/s\n`);
      runs.push(r);
    }
  }
  const ratios = o.bundles.map((b) => {
    const name = path.basename(b);
    const at = (f: number): number[] => runs.filter((r) => r.bundle === name && r.budget === f).map((r) => r.imagesPerSecond);
    return { name, ratio: mean(at(0.5)) / mean(at(1.0)) };
  });
  const text = [
    '# End to end: `eero classify` on the Fashion-MNIST test PNGs',
    '',
    ...provenance(o.quick, [
      `${count} PNG files under benchmarks/data/${path.basename(folder)}/<class>/ (written by benchmarks/fmnist-pngs.ts); each run is a fresh process running the classify command (batch 64, ledger on, the CLI's defaults) with \`--fresh\`; budgets alternate 100%, 50%, ... The time columns are the command's own summary: read, preprocess and engine overlap (reading and preprocessing run ahead of the engine), so they do not add up to the total.`,
    ]),
    markdownTable(
      [
        'bundle',
        'budget %',
        'images',
        'errors',
        'images/s',
        'accuracy %',
        'realised cost %',
        'forced exits',
        'read s',
        'preprocess s',
        'engine s',
        'classify s',
        'process wall s',
      ],
      runs.map((r) => [
        r.bundle,
        fixed(100 * r.budget, 0),
        r.images,
        r.errors,
        fixed(r.imagesPerSecond, 1),
        fixed(r.accuracy, 2),
        fixed(r.costPercent, 2),
        r.forced,
        fixed(r.read, 1),
        fixed(r.preprocess, 1),
        fixed(r.engine, 1),
        fixed(r.seconds, 1),
        fixed(r.wallSeconds, 1),
      ]),
    ),
    '',
    '## images/s at 50% against 100%',
    '',
    markdownTable(
      ['bundle', 'images/s ratio (mean of runs)'],
      ratios.map((r) => [r.name, `${fixed(r.ratio, 2)}×`]),
    ),
    '',
  ].join('\n');
  const file = writeOutput(o.outDir, 'e2e.md', text);
  process.stdout.write(`e2e: wrote ${file}\n`);
  const headlines = ratios.map((r) => {
    const half = runs.filter((x) => x.bundle === r.name && x.budget === 0.5);
    const last = half[half.length - 1];
    return `${r.name}: eero classify at 50%: ${fixed(mean(half.map((x) => x.imagesPerSecond)), 0)} images/s, accuracy ${fixed(last?.accuracy ?? NaN, 2)}%, cost ${fixed(last?.costPercent ?? NaN, 1)}%; ${fixed(r.ratio, 2)}× the images/s at 100%`;
  });
  return { section: 'e2e', file, extraFiles: [], headlines, warnings: [], runs };
}

runMain(module, runE2e);
