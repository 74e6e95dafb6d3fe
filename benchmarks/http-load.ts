/**
 * HTTP load on loopback with autocannon: throughput and p50/p99 latency of
 * POST /v1/classify (one Fashion-MNIST fixture PNG per request, default budget
 * 0.5, ledger on) at concurrency 1, 8, 32, 64, with dynamic batching on
 * (maxBatch 32 with maxWaitMs 0, the default, and 2) and off (maxBatch 1). All
 * services run in this process; the modes take turns at each concurrency (the
 * first one rotates) so that drift hits all alike. Not a test.
 * Usage: npm run build && node dist/benchmarks/http-load.js [--seconds 5] [--reps 1] [--out benchmarks/results/http-load.md]
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { markdownTable } from '../src/cli/report/tables';
import { defaultServeConfig, type ServeConfig } from '../src/config';
import { startService, type Service } from '../src/server';

const ROOT = path.resolve(__dirname, '..', '..');
const BUNDLE = path.join(ROOT, 'models', 'resnet18-fmnist');
const CONCURRENCY = [1, 8, 32, 64];

interface Cell {
  mode: string;
  connections: number;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  meanBatch: number;
}

function config(maxBatch: number, maxWaitMs: number): ServeConfig {
  const d = defaultServeConfig();
  return {
    ...d,
    port: 0,
    host: '127.0.0.1',
    models: [{ name: 'resnet18-fmnist', path: BUNDLE }],
    batching: { maxBatch, maxWaitMs, maxQueue: 4096 },
  };
}

/** Mean engine batch size so far, from the service's own counters. */
async function batchCounters(service: Service): Promise<{ images: number; runs: number }> {
  const text = await (await fetch(`${service.url}/metrics`)).text();
  const read = (name: string): number => Number(new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  return { images: read('eero_inference_images_total'), runs: read('eero_inference_executions_total') };
}

async function measure(mode: string, service: Service, connections: number, seconds: number, bodies: Buffer[]): Promise<Cell> {
  const before = await batchCounters(service);
  const result = await autocannon({
    url: `${service.url}/v1/classify`,
    connections,
    duration: seconds,
    requests: bodies.map((body) => ({ method: 'POST', path: '/v1/classify', body, headers: { 'content-type': 'image/png' } })),
  });
  const after = await batchCounters(service);
  return {
    mode,
    connections,
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    meanBatch: (after.images - before.images) / Math.max(1, after.runs - before.runs),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '5' },
      reps: { type: 'string', default: '1' },
      out: { type: 'string', default: path.join(ROOT, 'benchmarks', 'results', 'http-load.md') },
    },
  });
  const seconds = Number(values.seconds);
  const reps = Number(values.reps);
  const dir = path.join(BUNDLE, 'fixtures');
  const bodies = readdirSync(dir)
    .filter((f) => f.endsWith('.png'))
    .sort()
    .map((f) => readFileSync(path.join(dir, f)));
  const modes: Array<[string, Service]> = [
    ['batching on, default (maxBatch 32, maxWaitMs 0)', await startService(config(32, 0))],
    ['batching on (maxBatch 32, maxWaitMs 2)', await startService(config(32, 2))],
    ['batching off (maxBatch 1)', await startService(config(1, 0))],
  ];
  const cells: Cell[] = [];
  const loadBefore = loadavg()[0] ?? 0;
  try {
    for (const [, s] of modes) await measure('warm-up', s, 8, 1, bodies);
    for (let r = 0; r < reps; r++) {
      for (const [i, c] of CONCURRENCY.entries()) {
        // Rotate which mode goes first, so drift on a shared machine favours none.
        const k = (i + r) % modes.length;
        const order = [...modes.slice(k), ...modes.slice(0, k)];
        for (const [mode, s] of order) {
          const cell = await measure(mode, s, c, seconds, bodies);
          cells.push(cell);
          process.stderr.write(
            `${mode}, ${c} connections: ${cell.requestsPerSecond.toFixed(0)} req/s, p50 ${cell.p50} ms, p99 ${cell.p99} ms, mean batch ${cell.meanBatch.toFixed(1)}\n`,
          );
        }
      }
    }
  } finally {
    for (const [, s] of modes) await s.close();
  }
  const rows = CONCURRENCY.flatMap((c) =>
    modes.map(([mode]) => {
      const mine = cells.filter((x) => x.mode === mode && x.connections === c);
      const avg = (f: (x: Cell) => number): number => mine.reduce((s, x) => s + f(x), 0) / mine.length;
      return [
        c,
        mode,
        +avg((x) => x.requestsPerSecond).toFixed(0),
        +avg((x) => x.p50).toFixed(1),
        +avg((x) => x.p99).toFixed(1),
        +avg((x) => x.meanBatch).toFixed(1),
        mine.reduce((s, x) => s + x.non2xx + x.errors, 0),
      ];
    }),
  );
  const table = markdownTable(['connections', 'mode', 'req/s', 'p50 ms', 'p99 ms', 'mean engine batch', 'non-2xx + errors'], rows);
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const text = [
    '# HTTP load: POST /v1/classify on loopback (autocannon)',
    '',
    `${new Date().toISOString()}; node ${process.version}; ${availableParallelism()} cores (${cpu}); model resnet18-fmnist, default budget 0.5 with the ledger on;`,
    `one fixture PNG per request (28x28 gray); ${seconds} s per cell, ${reps} repetition(s), modes alternated; onnxruntime intra-op threads = cores; client and server share the machine;`,
    `1-minute load average before the run: ${loadBefore.toFixed(2)} (other jobs on the machine skew absolute numbers; compare the modes within a row pair).`,
    '',
    table,
  ].join('\n');
  process.stdout.write(`${text}\n`);
  mkdirSync(path.dirname(values.out), { recursive: true });
  writeFileSync(values.out, `${text}\n`);
}

if (require.main === module) {
  main().catch((e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  });
}
