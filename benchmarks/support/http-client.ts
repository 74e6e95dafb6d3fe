/**
 * A light HTTP client for latency benchmarks against a service in another process: raw PNG posts
 * over keep-alive sockets (node:http, less CPU per request than fetch), closed and open loops, bursts,
 * and the service process started from a build's own checkout.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';

export interface Reply {
  status: number;
  /** From the request's send to its last response byte. */
  ms: number;
  exit?: number;
  stoppedBy?: string;
  /** The service's own timings of the image (milliseconds; batch size in rows). */
  timings?: { queueMs: number; preprocessMs: number; inferenceMs: number; batchSize: number };
}

export interface ServerProcess {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** `node <main> serve` on an ephemeral loopback port, run from the build's own checkout (its bundles, its config defaults). */
export function startServer(main: string, args: string[] = []): Promise<ServerProcess> {
  const cwd = path.resolve(path.dirname(main), '..', '..', '..');
  const child = spawn(process.execPath, [main, 'serve', '--port', '0', '--host', '127.0.0.1', ...args], {
    cwd,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${log}`)), 120_000);
    child.stderr.on('data', (c: Buffer) => {
      log += c.toString();
      const m = /listening on (http:\/\/\S+)/.exec(log);
      if (!m?.[1] || child.pid === undefined) return;
      clearTimeout(timer);
      const stop = (): Promise<void> =>
        new Promise((done) => {
          child.once('exit', () => done());
          child.kill('SIGKILL');
        });
      resolve({ url: m[1], pid: child.pid, stop });
    });
    child.once('exit', (code) => reject(new Error(`server exited (${code}):\n${log}`)));
  });
}

/** CPU seconds a process has used (user + system), from /proc. */
export function processCpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export function createAgent(): Agent {
  return new Agent({ keepAlive: true, maxSockets: 256 });
}

/** One image as the request body. `agent` false: a connection of its own for this request (a client without keep-alive). */
export function postImage(agent: Agent | false, url: string, body: Buffer, type = 'image/png'): Promise<Reply> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': type, 'content-length': body.length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const ms = performance.now() - t0;
        const reply: Reply = { status: res.statusCode ?? 0, ms };
        try {
          const j = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Pick<Reply, 'exit' | 'stoppedBy' | 'timings'>;
          if (typeof j.exit === 'number') reply.exit = j.exit;
          if (typeof j.stoppedBy === 'string') reply.stoppedBy = j.stoppedBy;
          if (typeof j.timings === 'object') reply.timings = j.timings;
        } catch {
          // not JSON: an error page; the status says enough
        }
        resolve(reply);
      });
      res.on('error', () => resolve({ status: 0, ms: performance.now() - t0 }));
    });
    req.on('error', () => resolve({ status: 0, ms: performance.now() - t0 }));
    req.end(body);
  });
}

/** `connections` clients, each sending its next request when the last is answered, for `seconds`: answers per second. */
export async function closedLoop(send: (i: number) => Promise<Reply>, connections: number, seconds: number): Promise<number> {
  const until = performance.now() + seconds * 1000;
  let ok = 0;
  let i = 0;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < until) if ((await send(i++)).status === 200) ok++;
    }),
  );
  return ok / seconds;
}

/** Requests sent at a steady `rate` per second for `seconds`, whatever the answers: each reply, and how late each send was. */
export async function openLoop(
  send: (i: number) => Promise<Reply>,
  rate: number,
  seconds: number,
): Promise<{ replies: Reply[]; sendLagMs: number[] }> {
  const n = Math.round(rate * seconds);
  const t0 = performance.now();
  const pending: Array<Promise<Reply>> = [];
  const sendLagMs: number[] = [];
  for (let i = 0; i < n; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait >= 1) await sleep(wait);
    sendLagMs.push(Math.max(0, performance.now() - due));
    pending.push(send(i));
  }
  return { replies: await Promise.all(pending), sendLagMs };
}

/** `size` requests at once, `times` times, `pauseMs` apart. */
export async function bursts(send: (i: number) => Promise<Reply>, size: number, times: number, pauseMs: number): Promise<Reply[]> {
  const out: Reply[] = [];
  for (let t = 0; t < times; t++) {
    out.push(...(await Promise.all(Array.from({ length: size }, (_, i) => send(t * size + i)))));
    await sleep(pauseMs);
  }
  return out;
}
