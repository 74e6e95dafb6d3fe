/**
 * limits.connectionsPerAddress on a real service: past the limit, a connection's request is answered
 * 503 OVERLOADED and the connection closed, one that sends only part of its request head is closed
 * unanswered, another address is served meanwhile, and a connection closed gives its place back. On
 * the gRPC port a connection past the limit is closed at once.
 */
import { connect, type Socket } from 'node:net';
import { startService, type Service } from '../../src/server';
import { grpcClients, unary } from './grpc-client';
import { fixturePngs, startTestService, testConfig } from './harness';

let service: Service;
beforeAll(async () => {
  service = await startTestService({ limits: { connectionsPerAddress: 2 } });
});
afterAll(() => service?.close());

function open(localAddress = '127.0.0.1', port = service.port): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** One classify request on `socket` (kept alive); the status and the whole answer as text, once it has come. */
function classify(socket: Socket): Promise<{ status: number; text: string }> {
  const png = fixturePngs()[0] as Buffer;
  return new Promise((resolve) => {
    let text = '';
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('latin1');
      const head = text.indexOf('\r\n\r\n');
      const length = /content-length: (\d+)/i.exec(text)?.[1];
      if (head < 0 || length === undefined || text.length < head + 4 + Number(length)) return;
      socket.off('data', onData);
      resolve({ status: Number(text.slice(9, 12)), text });
    };
    socket.on('data', onData);
    socket.write(`POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: ${png.length}\r\n\r\n`);
    socket.write(png);
  });
}

/** Resolves once the server has seen all but `n` of its connections close. */
async function serverHolds(n: number): Promise<void> {
  const count = (): Promise<number> => new Promise((resolve) => service.server.getConnections((_e, c) => resolve(c)));
  while ((await count()) > n) await new Promise((r) => setImmediate(r));
}

const closed = (socket: Socket): Promise<void> =>
  new Promise((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve())));

describe('connections per address', () => {
  test('past the limit a request is refused and its connection closed; another address is served; a closed one frees its place', async () => {
    const [a, b] = [await open(), await open()];
    expect((await classify(a)).status).toBe(200);
    const third = await open();
    const refused = await classify(third);
    expect(refused.status).toBe(503);
    expect(refused.text).toMatch(/"code":"OVERLOADED"/);
    expect(refused.text).toMatch(/connection: close/i);
    await closed(third);
    // A connection that never finishes its request head is closed, unanswered.
    const slow = await open();
    let answered = '';
    slow.on('data', (c: Buffer) => (answered += c.toString()));
    slow.write('POST /v1/classify HTTP/1.1\r\nHost: x\r\n');
    await closed(slow);
    expect(answered).toBe('');
    // Another address is not limited by this one's connections.
    const elsewhere = await open('127.0.0.2');
    expect((await classify(elsewhere)).status).toBe(200);
    elsewhere.destroy();
    // Both first connections are still served; once one closes, a new one is.
    expect((await classify(b)).status).toBe(200);
    a.destroy();
    await serverHolds(1); // b's
    const next = await open();
    expect((await classify(next)).status).toBe(200);
    for (const s of [b, next]) s.destroy();
  });
});

describe('connections per address on the gRPC port', () => {
  test('a connection past the limit is closed at once; the ones within it are served', async () => {
    const grpcService = await startService(
      { ...testConfig({ limits: { connectionsPerAddress: 2 } }), grpc: { port: 0 } },
      { defaultMetrics: false },
    );
    const clients = grpcClients(grpcService.grpc?.address as string);
    try {
      expect(await unary(clients.kserve, 'ServerLive', {})).toMatchObject({ ok: true, value: { live: true } });
      const port = grpcService.grpc?.port as number;
      const silent = await open('127.0.0.1', port); // the client's connection and this one: the limit
      const past = await open('127.0.0.1', port);
      await closed(past);
      expect(await unary(clients.kserve, 'ServerLive', {})).toMatchObject({ ok: true, value: { live: true } });
      silent.destroy();
    } finally {
      clients.close();
      await grpcService.close();
    }
  });
});
