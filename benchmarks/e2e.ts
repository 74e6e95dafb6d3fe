/**
 * Section 3: `eero classify` end to end on the Fashion-MNIST test PNGs (the
 * folders are class indices): EERO at budget 50% against the plain one graph
 * (`--engine full --budget 1`: the network without exits), in alternating runs
 * (ABBA order), each a fresh `node` process calling classifyCommand.run as
 * `eero classify` does: images/s, wall and CPU (the child's own
 * process.cpuUsage, every thread), page faults, realised cost, accuracy,
 * forced exits, and where the time goes (from the command's own summary).
 * For the first bundle, EERO also runs with a glibc malloc tunable
 * (MALLOC_TUNABLES below), alternated with the same runs without it.
 * Usage: node dist/benchmarks/e2e.js [--quick] [--out DIR] [--threads N] [--bundle DIR ...]
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { markdownTable } from '../src/cli/report/tables';
import { writeFmnistPngs } from './fmnist-pngs';
import { fixed, mean, median } from './support/format';
import { DATA_DIR, REPO_ROOT, runMain, type BenchOptions } from './support/options';
import { provenance, writeOutput, type SectionResult } from './support/report';

const run = promisify(execFile);

/**
 * Keep freed memory in the heap instead of returning it (trim) and serve large blocks from the heap
 * instead of fresh mmap'd pages (mmap threshold at glibc's 64-bit maximum, 32 MiB): every batch's
 * input and output buffers would otherwise fault in new pages.
 */
export const MALLOC_TUNABLES = 'glibc.malloc.trim_threshold=268435456:glibc.malloc.mmap_threshold=33554432';

/** A way of running classify: its flags and environment. */
interface Mode {
  key: 'plain' | 'eero' | 'eero-malloc';
  label: string;
  args: string[];
  env: Record<string, string>;
}

const MODES: Mode[] = [
  { key: 'plain', label: 'plain graph (--engine full --budget 1)', args: ['--engine', 'full', '--budget', '1'], env: {} },
  { key: 'eero', label: 'EERO 50% (--budget 0.5)', args: ['--budget', '0.5'], env: {} },
  { key: 'eero-malloc', label: 'EERO 50%, GLIBC_TUNABLES', args: ['--budget', '0.5'], env: { GLIBC_TUNABLES: MALLOC_TUNABLES } },
];

