/**
 * Replica sizing for deploy/k8s: how many images/s ONE service process (one
 * pod) sustains at budgets 0.3, 0.5 and 1.0, and the CPU and memory it uses
 * doing so. Each budget gets a fresh `eero serve` child process (the real CLI
 * from dist/, the default ResNet bundle, `--budget b`), loaded with autocannon
 * at a few connection counts, each request one fixture PNG from
 * models/resnet18-fmnist/fixtures. CPU (cores used) comes from the child's
 * /proc/PID/stat ticks over the run, RSS from /proc/PID/status (peak = VmHWM).
 * Linux only for the CPU and RSS columns. Not a test: the client shares the
 * machine's cores with the service, so figures are a floor for a pod with
 * cores of its own. "images per CPU-s" (images/s over the cores the service
 * actually got) moves less than images/s when other work shares the machine.
 *
 * Usage: npm run build && node dist/benchmarks/replica-sizing.js
 *   [--seconds 8] [--reps 1] [--connections 1,4,16,64] [--budgets 0.3,0.5,1] [--headroom 0.7] [--targets 100,500,2000]
 *   [--noise SIDE] [--out FILE]
 * --noise SIDE posts one SIDE x SIDE RGB noise PNG instead of the fixtures: the memory a pod needs for big
 * uploads (1150 makes a 4 MB PNG, the body limit of deploy/k8s's serve.yaml).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import sharp from 'sharp';
import { markdownTable } from '../src/cli/report/tables';

/** Repository root, from src (ts-jest) or from dist/benchmarks (compiled). */
const REPO_ROOT = path.resolve(__dirname, '..', ...(path.basename(path.dirname(__dirname)) === 'dist' ? ['..'] : []));
export const CLI = path.join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');
export const FIXTURES = path.join(REPO_ROOT, 'models', 'resnet18-fmnist', 'fixtures');

export interface ServeProcess {
  url: string;
  port: number;
  /** The `eero serve` process itself (not its guard), for /proc sampling. */
  pid: number;
  /** From spawn to the "listening on" line: model load and warm-up included. */
  startupMs: number;
  stderrTail(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * The serve process runs under a tiny guard that holds a pipe from this
 * process: if this process dies however abruptly (a killed jest worker), the
 * pipe closes and the guard SIGKILLs the service, so none is left behind.
 * The guard prints the service's pid first, then passes SIGTERM on.
 */
const GUARD = `
const { spawn } = require('node:child_process');
const child = spawn(process.execPath, process.argv.slice(1), { stdio: ['ignore', 'ignore', 'inherit'] });
process.stdout.write('pid ' + child.pid + '\\n');
const gone = () => child.kill('SIGKILL');
process.stdin.on('end', gone);
process.stdin.on('error', gone);
process.stdin.resume();
process.on('SIGTERM', () => child.kill('SIGTERM'));
child.on('error', (e) => { console.error(String(e)); process.exit(127); });
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
`;

const live = new Set<ChildProcess>();
let exitHook = false;

/** Starts `node dist/src/cli/main.js serve --host 127.0.0.1 --port 0 ...args`; resolves once it listens. */
export async function startServeProcess(args: string[], options: { timeoutMs?: number } = {}): Promise<ServeProcess> {
  if (!exitHook) {
    exitHook = true;
    // Last resort if a caller forgets stop(): the guard's pipe closes anyway, this is quicker.
    process.once('exit', () => live.forEach((c) => c.kill('SIGKILL')));
  }
  const t0 = performance.now();
  const guard = spawn(process.execPath, ['-e', GUARD, CLI, 'serve', '--host', '127.0.0.1', '--port', '0', ...args], {
    cwd: REPO_ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  live.add(guard);
  guard.once('exit', () => live.delete(guard));
  let tail = '';
  let pid: number | undefined;
  guard.stdout.setEncoding('utf8').on('data', (s: string) => {
    const m = /pid (\d+)/.exec(s);
    if (m) pid = Number(m[1]);
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`eero serve did not listen within ${options.timeoutMs ?? 30000} ms: ${tail}`)),
      options.timeoutMs ?? 30000,
    );
    guard.stderr.setEncoding('utf8').on('data', (s: string) => {
      tail = (tail + s).slice(-4000);
      const m = /listening on (http:\/\/\S+)/.exec(tail);
      if (m) {
        clearTimeout(timer);
        resolve(m[1] as string);
      }
    });
    guard.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`eero serve exited (${code}) before listening: ${tail}`));
    });
  }).catch(async (e: unknown) => {
    await stopGuard(guard, pid, 0);
    throw e;
  });
  const startupMs = performance.now() - t0;
  return {
    url,
    port: Number(new URL(url).port),
    pid: pid ?? -1,
    startupMs,
    stderrTail: () => tail,
    stop: (graceMs = 3000) => stopGuard(guard, pid, graceMs),
  };
}

