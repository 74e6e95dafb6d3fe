/**
 * The Open Inference Protocol's three ways in, against one `eero serve`
 * (a child process, so that its CPU time is its own): REST with JSON (the
 * image base64 in the body), REST with Triton's binary tensor extension, and
 * gRPC (raw_input_contents on one HTTP/2 connection, sent by grpc-js stubs
 * and by a minimal load client, since the client shares the machine). One
 * fixture PNG per request, model resnet18-fmnist at budget 0.5 with the
 * ledger on. At 1, 16 and 64 concurrent clients, for `--seconds` each, the
 * variants take turns (the first one rotates per repetition) so that drift on a
 * shared machine hits all alike. Server and client CPU time per request
 * beside wall time. Not a test.
 * Usage: npm run build && node dist/benchmarks/protocols.js [--seconds 5] [--reps 2] [--out benchmarks/results/protocols.md]
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { connect as connectHttp2, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import { availableParallelism, cpus, loadavg } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { credentials, loadPackageDefinition, type Client, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { markdownTable } from '../src/cli/report/tables';
import { REPO_ROOT } from './support/options';
import { writeOutput } from './support/report';

const CLIENTS = [1, 16, 64];
const MODEL = 'resnet18-fmnist';
const TRANSPORTS = ['REST JSON', 'REST binary', 'gRPC (grpc-js client)', 'gRPC (HTTP/2 load client)'] as const;
type Transport = (typeof TRANSPORTS)[number];

interface Cell {
  transport: Transport;
  clients: number;
  requests: number;
  failures: number;
  wallSeconds: number;
  latenciesMs: number[];
  serverCpuSeconds: number;
  clientCpuSeconds: number;
}

/** The server's user + system CPU seconds so far (Linux /proc). */
function processCpuSeconds(pid: number, ticks: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  // After "pid (comm) ": state is field 3, utime 14, stime 15 (1-based), i.e. indexes 11 and 12 here.
  return (Number(fields[11]) + Number(fields[12])) / ticks;
}

function clientCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

async function startServer(): Promise<{ child: ChildProcess; http: string; grpc: string }> {
  const child = spawn(
    process.execPath,
    [
      path.join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js'),
      'serve',
      '--port',
      '0',
      '--grpc-port',
      '0',
      '--host',
      '127.0.0.1',
      '--budget',
      '0.5',
    ],
    { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`eero serve exited (${code}):\n${log}`)));
    child.stderr?.on('data', (c: Buffer) => {
      log += c.toString();
      const http = /listening on (http:\/\/\S+)/.exec(log)?.[1];
      const grpc = /listening for gRPC on (\S+)/.exec(log)?.[1];
      if (http && grpc) resolve({ child, http, grpc });
    });
  });
}

/** Sends request `i` (bodies are built once, per fixture, as a load tool does: the clients' cost is the transport's). */
type Send = (i: number) => Promise<void>;

function lengthPrefixed(image: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32LE(image.length);
  return Buffer.concat([length, image]);
}

function restSender(base: string, agent: Agent, images: Buffer[], binary: boolean): Send {
  const url = new URL(`${base}/v2/models/${MODEL}/infer`);
  const requests = images.map((image) => {
    if (!binary) {
      const body = Buffer.from(
        JSON.stringify({ inputs: [{ name: 'image', datatype: 'BYTES', shape: [1], data: [image.toString('base64')] }] }),
      );
      return { body, headers: { 'Content-Type': 'application/json', 'Content-Length': body.length } };
    }
    const data = lengthPrefixed(image);
    const json = Buffer.from(
      JSON.stringify({ inputs: [{ name: 'image', datatype: 'BYTES', shape: [1], parameters: { binary_data_size: data.length } }] }),
    );
    const body = Buffer.concat([json, data]);
    return {
      body,
      headers: {
        'Content-Type': 'application/octet-stream',
        'Inference-Header-Content-Length': json.length,
        'Content-Length': body.length,
      },
    };
  });
  return (i) => {
    const { body, headers } = requests[i % requests.length] as (typeof requests)[number];
    return new Promise((resolve, reject) => {
      const req = httpRequest(url, { method: 'POST', agent, headers }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
      });
      req.on('error', reject);
      req.end(body);
    });
  };
}

type InferenceClient = Client & {
  ModelInfer(request: unknown, callback: (e: ServiceError | null) => void): void;
};
type InferenceService = (new (address: string, creds: ReturnType<typeof credentials.createInsecure>) => InferenceClient) & {
  service: { ModelInfer: { requestSerialize(request: unknown): Buffer } };
};

