/**
 * Deadlines as a latency bound, against real `eero serve` processes (default config: budget 0.5,
 * ledger on, maxBatch 32, maxWaitMs 0) on loopback, one raw PNG per request, hard images only
 * (Fashion-MNIST test "Shirt", the class the exits find hardest). Both builds (this checkout, and
 * with --base another build, e.g. main's) serve at once and take turns in short slices (ABBA), so
 * that the shared machine's drift falls on both: capacity first (32 clients in a closed loop, no
 * deadline; the median of 4 s windows), then a steady open loop at --load x that capacity with
 * deadline_ms (after 2 s per build not counted), then bursts of --burst requests at once with deadline_ms. Latency is the client's,
 * from send to the last byte. Not a test.
 * Usage: npm run build && node dist/benchmarks/deadline.js [--base ../main/dist/src/cli/main.js] [--rounds 4] [--new-connections]
 *        [--slice 5] [--deadline 50] [--load 0.75] [--burst 40] [--photo 224] [--out benchmarks/results/deadline-run.md]
 * --photo N: the images as N x N JPEGs (decoded and resized by sharp) instead of 28 x 28 PNGs.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, getPriority, loadavg } from 'node:os';
import type { Agent } from 'node:http';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { markdownTable } from '../src/cli/report/tables';
import { FMNIST_DIR, readIdx } from './fmnist-pngs';
import {
  bursts,
  closedLoop,
  createAgent,
  openLoop,
  postImage,
  processCpuSeconds,
  startServer,
  type Reply,
  type ServerProcess,
} from './support/http-client';
import { HEAD, merged, perSlice, quantile, row, type Phase } from './support/latency-table';
import { grayPng } from './support/png';
import { REPO_ROOT } from './support/options';

const SHIRT = 6;

interface Build {
  name: string;
  main: string;
  server?: ServerProcess;
}

function hardImages(count: number): Buffer[] {
  const images = readIdx(path.join(FMNIST_DIR, 't10k-images-idx3-ubyte.gz'));
  const labels = readIdx(path.join(FMNIST_DIR, 't10k-labels-idx1-ubyte.gz'));
  const [h, w] = [images.dims[1] as number, images.dims[2] as number];
  const out: Buffer[] = [];
  for (let i = 0; i < labels.data.length && out.length < count; i++) {
    if (labels.data[i] === SHIRT) out.push(grayPng(images.data.subarray(i * h * w, (i + 1) * h * w), w, h));
  }
  return out;
}

/**
 * The images as photos a client would send: `side` x `side` sRGB JPEGs (quality 85). Small PNGs take
 * the decoder's fast path; these go through sharp's decode and resize on its thread pool, and the
 * decode, not the engine, then sets the service's capacity.
 */
function asPhotos(pngs: readonly Buffer[], side: number): Promise<Buffer[]> {
  return Promise.all(pngs.map((png) => sharp(png).resize(side, side).toColourspace('srgb').jpeg({ quality: 85 }).toBuffer()));
}

/** The scheduler group's nice value (Linux autogroups: CPU is shared between groups first), for the record. */
function autogroup(): string {
  try {
    return readFileSync('/proc/self/autogroup', 'utf8').trim();
  } catch {
    return 'no autogroup';
  }
}