async function stopGuard(guard: ChildProcess, pid: number | undefined, graceMs: number): Promise<void> {
  if (guard.exitCode !== null || guard.signalCode !== null) return;
  const exited = new Promise<void>((done) => guard.once('exit', () => done()));
  guard.kill('SIGTERM');
  const timer = setTimeout(() => {
    // Kill the service itself: killing only the guard would orphan it.
    if (pid !== undefined) process.kill(pid, 'SIGKILL');
    guard.kill('SIGKILL');
  }, graceMs);
  await exited;
  clearTimeout(timer);
}

/** CPU seconds (user + system) the process has used, or NaN off Linux. */
function cpuSeconds(pid: number, tick: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / tick;
  } catch {
    return NaN;
  }
}

/** VmRSS and VmHWM (peak) in MiB, or NaN off Linux. */
function memoryMiB(pid: number): { rss: number; peak: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
  } catch {
    return { rss: NaN, peak: NaN };
  }
}

interface Counters {
  images: number;
  macs: number;
  fullMacs: number;
}

/** Totals from the service's /metrics: images, MACs spent, the full model's MACs. */
async function counters(url: string): Promise<Counters> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const sum = (name: string): number =>
    [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))].reduce((s, m) => s + Number(m[1]), 0);
  return { images: sum('eero_images_total'), macs: sum('eero_macs_spent_total'), fullMacs: sum('eero_model_full_cost_macs') };
}

interface Cell {
  budget: number;
  connections: number;
  imagesPerSecond: number;
  /** MACs the replica spent per second: images/s x the realised cost of an image. */
  macsPerSecond: number;
  p50: number;
  p99: number;
  cores: number;
  rssMiB: number;
  realised: number;
  failed: number;
}

async function measure(service: ServeProcess, budget: number, connections: number, seconds: number, bodies: Buffer[]): Promise<Cell> {
  const tick = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
  const before = await counters(service.url);
  const cpu0 = cpuSeconds(service.pid, tick);
  const t0 = performance.now();
  let rss = 0;
  const sampler = setInterval(() => (rss = Math.max(rss, memoryMiB(service.pid).rss)), 200);
  let result: autocannon.Result;
  try {
    result = await autocannon({
      url: `${service.url}/v1/classify`,
      connections,
      duration: seconds,
      requests: bodies.map((body) => ({ method: 'POST', path: '/v1/classify', body, headers: { 'content-type': 'image/png' } })),
    });
  } finally {
    clearInterval(sampler);
  }
  const wall = (performance.now() - t0) / 1000;
  const cpu1 = cpuSeconds(service.pid, tick);
  const after = await counters(service.url);
  const images = after.images - before.images;
  return {
    budget,
    connections,
    imagesPerSecond: result['2xx'] / result.duration,
    macsPerSecond: (after.macs - before.macs) / wall,
    p50: result.latency.p50,
    p99: result.latency.p99,
    cores: (cpu1 - cpu0) / wall,
    rssMiB: Math.max(rss, memoryMiB(service.pid).rss),
    realised: (after.macs - before.macs) / images / after.fullMacs,
    failed: result.non2xx + result.errors + result.timeouts,
  };
}

interface BudgetRun {
  budget: number;
  startupMs: number;
  idleRssMiB: number;
  peakRssMiB: number;
  cells: Cell[];
}

/**
 * Each cell is measured `reps` times and the run with the most images/s kept: on a shared machine other
 * work only ever takes throughput away, so the best run is the closest to a pod with its cores to itself.
 */
async function runBudget(budget: number, connections: number[], seconds: number, reps: number, bodies: Buffer[]): Promise<BudgetRun> {
  const service = await startServeProcess(['--budget', String(budget)]);
  try {
    const idleRssMiB = memoryMiB(service.pid).rss;
    await autocannon({ url: `${service.url}/v1/classify`, connections: 8, duration: 2, method: 'POST', body: bodies[0] });
    const cells: Cell[] = [];
    for (const c of connections) {
      let best: Cell | undefined;
      for (let r = 0; r < reps; r++) {
        const cell = await measure(service, budget, c, seconds, bodies);
        process.stderr.write(
          `budget ${budget}, ${c} connections, run ${r + 1}/${reps}: ${cell.imagesPerSecond.toFixed(0)} images/s, p99 ${cell.p99} ms, ${cell.cores.toFixed(2)} cores, RSS ${cell.rssMiB.toFixed(0)} MiB\n`,
        );
        if (best === undefined || cell.imagesPerSecond > best.imagesPerSecond) best = cell;
      }
      cells.push(best as Cell);
    }
    return { budget, startupMs: service.startupMs, idleRssMiB, peakRssMiB: memoryMiB(service.pid).peak, cells };
  } finally {
    await service.stop();
  }
}

