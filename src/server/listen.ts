import { createServer, STATUS_CODES, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { EeroError } from '../errors';
import { limitConnectionsPerAddress } from './connection-limit';
import type { IoActivity } from './io-activity';
import { trackConnections } from './connection-drain';

export interface Listening {
  server: Server;
  host: string;
  port: number;
  url: string;
  /** From now on every response closes its connection (the drain). */
  closeEachResponse(): void;
  /** Close the listener once no connection is opening or closing; resolves then (see connection-drain.ts). */
  stopAccepting(graceMs?: number): Promise<void>;
  /** Stop accepting, then end each connection between requests, and every one left `graceMs` later; resolves once all are gone. */
  close(graceMs?: number): Promise<void>;
}

function listenError(e: NodeJS.ErrnoException, port: number, host: string): EeroError {
  if (e.code === 'EADDRINUSE') {
    return new EeroError('ADDRESS_IN_USE', `port ${port} on ${host} is already in use; choose another with --port or PORT`, {
      cause: e,
      details: { port, host },
    });
  }
  return new EeroError('IO_ERROR', `cannot listen on ${host}:${port}: ${e.message}`, { cause: e, details: { port, host } });
}

/** Binds the app to host:port (port 0: any free one). */
export function listen(
  app: Express,
  port: number,
  host: string,
  options: { requestTimeoutMs?: number; activity?: IoActivity; connectionsPerAddress?: number } = {},
): Promise<Listening> {
  const server = createServer(app);
  const drain = trackConnections(server);
  limitConnectionsPerAddress(server, options.connectionsPerAddress ?? 0);
  const activity = options.activity;
  if (activity) server.on('connection', () => activity.connected());
  // A request Node cannot parse (bad framing, a body cut short) still gets our JSON error shape, then the connection closes.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || err.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    const error =
      err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? new EeroError('TIMEOUT', 'the request was not received in time')
        : new EeroError('BAD_REQUEST', `malformed HTTP request: ${err.message}`);
    const body = JSON.stringify({ error: { code: error.code, message: error.message } });
    const head = [
      `HTTP/1.1 ${error.httpStatus} ${STATUS_CODES[error.httpStatus] ?? ''}`,
      'Content-Type: application/json',
      `Content-Length: ${Buffer.byteLength(body)}`,
      'Connection: close',
    ];
    socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
  });
  // Our own deadline (limits.requestTimeoutMs) answers 503 first; Node's is the backstop for a stalled upload.
  if (options.requestTimeoutMs !== undefined) server.requestTimeout = options.requestTimeoutMs + 5000;
  return new Promise<Listening>((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException): void => reject(listenError(e, port, host));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      const address = server.address() as AddressInfo;
      const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      resolve({
        server,
        host: address.address,
        port: address.port,
        url: `http://${shown}:${address.port}`,
        closeEachResponse: () => drain.closeEachResponse(),
        stopAccepting: (graceMs = 5000) => drain.stopAccepting(graceMs),
        close: (graceMs = 5000) => drain.close(graceMs),
      });
    });
  });
}