async function deadlineCounters(url: string): Promise<{ met: number; missed: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const read = (result: string): number =>
    Number(new RegExp(`^eero_deadline_outcomes_total\\{[^}]*result="${result}"[^}]*\\} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return { met: read('met'), missed: read('missed') };
}

/** One phase on one build: load average and the server's CPU around it, and the service's own deadline counters. */
async function phase(
  b: Build,
  round: number,
  run: () => Promise<{ replies: Reply[]; sendLagMs?: number[] }>,
  rate?: number,
): Promise<Phase> {
  const server = b.server as ServerProcess;
  const before = await deadlineCounters(server.url);
  const [load0, cpu0, t0] = [loadavg()[0] as number, processCpuSeconds(server.pid), performance.now()];
  const { replies, sendLagMs } = await run();
  const [load1, cpu1, wallS] = [loadavg()[0] as number, processCpuSeconds(server.pid), (performance.now() - t0) / 1000];
  const after = await deadlineCounters(server.url);
  const metric = Number.isNaN(after.met) ? undefined : { met: after.met - before.met, missed: after.missed - before.missed };
  return {
    build: b.name,
    round,
    replies,
    ...(rate === undefined ? {} : { rate }),
    ...(sendLagMs ? { sendLagP99: quantile(sendLagMs, 0.99) } : {}),
    load: [load0, load1],
    serverCpu: cpu1 - cpu0,
    wallS,
    ...(metric ? { metric } : {}),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      base: { type: 'string' },
      rounds: { type: 'string', default: '4' },
      slice: { type: 'string', default: '5' },
      deadline: { type: 'string', default: '50' },
      load: { type: 'string', default: '0.75' },
      burst: { type: 'string', default: '40' },
      'new-connections': { type: 'boolean', default: false },
      photo: { type: 'string' },
      out: { type: 'string', default: path.join(REPO_ROOT, 'benchmarks', 'results', 'deadline-run.md') },
    },
  });
  const [rounds, slice, deadline, load, burst] = [values.rounds, values.slice, values.deadline, values.load, values.burst].map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const builds: Build[] = [{ name: 'this', main: path.join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js') }];
  if (values.base) builds.push({ name: 'base', main: path.resolve(values.base) });
  const photo = values.photo === undefined ? undefined : Number(values.photo);
  if (photo !== undefined && !(Number.isInteger(photo) && photo >= 28))
    throw new Error(`--photo: a side of at least 28 pixels, got ${values.photo}`);
  const images = photo === undefined ? hardImages(256) : await asPhotos(hardImages(256), photo);
  const type = photo === undefined ? 'image/png' : 'image/jpeg';
  const post = (a: Agent | false, u: string, body: Buffer): Promise<Reply> => postImage(a, u, body, type);
  // --new-connections: every request on a connection of its own (a client without keep-alive), capacity included.
  const agent = values['new-connections'] ? false : createAgent();
  const capacity: string[][] = [];
  const steady: Phase[] = [];
  const burstPhases: Phase[] = [];
  // Builds take turns, the first one alternating (ABBA...), so that drift on the shared machine falls on all.
  const turn = (r: number): Build[] => (r % 2 === 0 ? builds : [...builds].reverse());
  const url = (b: Build, query = ''): string => `${(b.server as ServerProcess).url}/v1/classify${query}`;
  try {
    for (const b of builds) b.server = await startServer(b.main);
    const caps: number[] = [];
    for (const b of builds) await closedLoop((i) => post(agent, url(b), images[i % images.length] as Buffer), 32, 2);
    for (let r = 0; r < 3; r++) {
      for (const b of turn(r)) {
        const c = await closedLoop((i) => post(agent, url(b), images[i % images.length] as Buffer), 32, 4);
        caps.push(c);
        capacity.push([b.name, String(r + 1), c.toFixed(0), (loadavg()[0] as number).toFixed(1)]);
      }
    }
    const rate = load * quantile(caps, 0.5);
    const query = `?deadline_ms=${deadline}`;
    // A slice of 2 s per build first, not counted: the first slice after the closed loop suffered in trial runs (the client's heap, idle sockets).
    for (const b of builds) await openLoop((i) => post(agent, url(b, query), images[i % images.length] as Buffer), rate, 2);
    for (let r = 0; r < rounds; r++) {
      for (const b of turn(r)) {
        const send = (i: number): Promise<Reply> => post(agent, url(b, query), images[i % images.length] as Buffer);
        steady.push(await phase(b, r + 1, () => openLoop(send, rate, slice), rate));
      }
    }
    for (let r = 0; r < 2 * 5; r++) {
      for (const b of turn(r)) {
        const send = (i: number): Promise<Reply> => post(agent, url(b, query), images[i % images.length] as Buffer);
        burstPhases.push(await phase(b, r + 1, async () => ({ replies: await bursts(send, burst, 1, 1000) })));
      }
    }
    process.stderr.write(
      `capacity (median of ${caps.length} windows) ${quantile(caps, 0.5).toFixed(0)} answers/s; steady at ${rate.toFixed(0)} req/s\n`,
    );
  } finally {
    await Promise.all(builds.flatMap((b) => (b.server ? [b.server.stop()] : [])));
    if (agent) agent.destroy();
  }
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const names = builds.map((b) => b.name);
  const text = [
    `# Deadline run (${new Date().toISOString()})`,
    '',
    `${availableParallelism()} cores (${cpu}), node ${process.version}, nice ${getPriority()}, ${autogroup()} (the servers inherit both); builds: ${builds.map((b) => `${b.name} = ${b.main}`).join('; ')}.`,
    `Images: ${photo === undefined ? 'the 28 x 28 PNGs' : `${photo} x ${photo} sRGB JPEGs (the same images upscaled: sharp decodes and resizes each one)`}. Deadline D = ${deadline} ms. Steady: ${load} x the median capacity, ${rounds} slices of ${slice} s per build, builds taking turns (ABBA). Bursts: ${burst} requests at once, 10 per build, taking turns, 1 s apart. Connections: ${agent ? 'kept alive (one agent, up to 256 sockets)' : 'a new one for every request (no keep-alive)'}.`,
    '',
    '## Capacity (32 clients, closed loop, no deadline, windows of 4 s taking turns)',
    '',
    markdownTable(['build', 'window', 'answers/s', 'load avg (1 min)'], capacity),
    '',
    `## Steady open loop, deadline_ms=${deadline}`,
    '',
    markdownTable(
      HEAD,
      names.map((n) => row(merged(n, steady), deadline)),
    ),
    '',
    `Within D, slice by slice: ${names.map((n) => perSlice(n, steady, deadline)).join('; ')}.`,
    '',
    `## Bursts of ${burst}, deadline_ms=${deadline}`,
    '',
    markdownTable(
      HEAD,
      names.map((n) => row(merged(n, burstPhases), deadline)),
    ),
    '',
  ].join('\n');
  writeFileSync(values.out, text);
  process.stdout.write(text);
}

if (require.main === module) {
  main().catch((e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  });
}