export interface ClassifyRun {
  bundle: string;
  mode: Mode['key'];
  round: number;
  images: number;
  errors: number;
  seconds: number;
  imagesPerSecond: number;
  /** Whole process: start, model load, classify, exit. */
  wallSeconds: number;
  /** CPU seconds of the whole child process (user + system, every thread). */
  cpuSeconds: number;
  minorFaults: number;
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
export function parseSummary(text: string): Omit<ClassifyRun, 'bundle' | 'mode' | 'round' | 'wallSeconds' | 'cpuSeconds' | 'minorFaults'> {
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

async function classifyOnce(bundle: string, folder: string, mode: Mode, round: number, threads: number | undefined): Promise<ClassifyRun> {
  const tmp = mkdtempSync(path.join(tmpdir(), 'eero-e2e-'));
  try {
    const argv = [
      folder,
      '--model',
      bundle,
      ...mode.args,
      '--out',
      path.join(tmp, 'results.jsonl'),
      '--fresh',
      ...(threads ? ['--threads', String(threads)] : []),
    ];
    const entry = path.join(REPO_ROOT, 'dist', 'src', 'cli', 'commands', 'classify.js');
    // The child reports its own CPU time and page faults on stderr when the command is done.
    const report = `const u = process.cpuUsage(), r = process.resourceUsage(); console.error('E2E-USAGE ' + JSON.stringify({ cpu: (u.user + u.system) / 1e6, faults: r.minorPageFault }))`;
    const script = `require(${JSON.stringify(entry)}).classifyCommand.run(${JSON.stringify(argv)}).then((c) => { ${report}; process.exitCode = c; }, (e) => { console.error(e.stack || e); process.exitCode = 1; })`;
    const t0 = performance.now();
    const { stdout, stderr } = await run(process.execPath, ['-e', script], {
      cwd: REPO_ROOT,
      maxBuffer: 1 << 24,
      env: { ...process.env, ...mode.env },
    });
    const wallSeconds = (performance.now() - t0) / 1000;
    const usage = JSON.parse(/E2E-USAGE (\{.*\})/.exec(stderr)?.[1] ?? '{"cpu":NaN,"faults":NaN}') as { cpu: number; faults: number };
    return {
      bundle: path.basename(bundle),
      mode: mode.key,
      round,
      wallSeconds,
      cpuSeconds: usage.cpu,
      minorFaults: usage.faults,
      ...parseSummary(stdout),
    };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Per round, this mode's value over the plain graph's (same round), then the median over rounds. */
function pairedRatio(runs: ClassifyRun[], bundle: string, key: Mode['key'], base: Mode['key'], of: (r: ClassifyRun) => number): number {
  const at = (k: Mode['key'], round: number): ClassifyRun | undefined =>
    runs.find((r) => r.bundle === bundle && r.mode === k && r.round === round);
  const rounds = [...new Set(runs.filter((r) => r.bundle === bundle).map((r) => r.round))];
  return median(
    rounds.flatMap((round) => {
      const a = at(key, round);
      const b = at(base, round);
      return a && b ? [of(a) / of(b)] : [];
    }),
  );
}

export async function runE2e(o: BenchOptions): Promise<E2eResult> {
  const count = o.quick ? 200 : 10000;
  const rounds = o.quick ? 1 : 2;
  const folder = path.join(DATA_DIR, o.quick ? 'fmnist-quick' : 'fmnist-test');
  const written = await writeFmnistPngs(folder, count);
  if (written) process.stderr.write(`e2e: wrote ${written} PNG files under ${folder}\n`);
  const load0 = loadavg()[0] as number;
  const runs: ClassifyRun[] = [];
  for (const [b, bundle] of o.bundles.entries()) {
    const modes = MODES.filter((m) => m.key !== 'eero-malloc' || b === 0);
    for (let round = 0; round < rounds; round++) {
      // ABBA: every other round runs the modes in reverse order, so that drift hits them alike.
      for (const mode of round % 2 ? [...modes].reverse() : modes) {
        const r = await classifyOnce(bundle, folder, mode, round, o.threads);
        process.stderr.write(
          `e2e: ${r.bundle} ${mode.key} (round ${round + 1}): ${r.images} images, ${fixed(r.imagesPerSecond, 1)} images/s, ${fixed(r.cpuSeconds, 1)} s CPU\n`,
        );
        runs.push(r);
      }
    }
  }
  const load1 = loadavg()[0] as number;
  const names = o.bundles.map((b) => path.basename(b));
  const summary = names.flatMap((name) =>
    (['eero', 'eero-malloc'] as const)
      .filter((k) => runs.some((r) => r.bundle === name && r.mode === k))
      .map((k) => ({
        name,
        key: k,
        speed: pairedRatio(runs, name, k, 'plain', (r) => r.imagesPerSecond),
        cpu: pairedRatio(runs, name, k, 'plain', (r) => r.cpuSeconds / r.images),
        vsEero: k === 'eero-malloc' ? pairedRatio(runs, name, k, 'eero', (r) => r.imagesPerSecond) : NaN,
        cpuVsEero: k === 'eero-malloc' ? pairedRatio(runs, name, k, 'eero', (r) => r.cpuSeconds / r.images) : NaN,
        faultsVsEero: k === 'eero-malloc' ? pairedRatio(runs, name, k, 'eero', (r) => r.minorFaults) : NaN,
      })),
  );
  const label = (k: Mode['key']): string => MODES.find((m) => m.key === k)?.label ?? k;
  const text = [
    '# End to end: `eero classify` on the Fashion-MNIST test PNGs',
    '',
    ...provenance(o.quick, [
      `${count} PNG files under benchmarks/data/${path.basename(folder)}/<class>/ (written by benchmarks/fmnist-pngs.ts); each run is a fresh process running the classify command (batch 64, ledger on, the CLI's defaults; shuffled order) with \`--fresh\`. ` +
        `Modes alternate within each of ${rounds} round(s), in reverse order every other round (ABBA). Ratios are per round against the plain graph of the same round, then the median over rounds. ` +
        "CPU: the child process's own process.cpuUsage() at the end (every thread: onnxruntime, libvips, Node), per image. The time columns are the command's own summary: read, preprocess and engine overlap (reading and preprocessing run ahead of the engine), so they do not add up to the total. " +
        `GLIBC_TUNABLES mode: \`${MALLOC_TUNABLES}\` (first bundle only). Load average (1 min) ${fixed(load0, 2)} at the start, ${fixed(load1, 2)} at the end (2 cores, shared).`,
    ]),
    '## Against the plain one graph',
    '',
    markdownTable(
      ['bundle', 'mode', 'images/s vs plain', 'CPU per image vs plain', 'vs EERO 50% without the tunable: images/s, CPU, page faults'],
      summary.map((x) => [
        x.name,
        label(x.key),
        `${fixed(x.speed, 2)}×`,
        `${fixed(x.cpu, 2)}×`,
        x.key === 'eero-malloc' ? `${fixed(x.vsEero, 3)}×, ${fixed(x.cpuVsEero, 3)}×, ${fixed(x.faultsVsEero, 2)}×` : '',
      ]),
    ),
    '',
    '## Every run',
    '',
    markdownTable(
      [
        'bundle',
        'round',
        'mode',
        'images',
        'errors',
        'images/s',
        'CPU ms / image',
        'page faults',
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
        r.round + 1,
        label(r.mode),
        r.images,
        r.errors,
        fixed(r.imagesPerSecond, 1),
        fixed((1000 * r.cpuSeconds) / r.images, 3),
        r.minorFaults,
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
  ].join('\n');
  const file = writeOutput(o.outDir, 'e2e.md', text);
  process.stdout.write(`e2e: wrote ${file}\n`);
  const headlines = summary.map((x) => {
    const mine = runs.filter((r) => r.bundle === x.name && r.mode === x.key);
    const last = mine[mine.length - 1];
    return x.key === 'eero'
      ? `${x.name}: eero classify at 50%: ${fixed(mean(mine.map((r) => r.imagesPerSecond)), 0)} images/s, ${fixed(x.speed, 2)}× the plain graph's images/s (CPU per image ${fixed(x.cpu, 2)}×); accuracy ${fixed(last?.accuracy ?? NaN, 2)}%, realised cost ${fixed(last?.costPercent ?? NaN, 1)}%, ${last?.forced ?? NaN} forced exits`
      : `${x.name}: GLIBC_TUNABLES (${MALLOC_TUNABLES}): ${fixed(x.vsEero, 3)}× the images/s of EERO 50% without it (CPU ${fixed(x.cpuVsEero, 3)}×, page faults ${fixed(x.faultsVsEero, 2)}×)`;
  });
  return { section: 'e2e', file, extraFiles: [], headlines, warnings: [], runs };
}

runMain(module, runE2e);