function inferRequest(image: Buffer): Record<string, unknown> {
  return { model_name: MODEL, inputs: [{ name: 'image', datatype: 'BYTES', shape: [1] }], raw_input_contents: [lengthPrefixed(image)] };
}

/** tritonclient-like: grpc-js with the stubs from the spec's .proto, one channel. */
function grpcJsSender(client: InferenceClient, images: Buffer[]): Send {
  const requests = images.map(inferRequest);
  return (i) => new Promise((resolve, reject) => client.ModelInfer(requests[i % requests.length], (e) => (e ? reject(e) : resolve())));
}

/** h2load/ghz-like: the message encoded once, each call one HTTP/2 stream on one session, grpc-status read from the trailers. */
function h2Sender(session: ClientHttp2Session, Service: InferenceService, images: Buffer[]): Send {
  const frames = images.map((image) => {
    const message = Service.service.ModelInfer.requestSerialize(inferRequest(image));
    const head = Buffer.alloc(5);
    head.writeUInt32BE(message.length, 1);
    return Buffer.concat([head, message]);
  });
  const headers = {
    ':method': 'POST',
    ':path': '/inference.GRPCInferenceService/ModelInfer',
    'content-type': 'application/grpc',
    te: 'trailers',
  };
  return (i) =>
    new Promise((resolve, reject) => {
      const req = session.request(headers);
      let status: unknown;
      req.on('response', (h: IncomingHttpHeaders) => (status = h['grpc-status'] ?? status));
      req.on('trailers', (t: IncomingHttpHeaders) => (status = t['grpc-status']));
      req.on('data', () => undefined);
      req.on('end', () => (status === '0' ? resolve() : reject(new Error(`grpc-status ${String(status)}`))));
      req.on('error', reject);
      req.end(frames[i % frames.length]);
    });
}

async function measure(
  transport: Transport,
  send: Send,
  clients: number,
  seconds: number,
  server: ChildProcess,
  ticks: number,
): Promise<Cell> {
  const latenciesMs: number[] = [];
  let failures = 0;
  let next = 0;
  const cpu0 = [processCpuSeconds(server.pid as number, ticks), clientCpuSeconds()];
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < end) {
        const i = next++;
        const start = performance.now();
        try {
          await send(i);
          latenciesMs.push(performance.now() - start);
        } catch {
          failures++;
        }
      }
    }),
  );
  const wallSeconds = (performance.now() - t0) / 1000;
  return {
    transport,
    clients,
    requests: latenciesMs.length,
    failures,
    wallSeconds,
    latenciesMs,
    serverCpuSeconds: processCpuSeconds(server.pid as number, ticks) - (cpu0[0] as number),
    clientCpuSeconds: clientCpuSeconds() - (cpu0[1] as number),
  };
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] as number;
}

function summarise(
  cells: Cell[],
  transport: Transport,
  clients: number,
): { rps: number; p50: number; p99: number; server: number; client: number; failures: number } {
  const mine = cells.filter((c) => c.transport === transport && c.clients === clients);
  const requests = mine.reduce((s, c) => s + c.requests, 0);
  const sorted = mine.flatMap((c) => c.latenciesMs).sort((a, b) => a - b);
  return {
    rps: requests / mine.reduce((s, c) => s + c.wallSeconds, 0),
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    server: (1000 * mine.reduce((s, c) => s + c.serverCpuSeconds, 0)) / requests,
    client: (1000 * mine.reduce((s, c) => s + c.clientCpuSeconds, 0)) / requests,
    failures: mine.reduce((s, c) => s + c.failures, 0),
  };
}

