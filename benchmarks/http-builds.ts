/**
 * HTTP load, this build against another (e.g. main before a change): each build's own `eero serve`
 * process (default config: budget 0.5, ledger on, maxBatch 32, maxWaitMs 0) on loopback, autocannon
 * at --connections (64) posting the bundle's fixture PNGs to /v1/classify. The builds take turns in
 * slices of --seconds, in reverse order every other round (ABBA), so that the shared machine's drift
 * falls on both; each server's CPU is read from /proc around its slices. Not a test.
 * Usage: npm run build && node dist/benchmarks/http-builds.js --base ../before/dist/src/cli/main.js
 *        [--base-name "main at abc1234"] [--connections 64] [--seconds 10] [--rounds 3] [--out benchmarks/results/http-builds.md]
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { markdownTable } from '../src/cli/report/tables';
import { median } from './support/format';
import { processCpuSeconds, startServer, type ServerProcess } from './support/http-client';
import { REPO_ROOT } from './support/options';

interface Slice {
  build: string;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  failed: number;
  cpuCores: number;
}

async function slice(name: string, server: ServerProcess, connections: number, seconds: number, bodies: Buffer[]): Promise<Slice> {
  const cpu0 = processCpuSeconds(server.pid);
  const t0 = performance.now();
  const r = await autocannon({
    url: `${server.url}/v1/classify`,
    connections,
    duration: seconds,
    requests: bodies.map((body) => ({ method: 'POST', path: '/v1/classify', body, headers: { 'content-type': 'image/png' } })),
  });
  const wallS = (performance.now() - t0) / 1000;
  return {
    build: name,
    requestsPerSecond: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    failed: r.non2xx + r.errors + r.timeouts,
    cpuCores: (processCpuSeconds(server.pid) - cpu0) / wallS,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      base: { type: 'string' },
      'base-name': { type: 'string' },
      connections: { type: 'string', default: '64' },
      seconds: { type: 'string', default: '10' },
      rounds: { type: 'string', default: '3' },
      out: { type: 'string', default: path.join(REPO_ROOT, 'benchmarks', 'results', 'http-builds.md') },
    },
  });
  if (values.base === undefined) throw new Error('--base <other build>/dist/src/cli/main.js is needed');
  const [connections, seconds, rounds] = [Number(values.connections), Number(values.seconds), Number(values.rounds)];
  const dir = path.join(REPO_ROOT, 'models', 'resnet18-fmnist', 'fixtures');
  const bodies = readdirSync(dir)
    .filter((f) => f.endsWith('.png'))
    .sort()
    .map((f) => readFileSync(path.join(dir, f)));
  const builds: Array<[string, ServerProcess]> = [
    ['this', await startServer(path.join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js'))],
    ['base', await startServer(path.resolve(values.base))],
  ];
  const slices: Slice[] = [];
  const load0 = loadavg()[0] ?? 0;
  try {
    for (const [name, s] of builds) await slice(name, s, connections, 2, bodies); // warm-up, not counted
    for (let r = 0; r < rounds; r++) {
      for (const [name, s] of r % 2 === 0 ? builds : [...builds].reverse()) {
        const x = await slice(name, s, connections, seconds, bodies);
        slices.push(x);
        process.stderr.write(
          `round ${r + 1}, ${name}: ${x.requestsPerSecond.toFixed(0)} req/s, p50 ${x.p50} ms, p99 ${x.p99} ms, ${x.cpuCores.toFixed(2)} cores\n`,
        );
      }
    }
  } finally {
    for (const [, s] of builds) await s.stop();
  }
  const rows = builds.map(([name]) => {
    const mine = slices.filter((x) => x.build === name);
    return [
      name,
      mine.length,
      +median(mine.map((x) => x.requestsPerSecond)).toFixed(0),
      +median(mine.map((x) => x.p50)).toFixed(1),
      +median(mine.map((x) => x.p99)).toFixed(1),
      +median(mine.map((x) => x.cpuCores)).toFixed(2),
      mine.reduce((s, x) => s + x.failed, 0),
    ];
  });
  const text = [
    `# HTTP at ${connections} connections: this build against ${values['base-name'] ?? values.base}`,
    '',
    `${new Date().toISOString()}; node ${process.version}; ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown CPU'}); ` +
      `\`eero serve\` with the default config (resnet18-fmnist, budget 0.5, ledger on) per build, autocannon on loopback posting the ` +
      `bundle's fixture PNGs; ${rounds} round(s) of ${seconds} s per build, ABBA; medians over the slices; client and servers share ` +
      `the machine; 1-minute load average at the start ${load0.toFixed(2)}, at the end ${(loadavg()[0] ?? 0).toFixed(2)}.`,
    '',
    markdownTable(['build', 'slices', 'req/s', 'p50 ms', 'p99 ms', 'server CPU (cores)', 'non-2xx + errors'], rows),
    '',
    markdownTable(
      ['round', 'build', 'req/s', 'p50 ms', 'p99 ms', 'server CPU (cores)'],
      slices.map((x, i) => [Math.floor(i / 2) + 1, x.build, +x.requestsPerSecond.toFixed(0), x.p50, x.p99, +x.cpuCores.toFixed(2)]),
    ),
  ].join('\n');
  process.stdout.write(`${text}\n`);
  writeFileSync(values.out, `${text}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exitCode = 1;
});
