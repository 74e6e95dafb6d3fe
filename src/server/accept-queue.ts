/**
 * How many connections the kernel has completed on a listening port that the
 * process has not accepted yet. Closing a listener resets every one of them
 * (the client has already sent its request: ECONNRESET), and on a busy event
 * loop Node accepts about one connection per turn, so dozens can wait there for
 * seconds. Linux only (/proc/net/tcp*, the LISTEN socket's rx_queue is its
 * accept queue); undefined elsewhere.
 */
import { readFileSync } from 'node:fs';

const LISTEN = '0A';

/** The accept queues of the LISTEN sockets on `port` in one /proc/net/tcp* table. */
export function acceptQueueIn(table: string, port: number): number {
  const portHex = port.toString(16).toUpperCase().padStart(4, '0');
  let waiting = 0;
  for (const line of table.split('\n').slice(1)) {
    // sl local_address rem_address st tx_queue:rx_queue ...
    const [, local, , state, queues] = line.trim().split(/\s+/);
    if (state !== LISTEN || !local?.endsWith(`:${portHex}`)) continue;
    waiting += parseInt(queues?.split(':')[1] ?? '0', 16);
  }
  return waiting;
}

export function pendingAccepts(port: number): number | undefined {
  let waiting: number | undefined;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    try {
      waiting = (waiting ?? 0) + acceptQueueIn(readFileSync(file, 'utf8'), port);
    } catch {
      // No such table (not Linux, or no IPv6): nothing known from it.
    }
  }
  return waiting;
}