function report(cells: Cell[], seconds: number, reps: number, load: number): string {
  const rows = CLIENTS.flatMap((n) =>
    TRANSPORTS.map((t) => {
      const s = summarise(cells, t, n);
      return [n, t, +s.rps.toFixed(0), +s.p50.toFixed(1), +s.p99.toFixed(1), +s.server.toFixed(2), +s.client.toFixed(2), s.failures];
    }),
  );
  const at64 = Object.fromEntries(TRANSPORTS.map((t) => [t, summarise(cells, t, 64)])) as Record<Transport, ReturnType<typeof summarise>>;
  const verdict = (grpc: Transport, rest: Transport): string => {
    const [g, r] = [at64[grpc], at64[rest]];
    return (
      `${grpc} / ${rest} at 64 clients: req/s x${(g.rps / r.rps).toFixed(2)}, p99 x${(g.p99 / r.p99).toFixed(2)} ` +
      `(target req/s >= 1 and p99 <= 1: ${g.rps >= r.rps && g.p99 <= r.p99 ? 'met' : 'NOT met'})`
    );
  };
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return [
    '# Open Inference Protocol: REST JSON vs REST binary vs gRPC',
    '',
    `${new Date().toISOString()}; node ${process.version}; ${availableParallelism()} cores (${cpu}); \`eero serve\` in a child process ` +
      `(model ${MODEL}, budget 0.5, ledger on, default batching: maxBatch 32, maxWaitMs 0), load generated in this process;`,
    `one fixture PNG (28x28 gray) per request; ${seconds} s per cell, ${reps} repetition(s), the four variants taking turns at each client count;`,
    'REST over keep-alive HTTP/1.1 (one connection per client, node:http); gRPC over one HTTP/2 connection, either with grpc-js and stubs',
    "loaded from the protocol's .proto (proto/inference.proto, as a Node client does), or as a load tool (h2load, ghz) does: the message encoded once,",
    'one node:http2 stream per call. Request bodies are built once per fixture for every transport, so the client cost is the transport.',
    `1-minute load average before the run: ${load.toFixed(2)} (other jobs on the machine skew absolute numbers; compare within a client count).`,
    '',
    'CPU ms/request: the server process (user + system, /proc) and this client process, over the cells of that row.',
    '',
    markdownTable(['clients', 'transport', 'req/s', 'p50 ms', 'p99 ms', 'server CPU ms/req', 'client CPU ms/req', 'failures'], rows),
    '',
    ...(['gRPC (grpc-js client)', 'gRPC (HTTP/2 load client)'] as const).flatMap((g) =>
      (['REST JSON', 'REST binary'] as const).map((r) => `- ${verdict(g, r)}`),
    ),
  ].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '5' },
      reps: { type: 'string', default: '2' },
      out: { type: 'string', default: path.join(REPO_ROOT, 'benchmarks', 'results', 'protocols.md') },
    },
  });
  const seconds = Number(values.seconds);
  const reps = Number(values.reps);
  const ticks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  const dir = path.join(REPO_ROOT, 'models', MODEL, 'fixtures');
  const images = readdirSync(dir)
    .filter((f) => f.endsWith('.png'))
    .sort()
    .map((f) => readFileSync(path.join(dir, f)));
  const load = loadavg()[0] ?? 0;
  const server = await startServer();
  const agent = new Agent({ keepAlive: true, maxSockets: Math.max(...CLIENTS) });
  const proto = loadPackageDefinition(
    loadSync(path.join(REPO_ROOT, 'proto', 'inference.proto'), { keepCase: true, longs: Number, defaults: true }),
  ) as unknown as { inference: { GRPCInferenceService: InferenceService } };
  const Service = proto.inference.GRPCInferenceService;
  const grpc = new Service(server.grpc, credentials.createInsecure());
  const session = connectHttp2(`http://${server.grpc}`);
  const senders: Record<Transport, Send> = {
    'REST JSON': restSender(server.http, agent, images, false),
    'REST binary': restSender(server.http, agent, images, true),
    'gRPC (grpc-js client)': grpcJsSender(grpc, images),
    'gRPC (HTTP/2 load client)': h2Sender(session, Service, images),
  };
  const cells: Cell[] = [];
  try {
    for (const t of TRANSPORTS) await measure(t, senders[t], 8, 1, server.child, ticks);
    for (let r = 0; r < reps; r++) {
      for (const [i, n] of CLIENTS.entries()) {
        const k = (i + r) % TRANSPORTS.length;
        for (const t of [...TRANSPORTS.slice(k), ...TRANSPORTS.slice(0, k)]) {
          // Fresh connections per cell: a keep-alive socket the server closed while idle would fail the first request.
          agent.destroy();
          const cell = await measure(t, senders[t], n, seconds, server.child, ticks);
          cells.push(cell);
          process.stderr.write(`${t}, ${n} clients: ${(cell.requests / cell.wallSeconds).toFixed(0)} req/s, ${cell.failures} failures\n`);
        }
      }
    }
  } finally {
    grpc.close();
    session.close();
    agent.destroy();
    server.child.kill('SIGTERM');
  }
  const text = report(cells, seconds, reps, load);
  process.stdout.write(`${text}\n`);
  writeOutput(path.dirname(values.out), path.basename(values.out), text);
}

if (require.main === module) {
  main().catch((e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  });
}
