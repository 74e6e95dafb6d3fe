/**
 * At most `limit` connections open at once from one address
 * (limits.connectionsPerAddress). Past it, a connection's first request is
 * answered 503 OVERLOADED and the connection closed, and one that sends no
 * complete request head within REFUSED_GRACE_MS is closed. Each connection
 * holds a file descriptor until Node's header timeout (a minute) even when it
 * sends its request head a line at a time: 21,000 such connections from two
 * addresses left the service none with which to accept another client
 * (measured; the process may hold 20,000). The gRPC port's connections count
 * too (grpc-server.ts): a connection there that never sends a byte is held
 * for good. Limits across addresses sit in front of the service.
 */
import type { Server as NetServer, Socket } from 'node:net';

/** How long a connection over the limit has to send its request head before it is closed unanswered. */
const REFUSED_GRACE_MS = 2000;

const overLimit = new WeakSet<Socket>();

/** Whether `socket` came when its address already had the most connections it may have open. */
export const overConnectionLimit = (socket: Socket): boolean => overLimit.has(socket);

/** An HTTP/1.1 connection past the limit: its first request is refused (app.ts), and without one it is closed after a grace. */
function refuseLater(socket: Socket): void {
  overLimit.add(socket);
  // Not socket.setTimeout: that is an idle timer, and a line every second would keep it from firing.
  const timer = setTimeout(() => socket.destroy(), REFUSED_GRACE_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}

/**
 * Connections past the limit that one address may have waiting to be refused (a grace each, HTTP); more
 * are closed at once. Without this bound, a sender opening thousands of connections a second would
 * hold that many descriptors for the grace (measured: up to 13,657 with 2 x 10,500 connections).
 */
const REFUSING_PER_ADDRESS = 64;

/** One more connection of `key` in `counts`, and one less when it closes. */
function countOpen(counts: Map<string, number>, key: string, socket: Socket): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
  socket.once('close', () => {
    const left = (counts.get(key) ?? 1) - 1;
    if (left > 0) counts.set(key, left);
    else counts.delete(key);
  });
}

/**
 * Counts `server`'s open connections per address (0 or less: no limit); one past the limit goes to
 * `refuse` (by default: refused at its first request, or closed after a grace), or is closed at once
 * when its address already has REFUSING_PER_ADDRESS waiting to be refused.
 */
export function limitConnectionsPerAddress(server: NetServer, limit: number, refuse: (socket: Socket) => void = refuseLater): void {
  if (limit <= 0) return;
  const open = new Map<string, number>();
  const refusing = new Map<string, number>();
  // Before the server's own listener: a connection refused outright never gets a session (HTTP/2).
  server.prependListener('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? 'unknown';
    if ((open.get(address) ?? 0) < limit) {
      countOpen(open, address, socket);
      return;
    }
    if ((refusing.get(address) ?? 0) >= REFUSING_PER_ADDRESS) {
      socket.destroy();
      return;
    }
    countOpen(refusing, address, socket);
    refuse(socket);
  });
}