const list = (s: string): number[] => s.split(',').map(Number);

function fixtures(): Buffer[] {
  return readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.png'))
    .sort()
    .map((f) => readFileSync(path.join(FIXTURES, f)));
}

/** A side x side RGB PNG of deterministic noise (an LCG): incompressible, so the biggest body for its pixels. */
async function noisePng(side: number): Promise<Buffer> {
  const raw = Buffer.alloc(side * side * 3);
  let x = 1;
  for (let i = 0; i < raw.length; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    raw[i] = x >>> 24;
  }
  return sharp(raw, { raw: { width: side, height: side, channels: 3 } })
    .png()
    .toBuffer();
}

function report(
  runs: BudgetRun[],
  bodiesNote: string,
  seconds: number,
  reps: number,
  loadBefore: number,
  headroom: number,
  targets: number[],
): string {
  const rows = runs.flatMap((r) =>
    r.cells.map((c) => [
      c.budget,
      c.connections,
      +c.imagesPerSecond.toFixed(0),
      +(c.macsPerSecond / 1e9).toFixed(2),
      +c.p50.toFixed(0),
      +c.p99.toFixed(0),
      +c.cores.toFixed(2),
      +(c.imagesPerSecond / c.cores).toFixed(0),
      +c.rssMiB.toFixed(0),
      +(100 * c.realised).toFixed(1),
      c.failed,
    ]),
  );
  const best = (r: BudgetRun): Cell => r.cells.reduce((a, b) => (b.imagesPerSecond > a.imagesPerSecond ? b : a));
  const summary = runs.map((r) => [
    r.budget,
    +best(r).imagesPerSecond.toFixed(0),
    best(r).connections,
    +(headroom * best(r).imagesPerSecond).toFixed(0),
    +((headroom * best(r).macsPerSecond) / 1e9).toFixed(2),
    +(best(r).imagesPerSecond / best(r).cores).toFixed(0),
    +r.startupMs.toFixed(0),
    +r.idleRssMiB.toFixed(0),
    +r.peakRssMiB.toFixed(0),
    ...targets.map((t) => Math.ceil(t / (headroom * best(r).imagesPerSecond))),
  ]);
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return [
    '# Replica sizing: one `eero serve` process under autocannon (benchmarks/replica-sizing.ts)',
    '',
    `${new Date().toISOString()}; node ${process.version}; ${availableParallelism()} cores (${cpu}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB;`,
    `model resnet18-fmnist (default config: ${availableParallelism()} intra-op threads, maxBatch 32); ${bodiesNote};`,
    `${seconds} s per cell, best of ${reps} run(s); the client shares the cores; 1-minute load average ${loadBefore.toFixed(2)} before, ${(loadavg()[0] ?? 0).toFixed(2)} after.`,
    '',
    markdownTable(
      [
        'budget',
        'connections',
        'images/s',
        'GMAC/s',
        'p50 ms',
        'p99 ms',
        'CPU cores',
        'images per CPU-s',
        'RSS MiB',
        'realised cost %',
        'failed',
      ],
      rows,
    ),
    `Per replica (best connection count); sustainable = ${headroom} x best; replicas for a target = ceil(target / sustainable):`,
    '',
    markdownTable(
      [
        'budget',
        'best images/s',
        'at connections',
        'sustainable images/s',
        'sustainable GMAC/s',
        'images per CPU-s',
        'startup ms',
        'idle RSS MiB',
        'peak RSS MiB',
        ...targets.map((t) => `replicas for ${t}/s`),
      ],
      summary,
    ),
  ].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '8' },
      reps: { type: 'string', default: '1' },
      connections: { type: 'string', default: '1,4,16,64' },
      budgets: { type: 'string', default: '0.3,0.5,1' },
      headroom: { type: 'string', default: '0.7' },
      targets: { type: 'string', default: '100,500,2000' },
      noise: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const bodies = values.noise === undefined ? fixtures() : [await noisePng(Number(values.noise))];
  const seconds = Number(values.seconds);
  const loadBefore = loadavg()[0] ?? 0;
  const runs: BudgetRun[] = [];
  for (const b of list(values.budgets)) runs.push(await runBudget(b, list(values.connections), seconds, Number(values.reps), bodies));
  const bodiesNote =
    values.noise === undefined
      ? 'one 28x28 fixture PNG per request'
      : `one ${values.noise}x${values.noise} noise PNG (${((bodies[0] as Buffer).length / 2 ** 20).toFixed(1)} MiB) per request`;
  const text = report(runs, bodiesNote, seconds, Number(values.reps), loadBefore, Number(values.headroom), list(values.targets));
  process.stdout.write(`${text}\n`);
  if (values.out !== undefined) writeFileSync(values.out, `${text}\n`);
}

if (require.main === module) {
  main().catch((e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  });
}
