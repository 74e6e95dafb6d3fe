/** Closing a real HTTP server on loopback (no model): clients that follow the protocol are never reset. */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { pendingAccepts } from '../../src/server/accept-queue';
import { trackConnections, type DrainOptions } from '../../src/server/connection-drain';
import { failures, keepAliveLoad } from './keep-alive-load';

/** Polls `cond` until it holds; no deadline of its own (Jest's timeout ends a hang), so a busy machine only makes it slower. */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** Reads the body, then answers 200 "ok" on the next turn (as a real route would, after some work). */
const answerSoon: Handler = (req, res) => {
  req.resume();
  req.on('end', () => setImmediate(() => res.end('ok')));
};

async function serve(handler: Handler, options: Partial<DrainOptions> = {}) {
  const server: Server = createServer(handler);
  const drain = trackConnections(server, options);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { server, drain, port };
}

/** One raw HTTP/1.1 request on `socket`, resolved with the response head once it is complete. */
function rawRequest(socket: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (c: Buffer): void => {
      text += c.toString();
      const end = text.indexOf('\r\n\r\n');
      if (end >= 0 && text.endsWith('ok')) {
        socket.off('data', onData);
        resolve(text.slice(0, end));
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi');
  });
}

describe('closing without resets', () => {
  test('64 kept-alive connections sending without pause through the drain and the close: no ECONNRESET, every request answered or refused', async () => {
    const { drain, port } = await serve(answerSoon);
    const load = keepAliveLoad(`http://127.0.0.1:${port}/`, Buffer.from('image bytes'), 64);
    await until(() => load.answered >= 256);
    drain.closeEachResponse();
    // Every answer of the drain closes its connection: the clients reconnect, again and again.
    await until(() => load.closing >= 128);
    await drain.close(60_000);
    const outcomes = await load.stop();
    expect(failures(outcomes)).toEqual([]);
    expect([...outcomes.keys()].filter((k) => /^\d{3}$/.test(k))).toEqual(['200']);
  });

  test('a connection accepted before its first request gets that request answered (with Connection: close), not destroyed', async () => {
    // A still clock: the connection is never idle long enough to be ended.
    const { server, drain, port } = await serve(answerSoon, { now: () => 0 });
    const socket = connect(port, '127.0.0.1');
    await until(() => drain.connections === 1);
    const closed = drain.close(60_000);
    await until(() => !server.listening);
    const head = await rawRequest(socket);
    expect(head).toMatch(/^HTTP\/1\.1 200/);
    expect(head).toMatch(/\r\nConnection: close/i);
    await closed;
  });

  test('a response in flight when the listener closes says Connection: close', async () => {
    let release: () => void = () => undefined;
    const { server, drain, port } = await serve(
      (req, res) => {
        req.resume();
        release = () => res.end('ok');
      },
      { now: () => 0 },
    );
    const answer = new Promise<IncomingMessage>((resolve) => request({ port, host: '127.0.0.1', path: '/' }, resolve).end());
    await until(() => drain.connections === 1);
    const closed = drain.close(60_000);
    await until(() => !server.listening);
    release();
    const res = await answer;
    res.resume();
    expect(res.headers.connection).toBe('close');
    await closed;
  });

  test('an idle kept-alive connection is ended between requests, only once idle for idleMs (injected clock)', async () => {
    let t = 0;
    const { server, drain, port } = await serve(answerSoon, { idleMs: 1000, now: () => t });
    const socket = connect(port, '127.0.0.1');
    await rawRequest(socket);
    let ended = false;
    socket.on('end', () => (ended = true));
    const closed = drain.close(60_000);
    await until(() => !server.listening);
    // Many sweeps pass with the clock still: the connection stays.
    await new Promise((r) => setTimeout(r, 200));
    expect(ended).toBe(false);
    t = 1000;
    await until(() => ended);
    socket.destroy();
    await closed;
  });

  test('what is still open when the grace period ends is destroyed (injected clock)', async () => {
    let t = 0;
    const { drain, port } = await serve((req) => req.resume(), { now: () => t });
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    const gone = new Promise((r) => socket.once('close', r));
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => drain.connections === 1);
    let done = false;
    const closed = drain.close(5000).then(() => (done = true));
    await new Promise((r) => setTimeout(r, 200));
    expect(done).toBe(false);
    t = 5000;
    await closed;
    // The client sees its connection end (a request never answered: the server destroyed it).
    await gone;
  });
});

describe('pendingAccepts (Linux)', () => {
  test('counts connections the kernel completed that the process has not accepted yet', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    expect(pendingAccepts(port)).toBe(0);
    const sockets = [connect(port, '127.0.0.1'), connect(port, '127.0.0.1'), connect(port, '127.0.0.1')];
    // The connects run on the next tick; this one runs after them and before the event loop can accept.
    const seen = await new Promise<number | undefined>((resolve) =>
      process.nextTick(() => {
        // A synchronous poll (the event loop must not accept meanwhile): its bound only ends a hang.
        const giveUp = Date.now() + 60_000;
        let n = pendingAccepts(port);
        while ((n ?? 0) < 3 && Date.now() < giveUp) n = pendingAccepts(port);
        resolve(n);
      }),
    );
    expect(seen).toBe(3);
    await until(() => pendingAccepts(port) === 0);
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });
});
