/**
 * Decode stall: can a few small uploads stall the service for everyone?
 * Against a real `eero serve` process (ResNet bundle, default config): one
 * client (127.0.0.1) sends a Fashion-MNIST PNG every 200 ms while another
 * (127.0.0.2) keeps N decompression bombs in flight (each re-sent as soon as
 * it is answered). Phases: the victim alone; with 1 x 40,000,000 gray PNGs
 * (78 KB, within the pixel limit); with 6000 x 6000 RGB PNGs of zeros (~100 KB,
 * 36 megapixels); then floods that were costly to read on the event loop
 * (support/floods.ts: a v2 JSON of millions of numbers, base64 thick with
 * whitespace, BYTES framing of
 * millions of empty elements, a gRPC ModelInfer of millions of floats, PNG
 * chunks, JPEG markers, AVIF boxes, an upload in one-byte chunks), and requests that each ask for a new
 * routing rule under a made-up API key, or that each carry a short deadline. Reported: the victim's latency (p50, p99,
 * worst) and statuses, the bombs' answers, and the server's CPU seconds beside the wall.
 * Usage: node dist/benchmarks/decode-stall.js [--main [label=]dist/src/cli/main.js ...] [--seconds 15] [--bombs 8]
 *   [--interval 200] [--kinds strip,square,json-numbers,...] [--out benchmarks/results/decode-stall.md] [--cgroup /sys/fs/cgroup/cpu/NAME]
 * --cgroup runs the server alone in that cgroup (created beforehand with a CPU quota: a container's CPU limit).
 * --main (repeatable) measures other builds with the same client (e.g. the commit before the decode pool), phase by phase in turn.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { connect as netConnect } from 'node:net';
import { cpus, loadavg } from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { markdownTable } from '../src/cli/report/tables';
import { credentials, makeGenericClientConstructor, type ServiceError } from '@grpc/grpc-js';
import { avifBoxes, base64Spaces, bytesFraming, oneByteChunks, grpcFloats, jpegMarkers, jsonNumbers, pngChunks } from './support/floods';
import { zeroPng } from './support/png';
import { buildsOf, kindsOf, REPO_ROOT } from './support/options';

interface Reply {
  status: number;
  code: string;
  ms: number;
}

interface Server {
  url: string;
  /** host:port of the gRPC port, when it was asked for. */
  grpc?: string;
  child: ChildProcess;
  stop: () => Promise<void>;
}

