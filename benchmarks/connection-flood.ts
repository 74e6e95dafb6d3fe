/**
 * Connection floods: can connections that send nothing, or their request head a line at a time, keep
 * the service from accepting anyone else? Against a real `eero serve` process (ResNet bundle, default
 * config, `--grpc-port` on), one child process per attacking address (127.0.0.2, 127.0.0.3) opens
 * --connections connections to the HTTP or the gRPC port and holds them; from 2 s after they start, a
 * client on 127.0.0.1 posts a Fashion-MNIST PNG on a new HTTP connection every 200 ms (5 s limit).
 * Reported: that client's answers and latency, and the most file descriptors the server held.
 * Usage: node dist/benchmarks/connection-flood.js [--main [label=]dist/src/cli/main.js ...] [--connections 10500]
 *   [--seconds 12] [--kinds http-slow-head,grpc-silent] [--out benchmarks/results/connection-flood.md]
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { cpus, loadavg } from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { markdownTable } from '../src/cli/report/tables';
import { buildsOf, kindsOf, REPO_ROOT } from './support/options';

const ATTACKERS = ['127.0.0.2', '127.0.0.3'];
const KINDS = {
  'http-slow-head': 'HTTP: a request head, one more header line every 3 s',
  'grpc-silent': 'gRPC port: nothing sent at all',
} as const;
type Kind = keyof typeof KINDS;

interface Reply {
  status: string;
  ms: number;
}

interface Server {
  pid: number;
  http: number;
  grpc: number;
  stop(): void;
}

/** `node <main> serve` with gRPC on, on ephemeral ports read from its log. */
function startServer(main: string): Promise<Server> {
  const child = spawn(process.execPath, [main, 'serve', '--port', '0', '--grpc-port', '0', '--host', '127.0.0.1'], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  return new Promise((resolve, reject) => {
    child.stderr.on('data', (c: Buffer) => {
      log += c.toString();
      const http = /listening on http:\/\/[^:]+:(\d+)/.exec(log)?.[1];
      const grpc = /gRPC[^\n]*?:(\d+)\b/.exec(log)?.[1];
      if (http === undefined || grpc === undefined || child.pid === undefined) return;
      resolve({ pid: child.pid, http: Number(http), grpc: Number(grpc), stop: () => child.kill('SIGKILL') });
    });
    child.once('exit', (code) => reject(new Error(`server exited (${code}):\n${log}`)));
  });
}

function openDescriptors(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return NaN;
  }
}

/** The attacking side, in a process of its own per address: opens `count` connections and holds them for `seconds`. */
async function attacker(address: string, port: number, kind: Kind, count: number, seconds: number): Promise<void> {
  const sockets: Socket[] = [];
  for (let i = 0; i < count; i++) {
    const socket = connect({ host: '127.0.0.1', port, localAddress: address });
    socket.on('error', () => undefined);
    if (kind === 'http-slow-head') socket.on('connect', () => socket.write('POST /v1/classify HTTP/1.1\r\nHost: x\r\n'));
    sockets.push(socket);
    // A pause now and then, so that the listener's backlog is not what refuses them.
    if (i % 200 === 0) await new Promise((r) => setTimeout(r, 5));
  }
  const drip = setInterval(() => {
    if (kind === 'http-slow-head') for (const s of sockets) if (!s.destroyed) s.write('X-A: b\r\n');
  }, 3000);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  clearInterval(drip);
  process.stdout.write(JSON.stringify({ closed: sockets.filter((s) => s.destroyed).length }));
  process.exit(0);
}

function post(port: number, body: Buffer): Promise<Reply> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/v1/classify',
        method: 'POST',
        agent: false,
        timeout: 5000,
        headers: { 'content-type': 'image/png' },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: String(res.statusCode), ms: performance.now() - t0 }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('TIMEOUT')));
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ status: e.code ?? e.message, ms: performance.now() - t0 }));
    req.end(body);
  });
}

interface Row {
  build: string;
  kind: string;
  victim: Reply[];
  maxDescriptors: number;
  closedByServer: number;
}

