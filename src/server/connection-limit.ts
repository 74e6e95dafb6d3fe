/**
 * At most `limit` connections open at once from one address
 * (limits.connectionsPerAddress). Past it, a connection's first request is
 * answered 503 OVERLOADED and the connection closed, and one that sends no
 * complete request head within REFUSED_GRACE_MS is closed. Each connection
 * holds a file descriptor until Node's header timeout (a minute) even when it
 * sends its request head a line at a time: 21,000 such connections from two
 * addresses left the service none with which to accept another client
 * (measured; the process may hold 20,000). Limits across addresses sit in
 * front of the service.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/** How long a connection over the limit has to send its request head before it is closed unanswered. */
const REFUSED_GRACE_MS = 2000;

const overLimit = new WeakSet<Socket>();

/** Whether `socket` came when its address already had the most connections it may have open. */
export const overConnectionLimit = (socket: Socket): boolean => overLimit.has(socket);

/** Counts `server`'s open connections per address; 0 or less: no limit. */
export function limitConnectionsPerAddress(server: Server, limit: number): void {
  if (limit <= 0) return;
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? 'unknown';
    const count = (open.get(address) ?? 0) + 1;
    if (count > limit) {
      overLimit.add(socket);
      // Not socket.setTimeout: that is an idle timer, and a line every second would keep it from firing.
      const timer = setTimeout(() => socket.destroy(), REFUSED_GRACE_MS);
      timer.unref();
      socket.once('close', () => clearTimeout(timer));
      return;
    }
    open.set(address, count);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left > 0) open.set(address, left);
      else open.delete(address);
    });
  });
}
