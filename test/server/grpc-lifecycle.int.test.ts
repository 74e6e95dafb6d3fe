/** gRPC under overload and through the drain, as REST: the same queue, the same phases, the same shutdown. */
import type { ClientReadableStream } from '@grpc/grpc-js';
import { serveCommand } from '../../src/cli/commands/serve';
import { startService, type Service } from '../../src/server';
import { listenGrpc } from '../../src/server/grpc';
import { bidiStream, grpcClients, rawBytes, serverStream, unary, type Clients } from './grpc-client';
import { call, fixturePngs, postImage, testConfig, type TestConfig } from './harness';

const MODEL = 'resnet18-fmnist';
const png = (): Buffer => fixturePngs()[0] as Buffer;
const request = (images: Buffer[]): Record<string, unknown> => ({
  model_name: MODEL,
  inputs: [{ name: 'image', datatype: 'BYTES', shape: [images.length] }],
  raw_input_contents: [rawBytes(images)],
});

async function until(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

let service: Service | undefined;
let clients: Clients | undefined;

async function start(over: TestConfig): Promise<{ s: Service; c: Clients }> {
  service = await startService({ ...testConfig(over), grpc: { port: 0 } }, { defaultMetrics: false });
  clients = grpcClients(service.grpc?.address as string);
  return { s: service, c: clients };
}

afterEach(async () => {
  clients?.close();
  await service?.close();
  service = undefined;
  clients = undefined;
});

describe('gRPC overload and shutdown', () => {
  test('a full queue is RESOURCE_EXHAUSTED with retry-after, whichever transport filled it; the queued call is answered', async () => {
    // The first image waits for company (no clock decides), filling the queue of 1.
    const { s, c } = await start({ batching: { maxBatch: 8, maxQueue: 1, maxWaitMs: 60_000 } });
    const classifier = s.models.get(MODEL)?.classifier;
    const first = unary(c.kserve, 'ModelInfer', request([png()]));
    await until(() => classifier?.depth === 1);
    const refused = await unary(c.kserve, 'ModelInfer', request([png()]));
    expect(refused.ok ? 'answered' : [refused.error.code, refused.error.metadata.get('retry-after')]).toEqual([8, ['1']]);
    const overRest = await postImage<{ error: { code: string } }>(s.url, png());
    expect([overRest.status, overRest.body.error.code]).toEqual([503, 'OVERLOADED']);
    const closing = s.close();
    expect((await first).ok).toBe(true);
    await closing;
  });

  test('close(): the queued call is answered, Watch goes SERVING -> NOT_SERVING and ends, then calls are UNAVAILABLE', async () => {
    const { s, c } = await start({ batching: { maxBatch: 8, maxWaitMs: 30_000, maxQueue: 64 }, shutdown: { drainMs: 200 } });
    const classifier = s.models.get(MODEL)?.classifier;
    const seen: string[] = [];
    const watch = serverStream<{ status: string }>(c.health, 'Watch', { service: '' }) as ClientReadableStream<{ status: string }>;
    const watchEnded = new Promise<string>((resolve) => {
      watch.on('data', (m: { status: string }) => seen.push(m.status));
      watch.on('status', (st: { code: number }) => resolve(String(st.code)));
      watch.on('error', () => undefined);
    });
    await until(() => seen.length === 1);
    const queued = unary(c.kserve, 'ModelInfer', request([png()]));
    await until(() => classifier?.depth === 1);
    await s.close();
    // Shutting down runs what is queued; the watch is told before it ends (status OK: clients retry elsewhere).
    expect((await queued).ok).toBe(true);
    expect(seen).toEqual(['SERVING', 'NOT_SERVING']);
    expect(await watchEnded).toBe('0');
    const after = await unary(c.kserve, 'ModelInfer', request([png()]), 3000);
    expect(after.ok ? 'answered' : after.error.code).toBe(14); // UNAVAILABLE
    service = undefined;
  });

  test('a stream cancelled while its requests wait in the queue leaves nothing queued or charged', async () => {
    const { s, c } = await start({ batching: { maxBatch: 32, maxWaitMs: 60_000, maxQueue: 64 } });
    const entry = s.models.get(MODEL);
    const stream = bidiStream<Record<string, unknown>, unknown>(c.triton, 'ModelStreamInfer');
    stream.on('error', () => undefined);
    // More requests in flight on one stream than an emitter's default listener limit, all dropped by one cancel.
    for (let i = 0; i < 12; i++) stream.write(request([png()]));
    await until(() => entry?.classifier.depth === 12);
    stream.cancel();
    await until(() => entry?.classifier.depth === 0);
    expect(entry?.model.routing.ledger?.snapshot()).toEqual(expect.objectContaining({ images: 0, openReservations: 0 }));
    expect((await call(`${s.url}/healthz`)).status).toBe(200);
  });
});

test('while draining, health is NOT_SERVING and ServerReady false, and calls are still answered', async () => {
  const { s } = await start({});
  // The drain lasts shutdown.drainMs; held here by a second server on the same deps, so no clock decides.
  const draining = await listenGrpc({ ...s.deps, phase: () => 'draining' }, { port: 0, host: '127.0.0.1', maxReceiveBytes: 1 << 20 });
  const c = grpcClients(draining.address);
  try {
    expect(await unary(c.health, 'Check', { service: '' })).toMatchObject({ ok: true, value: { status: 'NOT_SERVING' } });
    expect(await unary(c.kserve, 'ServerReady', {})).toMatchObject({ ok: true, value: { ready: false } });
    expect(await unary(c.kserve, 'ModelReady', { name: MODEL })).toMatchObject({ ok: true, value: { ready: false } });
    expect((await unary(c.kserve, 'ModelInfer', request([png()]))).ok).toBe(true);
  } finally {
    c.close();
    await draining.close();
  }
});

test('once the service closes, calls still arriving are UNAVAILABLE (SHUTTING_DOWN) while the probes still answer', async () => {
  const { s } = await start({});
  // The window between "closing" and the listener gone is short: a second server on the same deps, held in it.
  const closing = await listenGrpc({ ...s.deps, phase: () => 'closing' }, { port: 0, host: '127.0.0.1', maxReceiveBytes: 1 << 20 });
  const c = grpcClients(closing.address);
  try {
    const refused = await unary(c.kserve, 'ModelInfer', request([png()]));
    expect(refused.ok ? 'answered' : [refused.error.code, refused.error.details]).toEqual([14, expect.stringMatching(/^SHUTTING_DOWN/)]);
    expect(await unary(c.kserve, 'ServerLive', {})).toMatchObject({ ok: true, value: { live: true } });
    expect(await unary(c.kserve, 'ServerReady', {})).toMatchObject({ ok: true, value: { ready: false } });
    expect(await unary(c.health, 'Check', { service: '' })).toMatchObject({ ok: true, value: { status: 'NOT_SERVING' } });
  } finally {
    c.close();
    await closing.close();
  }
});

describe('eero serve --grpc-port', () => {
  test('starts the gRPC server beside HTTP, logs its address, and stops it on SIGTERM', async () => {
    const lines: string[] = [];
    const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      const exit = serveCommand.run(['--port', '0', '--grpc-port', '0', '--host', '127.0.0.1']);
      await until(() => lines.some((l) => l.includes('listening for gRPC on 127.0.0.1:')), 30_000);
      const address = /listening for gRPC on (\S+)/.exec(lines.join(''))?.[1] as string;
      const c = grpcClients(address);
      try {
        expect(await unary(c.health, 'Check', { service: '' })).toMatchObject({ ok: true, value: { status: 'SERVING' } });
        expect((await unary(c.kserve, 'ModelInfer', request([png()]))).ok).toBe(true);
      } finally {
        c.close();
      }
      process.emit('SIGTERM', 'SIGTERM');
      expect(await exit).toBe(0);
    } finally {
      spy.mockRestore();
    }
    expect(lines.join('')).toMatch(/eero serve: stopped/);
  });

  test('refuses the HTTP port for gRPC', async () => {
    await expect(serveCommand.run(['--port', '8089', '--grpc-port', '8089'])).rejects.toMatchObject({ code: 'BAD_PARAMETER' });
  });
});