async function phase(build: string, main: string, kind: Kind, connections: number, seconds: number): Promise<Row> {
  const server = await startServer(main);
  try {
    const port = kind === 'grpc-silent' ? server.grpc : server.http;
    const children = ATTACKERS.map((address) =>
      spawn(process.execPath, [__filename, '--attacker', address, String(port), kind, String(connections), String(seconds)], {
        stdio: ['ignore', 'pipe', 'inherit'],
      }),
    );
    const outputs = children.map(
      (child) =>
        new Promise<{ closed: number }>((resolve) => {
          let out = '';
          child.stdout.on('data', (c: Buffer) => (out += c.toString()));
          child.once('exit', () => resolve(out ? (JSON.parse(out) as { closed: number }) : { closed: NaN }));
        }),
    );
    const png = readFileSync(path.join(REPO_ROOT, 'models', 'resnet18-fmnist', 'fixtures', '00.png'));
    await new Promise((r) => setTimeout(r, 2000));
    const victim: Reply[] = [];
    let maxDescriptors = 0;
    const until = performance.now() + (seconds - 3) * 1000;
    while (performance.now() < until) {
      maxDescriptors = Math.max(maxDescriptors, openDescriptors(server.pid));
      victim.push(await post(server.http, png));
      await new Promise((r) => setTimeout(r, 200));
    }
    const closed = (await Promise.all(outputs)).reduce((a, o) => a + o.closed, 0);
    return { build, kind: KINDS[kind], victim, maxDescriptors, closedByServer: closed };
  } finally {
    server.stop();
  }
}

function summary(rows: Row[], connections: number): string[][] {
  return rows.map((r) => {
    const statuses = new Map<string, number>();
    for (const v of r.victim) statuses.set(v.status, (statuses.get(v.status) ?? 0) + 1);
    const ms = r.victim.map((v) => v.ms).sort((a, b) => a - b);
    const at = (q: number): string => (ms[Math.min(ms.length - 1, Math.floor(q * ms.length))] ?? NaN).toFixed(1);
    return [
      r.build,
      `${ATTACKERS.length} x ${connections}: ${r.kind}`,
      [...statuses].map(([s, n]) => `${n} x ${s}`).join(', '),
      at(0.5),
      at(1),
      String(r.maxDescriptors),
      String(r.closedByServer),
    ];
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      main: { type: 'string', multiple: true, default: [path.join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js')] },
      connections: { type: 'string', default: '10500' },
      seconds: { type: 'string', default: '12' },
      kinds: { type: 'string', default: Object.keys(KINDS).join(',') },
      out: { type: 'string', default: path.join(REPO_ROOT, 'benchmarks', 'results', 'connection-flood.md') },
    },
  });
  const kinds = kindsOf(values.kinds, KINDS);
  const builds = buildsOf(values.main);
  const connections = Number(values.connections);
  const seconds = Number(values.seconds);
  const rows: Row[] = [];
  for (const kind of kinds) for (const b of builds) rows.push(await phase(b.label, b.file, kind, connections, seconds));
  const report = [
    '# Connection floods against another client',
    '',
    `\`node dist/benchmarks/connection-flood.js ${values.main.map((m) => `--main ${m}`).join(' ')} --connections ${connections} --seconds ${seconds} --kinds ${values.kinds}\``,
    `${new Date().toISOString()}; node ${process.version}; ${cpus().length} cores; load average ${loadavg()[0]?.toFixed(1)} at the end; each process may hold as many descriptors as \`ulimit -n\` allows.`,
    '',
    `Each attacking address (${ATTACKERS.join(', ')}, a process each) holds its connections for ${seconds} s; from 2 s in, a client on 127.0.0.1 posts a fixture PNG on a new HTTP connection every 200 ms (5 s limit; \`ECONNRESET\` and the like are connections refused or dropped).`,
    '',
    markdownTable(
      ['build', 'flood', 'other client answers', 'p50 ms', 'worst ms', 'server descriptors (most)', 'flood connections the server closed'],
      summary(rows, connections),
    ),
    '',
  ].join('\n');
  writeFileSync(values.out, report);
  process.stdout.write(report);
}

if (process.argv[2] === '--attacker') {
  const [address, port, kind, count, seconds] = process.argv.slice(3);
  void attacker(address as string, Number(port), kind as Kind, Number(count), Number(seconds));
} else {
  main().catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  });
}