function startServer(main: string, cgroup: string | undefined, grpc: boolean): Promise<Server> {
  const cwd = path.resolve(path.dirname(main), '..', '..', '..');
  const args = [main, 'serve', '--port', '0', '--host', '127.0.0.1', ...(grpc ? ['--grpc-port', '0'] : [])];
  // --cgroup: the server alone joins the cgroup (a container's CPU limit) before node starts, so it reads its quota at start-up.
  const child = cgroup
    ? spawn('/bin/sh', ['-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', cgroup, process.execPath, ...args], {
        cwd,
        stdio: ['ignore', 'ignore', 'pipe'],
      })
    : spawn(process.execPath, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${log}`)), 120_000);
    child.stderr?.on('data', (c: Buffer) => {
      log += c.toString();
      const m = /listening on (http:\/\/\S+)/.exec(log);
      const g = /listening for gRPC on (\S+)/.exec(log);
      if (!m?.[1] || (grpc && !g?.[1])) return;
      clearTimeout(timer);
      const stop = (): Promise<void> => new Promise((done) => (child.once('exit', () => done()), child.kill('SIGKILL')));
      resolve({ url: m[1], ...(g?.[1] ? { grpc: g[1] } : {}), child, stop });
    });
    child.once('exit', (code) => reject(new Error(`server exited (${code}):\n${log}`)));
  });
}

/** The CPU limit a cgroup sets, in words (v2 cpu.max or v1 cfs quota / period). */
function cgroupLimit(dir: string): string {
  const read = (f: string): string | undefined =>
    existsSync(path.join(dir, f)) ? readFileSync(path.join(dir, f), 'utf8').trim() : undefined;
  const v2 = read('cpu.max');
  if (v2 !== undefined) return `cpu.max ${v2}`;
  const quota = Number(read('cpu.cfs_quota_us'));
  const period = Number(read('cpu.cfs_period_us'));
  return quota > 0 && period > 0 ? `CPU quota ${(quota / period).toFixed(2)} cores (cfs ${quota} / ${period} us)` : 'no CPU quota';
}

/** User + system CPU seconds of a process so far (Linux /proc). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const IMAGE_PATH = '/v1/classify';

function post(
  url: string,
  agent: Agent,
  body: Buffer,
  at = IMAGE_PATH,
  headers: Record<string, string> = { 'content-type': 'image/png' },
): Promise<Reply> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = request(`${url}${at}`, {
      method: 'POST',
      agent,
      headers: { ...headers, 'content-length': body.length },
    });
    req.setTimeout(60_000, () => req.destroy(new Error('client timeout')));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        let code: string;
        try {
          // v1 errors are {"error": {"code"}}, v2 ones {"error": "CODE: message"}.
          const error = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { error?: { code?: string } | string }).error;
          code = (typeof error === 'string' ? error.split(':')[0] : error?.code) ?? '';
        } catch {
          code = 'not JSON';
        }
        resolve({ status: res.statusCode ?? 0, code, ms: performance.now() - t0 });
      });
    });
    req.on('error', (e) => resolve({ status: 0, code: e.message, ms: performance.now() - t0 }));
    req.end(body);
  });
}

const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;

interface PhaseResult {
  build: string;
  phase: string;
  victim: Reply[];
  bombs: Reply[];
  wall: number;
  cpu: number;
}

function fixtureImages(): Buffer[] {
  const fixtures = path.join(REPO_ROOT, 'models', 'resnet18-fmnist', 'fixtures');
  return readdirSync(fixtures)
    .filter((f) => f.endsWith('.png'))
    .sort()
    .map((f) => readFileSync(path.join(fixtures, f)));
}

/** A bomb's bytes and where they go: an HTTP path with its headers, or the gRPC ModelInfer (the bytes serialized). */
type Load =
  /** `each`: the query and headers of the n-th send, where they change per request (0-based n). */
  | {
      body: Buffer;
      path: string;
      headers: Record<string, string>;
      each?: (n: number) => { query: string; headers: Record<string, string> };
    }
  | { body: Buffer; grpc: true }
  /** A whole HTTP request written as it is on a connection of its own (framing fetch and node:http would not send). */
  | { body: Buffer; raw: true };

interface Bomb {
  name: string;
  make: () => Load | Promise<Load>;
}

const V2_INFER = '/v2/models/resnet18-fmnist/infer';
const image = (type: string, bytes: () => Buffer | Promise<Buffer>) => async (): Promise<Load> => ({
  body: await bytes(),
  path: IMAGE_PATH,
  headers: { 'content-type': type },
});

/**
 * A fixture image asking each time for a routing rule not asked for before, under an API key never
 * sent before: every request would make the service derive a rule on its event loop.
 */
const newRules = (query: (n: number) => string) => (): Load => ({
  body: fixtureImages()[0] as Buffer,
  path: IMAGE_PATH,
  headers: { 'content-type': 'image/png' },
  each: (n) => ({ query: query(n), headers: { 'x-api-key': `made-up-${n}` } }),
});

const BOMBS: Record<string, Bomb> = {
  strip: { name: '1x40000000 gray PNG of zeros', make: image('image/png', () => zeroPng(1, 40_000_000, 0)) },
  square: { name: '6000x6000 RGB PNG of zeros', make: image('image/png', () => zeroPng(6000, 6000, 2)) },
  'json-numbers': {
    name: 'v2 JSON of 2,048,000 numbers',
    make: () => ({ body: jsonNumbers(), path: V2_INFER, headers: { 'content-type': 'application/json' } }),
  },
  'base64-spaces': {
    name: 'v2 JSON image of base64 with a space every 2 characters',
    make: () => ({ body: base64Spaces(), path: V2_INFER, headers: { 'content-type': 'application/json' } }),
  },
  'bytes-framing': {
    name: 'v2 binary BYTES of 5,000,000 empty elements',
    make: () => {
      const { json, body } = bytesFraming();
      return {
        body,
        path: V2_INFER,
        headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(json.length) },
      };
    },
  },
  'grpc-floats': { name: 'gRPC ModelInfer of 4,000,000 fp32_contents', make: () => ({ body: grpcFloats(), grpc: true }) },
  'png-chunks': { name: 'PNG with 1,100,000 empty IDAT chunks', make: image('image/png', pngChunks) },
  'jpeg-markers': { name: 'JPEG with 3,000,000 empty APP2 segments', make: image('image/jpeg', jpegMarkers) },
  'avif-boxes': { name: 'AVIF with 2,400,000 empty boxes', make: image('image/avif', avifBoxes) },
  'chunked-bytes': { name: 'upload in 1,000,000 one-byte chunks', make: () => ({ body: oneByteChunks(1_000_000), raw: true }) },
  'short-deadlines': {
    name: 'a fixture PNG with deadline_ms=20',
    make: () => ({ body: fixtureImages()[0] as Buffer, path: `${IMAGE_PATH}?deadline_ms=20`, headers: { 'content-type': 'image/png' } }),
  },
  'new-certificates': {
    name: 'a new agreement certificate under a new API key per request',
    make: newRules((n) => `?agreement=${(0.95 + (n % 40_000) / 1e6).toFixed(6)}`),
  },
  'new-learned-budgets': {
    name: 'a new score=learned budget under a new API key per request',
    make: newRules((n) => `?score=learned&budget=${(0.2 + (n % 250_000) / 1e6).toFixed(6)}`),
  },
};

/** `request` written on a new connection from 127.0.0.2; the status line and the error code of what comes back. */
function rawPost(url: string, request: Buffer): Promise<Reply> {
  const { hostname, port } = new URL(url);
  const t0 = performance.now();
  return new Promise((resolve) => {
    const socket = netConnect({ host: hostname, port: Number(port), localAddress: '127.0.0.2' });
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      resolve({ status, code: /"code":"(\w+)"/.exec(text)?.[1] ?? (status ? '' : 'closed'), ms: performance.now() - t0 });
    });
    socket.end(request);
  });
}

/** A gRPC client (grpc-js, as existing clients are) whose ModelInfer sends bytes already serialized. */
interface RawInferClient {
  call: (message: Buffer) => Promise<Reply>;
  close: () => void;
}

function rawInferClient(address: string): RawInferClient {
  const Raw = makeGenericClientConstructor(
    {
      ModelInfer: {
        path: '/inference.GRPCInferenceService/ModelInfer',
        requestStream: false,
        responseStream: false,
        requestSerialize: (b: Buffer) => b,
        requestDeserialize: (b: Buffer) => b,
        responseSerialize: (b: Buffer) => b,
        responseDeserialize: (b: Buffer) => b,
      },
    },
    'GRPCInferenceService',
  );
  const client = new Raw(address, credentials.createInsecure(), { 'grpc.max_send_message_length': 64 * 1024 * 1024 });
  const infer = (client as unknown as Record<string, (m: Buffer, cb: (e: ServiceError | null) => void) => void>).ModelInfer as (
    m: Buffer,
    cb: (e: ServiceError | null) => void,
  ) => void;
  return {
    call: (message) => {
      const t0 = performance.now();
      return new Promise((resolve) =>
        infer.call(client, message, (e) =>
          resolve({ status: e ? e.code : 0, code: e ? (e.details.split(':')[0] ?? '') : '', ms: performance.now() - t0 }),
        ),
      );
    },
    close: () => client.close(),
  };
}

/** The bombing client, in a process of its own (its event loop must not delay the victim's): prints its replies as JSON. */
async function bomber(url: string, grpc: string, kind: string, count: number, seconds: number): Promise<void> {
  const load = await (BOMBS[kind] as Bomb).make();
  const agent = new Agent({ keepAlive: true, localAddress: '127.0.0.2', maxSockets: count });
  const grpcClient = 'grpc' in load ? rawInferClient(grpc) : undefined;
  const send = (): Promise<Reply> =>
    'grpc' in load
      ? (grpcClient as RawInferClient).call(load.body)
      : 'raw' in load
        ? rawPost(url, load.body)
        : post(url, agent, load.body, load.path, load.headers);
  const replies: Reply[] = [];
  let sent = 0;
  const sendNext = (): Promise<Reply> => {
    if (!('each' in load) || load.each === undefined) return send();
    const { query, headers } = load.each(sent++);
    return post(url, agent, load.body, load.path + query, { ...load.headers, ...headers });
  };
  const until = performance.now() + seconds * 1000;
  process.stdout.write('started\n');
  await Promise.all(
    Array.from({ length: count }, async () => {
      while (performance.now() < until) replies.push(await sendNext());
    }),
  );
  agent.destroy();
  grpcClient?.close();
  process.stdout.write(JSON.stringify({ bytes: load.body.length, replies }));
}

interface Bombing {
  /** Resolves when the bombs start flying. */
  started: Promise<void>;
  done: Promise<{ bytes: number; replies: Reply[] }>;
}

function startBomber(server: Server, kind: string, o: { seconds: number; bombs: number }): Bombing {
  const child = spawn(process.execPath, [__filename, '--bomber', server.url, server.grpc ?? '', kind, String(o.bombs), String(o.seconds)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  let onStart = (): void => undefined;
  const started = new Promise<void>((resolve) => (onStart = resolve));
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
    if (out.startsWith('started\n')) onStart();
  });
  const done = new Promise<{ bytes: number; replies: Reply[] }>((resolve, reject) => {
    child.once('exit', (code) => {
      onStart();
      if (code === 0) resolve(JSON.parse(out.slice('started\n'.length)) as { bytes: number; replies: Reply[] });
      else reject(new Error(`bomber exited ${code}`));
    });
  });
  return { started, done };
}

async function phase(
  server: Server,
  kind: string | undefined,
  o: { seconds: number; bombs: number; interval: number },
): Promise<Omit<PhaseResult, 'build'>> {
  const images = fixtureImages();
  const agent = new Agent({ keepAlive: true, localAddress: '127.0.0.1' });
  const victim: Reply[] = [];
  const cpu0 = cpuSeconds(server.child.pid as number);
  const bombing = kind === undefined ? undefined : startBomber(server, kind, o);
  // The victim starts 1 s after the bombs and stops 1 s before them: every image it sends meets bombs in flight.
  if (bombing) await bombing.started.then(() => new Promise((r) => setTimeout(r, 1000)));
  const t0 = performance.now();
  const until = t0 + (o.seconds - (bombing ? 2 : 0)) * 1000;
  // The victim: one image every `interval` ms, each sent on time whether or not the last was answered.
  const sends: Array<Promise<void>> = [];
  for (let i = 0; performance.now() < until; i++) {
    sends.push(post(server.url, agent, images[i % images.length] as Buffer).then((r) => void victim.push(r)));
    const next = t0 + (i + 1) * o.interval;
    await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
  }
  await Promise.all(sends);
  const { bytes, replies } = bombing ? await bombing.done : { bytes: 0, replies: [] };
  agent.destroy();
  const name = kind === undefined ? 'victim alone' : `${o.bombs} × ${(BOMBS[kind] as Bomb).name} (${Math.round(bytes / 1024)} KB)`;
  return { phase: name, victim, bombs: replies, wall: (performance.now() - t0) / 1000, cpu: cpuSeconds(server.child.pid as number) - cpu0 };
}

function tally(replies: Reply[]): string {
  const counts = new Map<string, number>();
  for (const r of replies)
    counts.set(`${r.status}${r.code ? ` ${r.code}` : ''}`, (counts.get(`${r.status}${r.code ? ` ${r.code}` : ''}`) ?? 0) + 1);
  return [...counts].map(([k, n]) => `${n} × ${k}`).join(', ') || '–';
}

function row(r: PhaseResult): string[] {
  const v = r.victim.map((x) => x.ms).sort((a, b) => a - b);
  const b = r.bombs.map((x) => x.ms).sort((a, c) => a - c);
  const ms = (x: number): string => (Number.isNaN(x) ? '–' : x.toFixed(x < 100 ? 1 : 0));
  return [
    r.build,
    r.phase,
    String(r.victim.length),
    tally(r.victim),
    ms(pct(v, 0.5)),
    ms(pct(v, 0.99)),
    `**${ms(v[v.length - 1] ?? NaN)}**`,
    String(r.bombs.length),
    tally(r.bombs),
    `${ms(pct(b, 0.5))} / ${ms(b[b.length - 1] ?? NaN)}`,
    `${r.cpu.toFixed(1)} / ${r.wall.toFixed(1)}`,
  ];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      main: { type: 'string', multiple: true, default: [path.join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js')] },
      seconds: { type: 'string', default: '15' },
      bombs: { type: 'string', default: '8' },
      interval: { type: 'string', default: '200' },
      out: { type: 'string', default: path.join(REPO_ROOT, 'benchmarks', 'results', 'decode-stall.md') },
      cgroup: { type: 'string' },
      kinds: { type: 'string', default: Object.keys(BOMBS).join(',') },
    },
  });
  const kinds = kindsOf(values.kinds, BOMBS);
  const o = { seconds: Number(values.seconds), bombs: Number(values.bombs), interval: Number(values.interval) };
  const mains = buildsOf(values.main);
  const results: PhaseResult[] = [];
  for (const kind of [undefined, ...kinds]) {
    for (const main of mains) {
      // A fresh server per phase and build: a phase's leftovers (a decode still running) must not reach the next.
      const server = await startServer(main.file, values.cgroup, kind === 'grpc-floats');
      try {
        results.push({ ...(await phase(server, kind, o)), build: main.label });
        process.stderr.write(`${row(results[results.length - 1] as PhaseResult).join(' | ')}\n`);
      } finally {
        await server.stop();
      }
    }
  }
  const header = [
    'build',
    'phase',
    'victim requests',
    'victim answers',
    'p50 ms',
    'p99 ms',
    'worst ms',
    'bombs sent',
    'bomb answers',
    'bomb ms p50 / worst',
    'server CPU s / wall s',
  ];
  const text = [
    `# Decode stall: bombs in flight against another client`,
    '',
    `\`node dist/benchmarks/decode-stall.js ${values.main.map((m) => `--main ${m}`).join(' ')} --seconds ${o.seconds} --bombs ${o.bombs} --interval ${o.interval} --kinds ${values.kinds}${values.cgroup ? ` --cgroup ${values.cgroup}` : ''}\``,
    `${new Date().toISOString()}; node ${process.version}; ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}); ` +
      `load average ${loadavg()[0]?.toFixed(1)} at the end; \`eero serve\` with the default config (ResNet bundle), a fresh process per phase` +
      (values.cgroup ? `, in cgroup ${values.cgroup} (${cgroupLimit(values.cgroup)}; the clients outside it).` : '.'),
    '',
    `The other client (127.0.0.2, a process of its own) keeps ${o.bombs} bombs in flight for ${o.seconds} s, each re-sent as soon as it is answered; from 1 s after its start until 1 s before its end the victim (127.0.0.1, this process) sends a Fashion-MNIST fixture PNG every ${o.interval} ms. Target: the victim's worst latency under 1.5 s, and a 1 x 40,000,000 bomb answered 4xx.`,
    '',
    markdownTable(header, results.map(row)),
    '',
  ].join('\n');
  writeFileSync(values.out, text);
  process.stdout.write(text);
}

if (require.main === module && process.argv[2] === '--bomber') {
  const [url, grpc, kind, count, seconds] = process.argv.slice(3);
  bomber(url as string, grpc as string, kind as string, Number(count), Number(seconds)).catch((e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  });
} else if (require.main === module) {
  main().catch((e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  });
}
