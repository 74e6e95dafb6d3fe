/**
 * Test harness: a real Prometheus (the `prometheus` binary on PATH) scraping
 * loopback targets, for integration tests. Everything is bounded in time, and
 * the process is killed and its temp dir removed on stop(), on a failed
 * start, and when the test process exits, so none is ever left behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, rmSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';

export interface StartPrometheusOptions {
  /** host:port of each target, e.g. '127.0.0.1:41234'. */
  targets: string[];
  scrapeIntervalSeconds?: number;
  /** Rule file to load; rules are evaluated every scrape interval. */
  rulesFile?: string;
  jobName?: string;
  /** Bound on start-up until /-/ready answers; default 120 s (it only ends a hang). */
  readyTimeoutMs?: number;
  binary?: string;
}

export interface VectorSample {
  labels: Record<string, string>;
  value: number;
}

export interface PrometheusHandle {
  url: string;
  /** One number: a scalar, or an instant vector of at most one sample (undefined when empty). */
  query(promql: string): Promise<number | undefined>;
  queryVector(promql: string): Promise<VectorSample[]>;
  /** Polls `promql` until `accept(value)` holds; rejects after `timeoutMs` (default 120 s: it only ends a hang) with the last value. */
  waitForValue(promql: string, accept: (v: number | undefined) => boolean, timeoutMs?: number): Promise<number | undefined>;
  /** Resolves once every target has been scraped successfully at least `n` times. */
  waitForScrapes(n: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Bounds that only end a hang: Prometheus on a busy machine is slower, not wrong. */
const HTTP_TIMEOUT_MS = 30_000;
const WAIT_MS = 120_000;
const POLL_MS = 100;
const live = new Set<ChildProcess>();
const liveDirs = new Set<string>();
let exitHookInstalled = false;

/** Whether an executable of this name is on PATH. */
export function hasBinary(name: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      // not here
    }
  }
  return false;
}

export async function startPrometheus(options: StartPrometheusOptions): Promise<PrometheusHandle> {
  installExitHook();
  const interval = options.scrapeIntervalSeconds ?? 1;
  const job = options.jobName ?? 'eero';
  const dir = await mkdtemp(join(tmpdir(), 'eero-prometheus-'));
  liveDirs.add(dir);
  const configFile = join(dir, 'prometheus.yml');
  await writeFile(configFile, configText(options, interval, job));
  let lastError: unknown;
  // A free port found now may be taken before Prometheus binds it: try a few.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const started = spawnPrometheus(options.binary ?? 'prometheus', dir, port, attempt);
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitReady(url, started, options.readyTimeoutMs ?? 120_000);
      return handle(url, started.child, dir, job);
    } catch (error) {
      lastError = error;
      await kill(started.child);
    }
  }
  removeDir(dir);
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}

function configText(options: StartPrometheusOptions, interval: number, job: string): string {
  const lines = ['global:', `  scrape_interval: ${interval}s`, `  scrape_timeout: ${interval}s`, `  evaluation_interval: ${interval}s`];
  if (options.rulesFile !== undefined) lines.push('rule_files:', `  - ${JSON.stringify(resolve(options.rulesFile))}`);
  lines.push(
    'scrape_configs:',
    `  - job_name: ${JSON.stringify(job)}`,
    '    static_configs:',
    `      - targets: ${JSON.stringify(options.targets)}`,
  );
  return `${lines.join('\n')}\n`;
}

interface Started {
  child: ChildProcess;
  stderrTail: () => string;
}

/**
 * Prometheus runs under a small node guard that holds a pipe from this
 * process: when the pipe closes (this process exited, crashed or was
 * killed, however abruptly) or the guard gets SIGTERM, it stops Prometheus
 * (SIGKILL after 3 s); when the parent is gone it also removes the temp dir.
 */
const GUARD = `
const { spawn } = require('node:child_process');
const { rmSync } = require('node:fs');
const [dir, bin, ...args] = process.argv.slice(1);
let parentGone = false;
const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'inherit'] });
const stop = () => { child.kill('SIGTERM'); setTimeout(() => child.kill('SIGKILL'), 3000).unref(); };
process.stdin.on('end', () => { parentGone = true; stop(); });
process.stdin.on('error', () => { parentGone = true; stop(); });
process.stdin.resume();
process.on('SIGTERM', stop);
child.on('error', (e) => { console.error(String(e)); process.exit(127); });
child.on('exit', (code) => {
  if (parentGone) rmSync(dir, { recursive: true, force: true });
  process.exit(code ?? 0);
});
`;

