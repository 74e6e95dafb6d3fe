import type { Service } from '../../src/server';
import { serveCommand } from '../../src/cli/commands/serve';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import { RESNET_BUNDLE } from '../support/bundles';
import { call, fixturePngs, postFiles, postImage, startTestService } from './harness';
import { failures, keepAliveLoad } from './keep-alive-load';

const good = (): Buffer => fixturePngs()[0] as Buffer;

/** Polls `cond` until it holds; no deadline of its own (Jest's timeout ends a hang), so a busy machine only makes it slower. */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
}

/**
 * A batch window no test outlasts: a close() that waited for it instead of running the queue would hang, not pass.
 * Also close()'s grace period where a test waits for requests in flight: a busy machine must not cut them off.
 */
const FOREVER_MS = 3_600_000;

describe('overload, request timeout and graceful shutdown', () => {
  let service: Service | undefined;
  afterEach(async () => {
    await service?.close();
    service = undefined;
  });

  test('a full queue answers 503 OVERLOADED with Retry-After, and the queued request still succeeds', async () => {
    // The first image waits for company (no clock decides: nothing else can join), filling the queue of 1.
    service = await startTestService({ batching: { maxBatch: 8, maxQueue: 1, maxWaitMs: FOREVER_MS } });
    const s = service;
    const classifier = s.models.get('resnet18-fmnist')?.classifier;
    const first = postImage(s.url, good());
    await until(() => classifier?.depth === 1);
    const refused = await postImage<{ error: { code: string } }>(s.url, good());
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe('OVERLOADED');
    expect(refused.headers.get('retry-after')).toBe('1');
    expect((await call<string>(`${s.url}/metrics`)).body).toMatch(/eero_errors_total\{code="OVERLOADED"\} 1/);
    // Shutting down runs what is queued: the first request is answered.
    const closing = s.close(FOREVER_MS);
    expect((await first).status).toBe(200);
    await closing;
    service = undefined;
  });

  /**
   * Seven images pipelined on one connection (from `localAddress`, each request under a new API key when `keyed`)
   * wait for an eighth (the batch window never ends); a request of two from 127.0.0.1 then finds the queue one short.
   */
  async function sevenThenTwo(localAddress: string, keyed: boolean): Promise<{ other: number; pipelined: number[] }> {
    service = await startTestService({ batching: { maxBatch: 8, maxQueue: 8, maxWaitMs: FOREVER_MS }, limits: { filesPerRequest: 8 } });
    const s = service;
    const classifier = s.models.get('resnet18-fmnist')?.classifier;
    const { hostname, port } = new URL(s.url);
    const image = good();
    const request = (i: number): Buffer =>
      Buffer.concat([
        Buffer.from(
          `POST /v1/classify HTTP/1.1\r\nHost: x\r\n${keyed ? `X-Api-Key: made-up-${i}\r\n` : ''}` +
            `Content-Type: image/png\r\nContent-Length: ${image.length}\r\n\r\n`,
        ),
        image,
      ]);
    const pipelined = new Promise<number[]>((done, fail) => {
      const socket = connect({ port: Number(port), host: hostname, localAddress });
      let text = '';
      socket.on('data', (d: Buffer) => {
        text += d.toString('latin1');
        const statuses = [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
        if (statuses.length === 7) {
          socket.destroy();
          done(statuses);
        }
      });
      socket.on('error', fail);
      socket.write(Buffer.concat(Array.from({ length: 7 }, (_, i) => request(i))));
    });
    await until(() => classifier?.depth === 7);
    const other = await postFiles<{ results: unknown[] }>(s.url, [
      { name: 'a.png', bytes: image },
      { name: 'b.png', bytes: image },
    ]);
    expect(other.body.results?.length ?? 0).toBe(other.status === 200 ? 2 : 0);
    return { other: other.status, pipelined: await pipelined };
  }

  test('when the queue is full, the connection with the most images waiting gives its newest place to another', async () => {
    // The other connection's two images take the pipelining one's newest place; the eight then run.
    expect(await sevenThenTwo('127.0.0.1', false)).toEqual({ other: 200, pipelined: [200, 200, 200, 200, 200, 200, 503] });
  });

  test('requests that each bring a new API key count as their address and connection: they give way all the same', async () => {
    const expected = { other: 200, pipelined: [200, 200, 200, 200, 200, 200, 503] };
    expect(await sevenThenTwo('127.0.0.2', true)).toEqual(expected);
    await service?.close();
    service = undefined;
    // From the other request's own address: the connection with the most gives way.
    expect(await sevenThenTwo('127.0.0.1', true)).toEqual(expected);
  });

  test('a request over limits.requestTimeoutMs answers 503 TIMEOUT and its queued image is dropped before the engine', async () => {
    service = await startTestService({ batching: { maxBatch: 8, maxWaitMs: FOREVER_MS, maxQueue: 64 }, limits: { requestTimeoutMs: 150 } });
    const entry = service.models.get('resnet18-fmnist');
    const res = await postImage<{ error: { code: string } }>(service.url, good());
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('TIMEOUT');
    expect(res.headers.get('retry-after')).toBe('1');
    expect(entry?.classifier.depth).toBe(0);
    expect(entry?.model.routing.ledger?.snapshot()).toEqual(expect.objectContaining({ images: 0, openReservations: 0 }));
  });

  test('close() finishes the queued request, stops readiness and listening, and disposes the models', async () => {
    service = await startTestService({ batching: { maxBatch: 8, maxWaitMs: FOREVER_MS, maxQueue: 64 } });
    const s = service;
    const classifier = s.models.get('resnet18-fmnist')?.classifier;
    const queued = postImage(s.url, good());
    await until(() => classifier?.depth === 1);
    // The image is queued for an hour's batch window: only close() running the queue answers it.
    const closing = s.close(FOREVER_MS);
    expect((await queued).status).toBe(200);
    await closing;
    await expect(fetch(`${s.url}/healthz`)).rejects.toThrow();
    await expect(s.models.get('resnet18-fmnist')?.model.engine.run(new Float32Array(1024), 1, () => undefined)).rejects.toMatchObject({
      code: 'SHUTTING_DOWN',
    });
    service = undefined;
  });

  test('eero serve logs each start-up step, listens, and exits 0 on SIGTERM', async () => {
    const lines: string[] = [];
    const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      const exit = serveCommand.run(['--port', '0', '--host', '127.0.0.1', '--budget', '0.4']);
      await until(() => lines.some((l) => l.includes('listening on http://127.0.0.1:')));
      const url = /listening on (http:\/\/\S+)/.exec(lines.join(''))?.[1] as string;
      expect((await call(`${url}/readyz`)).status).toBe(200);
      const r = await postImage<{ budget: { limit: number } }>(url, good());
      expect(r.body.budget.limit).toBe(0.4);
      process.emit('SIGTERM', 'SIGTERM');
      expect(await exit).toBe(0);
    } finally {
      spy.mockRestore();
    }
    const log = lines.join('');
    expect(log).toMatch(/eero serve: config: defaults/);
    expect(log).toMatch(/eero serve: model resnet18-fmnist: loaded/);
    expect(log).toMatch(/eero serve: model resnet18-fmnist: warmed up/);
    expect(log).toMatch(/eero serve: stopped/);
  });
});