function spawnPrometheus(binary: string, dir: string, port: number, attempt: number): Started {
  const args = [
    `--config.file=${join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${join(dir, `data-${attempt}`)}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
    '--storage.tsdb.retention.time=1h',
  ];
  const child = spawn(process.execPath, ['-e', GUARD, dir, binary, ...args], { stdio: ['pipe', 'ignore', 'pipe'] });
  live.add(child);
  // Never keep the test process alive because of Prometheus: the guard outlives nothing.
  child.unref();
  for (const stream of [child.stdin, child.stderr]) (stream as { unref?: () => void } | null)?.unref?.();
  child.once('exit', () => live.delete(child));
  child.once('error', () => live.delete(child));
  let tail = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    tail = (tail + chunk).slice(-4000);
  });
  return { child, stderrTail: () => tail };
}

async function waitReady(url: string, started: Started, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let spawnError: Error | undefined;
  started.child.once('error', (e) => (spawnError = e));
  while (Date.now() < deadline) {
    if (spawnError !== undefined) throw new Error(`prometheus did not start: ${spawnError.message}`);
    if (started.child.exitCode !== null || started.child.signalCode !== null) {
      throw new Error(`prometheus exited (${started.child.exitCode ?? started.child.signalCode}): ${started.stderrTail()}`);
    }
    try {
      const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(POLL_MS);
  }
  throw new Error(`prometheus not ready within ${timeoutMs} ms: ${started.stderrTail()}`);
}

function handle(url: string, child: ChildProcess, dir: string, job: string): PrometheusHandle {
  let stopped: Promise<void> | undefined;
  const queryVector = async (promql: string): Promise<VectorSample[]> => {
    const res = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query: promql }).toString()}`, {
      signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
    });
    const body = (await res.json()) as QueryResponse;
    if (body.status !== 'success' || body.data === undefined)
      throw new Error(`query ${promql}: ${body.errorType ?? res.status}: ${body.error ?? ''}`);
    const { resultType, result } = body.data;
    if (resultType === 'scalar') return [{ labels: {}, value: Number((result as [number, string])[1]) }];
    if (resultType !== 'vector') throw new Error(`query ${promql}: expected an instant vector, got ${resultType}`);
    return (result as { metric: Record<string, string>; value: [number, string] }[]).map((s) => ({
      labels: s.metric,
      value: Number(s.value[1]),
    }));
  };
  const query = async (promql: string): Promise<number | undefined> => {
    const samples = await queryVector(promql);
    if (samples.length > 1) throw new Error(`query ${promql}: ${samples.length} series, expected at most one (use queryVector)`);
    return samples[0]?.value;
  };
  const waitForValue = async (
    promql: string,
    accept: (v: number | undefined) => boolean,
    timeoutMs = WAIT_MS,
  ): Promise<number | undefined> => {
    const deadline = Date.now() + timeoutMs;
    let last: number | undefined;
    for (;;) {
      last = await query(promql);
      if (accept(last)) return last;
      if (Date.now() >= deadline) throw new Error(`query ${promql}: last value ${last} not accepted within ${timeoutMs} ms`);
      await sleep(POLL_MS);
    }
  };
  return {
    url,
    query,
    queryVector,
    waitForValue,
    async waitForScrapes(n, timeoutMs = WAIT_MS) {
      // Successful scrapes of the least-scraped target (up is 1 on success).
      await waitForValue(`min(sum_over_time(up{job=${JSON.stringify(job)}}[1h]))`, (v) => v !== undefined && v >= n, timeoutMs);
    },
    stop() {
      stopped ??= kill(child).finally(() => removeDir(dir));
      return stopped;
    },
  };
}

interface QueryResponse {
  status: 'success' | 'error';
  data?: { resultType: string; result: unknown };
  errorType?: string;
  error?: string;
}

/** SIGTERM to the guard (which stops Prometheus), then SIGKILL after 8 s; resolves once the process is gone (bounded). */
async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
    live.delete(child);
    return;
  }
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  child.kill('SIGTERM');
  if (!(await within(exited, 8000))) {
    child.kill('SIGKILL');
    await within(exited, 5000);
  }
  live.delete(child);
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort when a test forgets stop() or the runner exits early: never leave Prometheus running.
  process.once('exit', () => {
    for (const child of live) child.kill('SIGTERM');
    for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true });
  });
}

function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  liveDirs.delete(dir);
}

async function within(p: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((done) => (timer = setTimeout(() => done(false), ms)));
  try {
    return await Promise.race([p.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? done(address.port) : fail(new Error('no port'))));
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}