describe('shutdown with a drain', () => {
  test('close(): not ready at once, still answering while draining, queued and in-flight requests finish, then the listener is gone', async () => {
    // The drain ends when the test says so, not after drainMs of wall time: its checks never race a timer.
    let endDrain = (): void => undefined;
    let draining = false;
    const drainWait = (ms: number): Promise<void> => {
      expect(ms).toBe(300);
      draining = true;
      return new Promise((r) => (endDrain = r));
    };
    const s = await startTestService(
      { batching: { maxBatch: 8, maxWaitMs: FOREVER_MS, maxQueue: 64 }, shutdown: { drainMs: 300 } },
      { drainWait },
    );
    const classifier = s.models.get('resnet18-fmnist')?.classifier;
    const queued = postImage(s.url, good());
    await until(() => classifier?.depth === 1);
    const closing = s.close(FOREVER_MS);
    expect(draining).toBe(true);
    expect((await call(`${s.url}/readyz`)).status).toBe(503);
    expect((await call(`${s.url}/v2/health/ready`)).status).toBe(503);
    expect((await call(`${s.url}/healthz`)).status).toBe(200);
    // A request arriving while draining is still taken (load balancers are still catching up): it joins the queue.
    const during = postImage(s.url, good());
    await until(() => classifier?.depth === 2);
    endDrain();
    const [a, b] = await Promise.all([queued, during]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(b.headers.get('connection')).toBe('close');
    await closing;
    await expect(fetch(`${s.url}/healthz`)).rejects.toThrow();
  });

  test('SIGTERM under 64 kept-alive connections sending without pause: no ECONNRESET, every request answered or refused with a status', async () => {
    const s = await startTestService({ batching: { maxBatch: 16, maxWaitMs: 2, maxQueue: 256 }, shutdown: { drainMs: 300 } });
    const load = keepAliveLoad(`${s.url}/v1/classify`, good(), 64, { 'content-type': 'image/png' });
    await until(() => load.answered >= 128);
    // What eero serve does on SIGTERM.
    await s.close();
    const outcomes = await load.stop();
    expect(failures(outcomes)).toEqual([]);
    // 200 while serving and draining; 503 SHUTTING_DOWN on a connection still open once the listener closed.
    expect([...outcomes.keys()].filter((k) => /^\d{3}$/.test(k) && k !== '200' && k !== '503')).toEqual([]);
    expect(outcomes.get('200')).toBeGreaterThan(0);
  });

  test('Ctrl-C (SIGINT) on eero serve skips the drain: it stops without waiting shutdown.drainMs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eero-serve-'));
    const config = join(dir, 'serve.yaml');
    // A drain of 10 minutes: waited for, this test would time out.
    writeFileSync(config, `models: [{ name: resnet18-fmnist, path: ${JSON.stringify(RESNET_BUNDLE)} }]\nshutdown: { drainMs: 600000 }\n`);
    const lines: string[] = [];
    const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      const exit = serveCommand.run(['--config', config, '--port', '0', '--host', '127.0.0.1']);
      await until(() => lines.some((l) => l.includes('listening on http://127.0.0.1:')));
      process.emit('SIGINT', 'SIGINT');
      expect(await exit).toBe(0);
    } finally {
      spy.mockRestore();
      rmSync(dir, { recursive: true, force: true });
    }
    const log = lines.join('');
    expect(log).toMatch(/SIGINT: shutting down/);
    expect(log).toMatch(/not ready; no drain/);
    expect(log).not.toMatch(/still answering for/);
    expect(log).toMatch(/stopped/);
  });

  /** Spawns `command`, sends SIGTERM as soon as its log shows `when` (an event, not a poll), and returns its exit code and log. */
  async function terminateOnce(command: string, args: string[], when: string): Promise<{ code: number | null; log: string }> {
    const { spawn } = await import('node:child_process');
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.stderr.on('data', (c: Buffer) => {
      const seen = log.includes(when);
      log += c.toString();
      if (!seen && log.includes(when)) child.kill('SIGTERM');
    });
    try {
      return { code: await exited, log };
    } finally {
      child.kill('SIGKILL');
    }
  }

  test('a SIGTERM during start-up (before "listening on") is not lost: the service starts, closes and exits 0', async () => {
    // The first line comes before the model loads: the handlers must already be there.
    const { code, log } = await terminateOnce(process.execPath, ['dist/src/cli/main.js', 'serve', '--port', '0'], 'config:');
    expect(code).toBe(0);
    expect(log).toMatch(/SIGTERM: shutting down/);
    expect(log).toMatch(/stopped/);
  });

  test('the start script execs the server, so a SIGTERM to the process npm runs reaches it and it exits cleanly', async () => {
    const { readFileSync } = await import('node:fs');
    const script = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: { start: string } }).scripts.start;
    expect(script.startsWith('exec ')).toBe(true);
    // npm runs scripts as `sh -c <script>` and forwards signals to that process.
    const { code, log } = await terminateOnce('sh', ['-c', `${script} --port 0`], 'listening on');
    expect(code).toBe(0);
    expect(log).toMatch(/SIGTERM: shutting down/);
    expect(log).toMatch(/stopped/);
  });
});
