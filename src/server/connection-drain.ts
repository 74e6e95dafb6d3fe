/**
 * Closing an HTTP/1.1 server without resetting a client that follows the protocol.
 *
 * Two things reset a client: a connection destroyed while its request is on the
 * wire (or unread in the kernel), and a connection the kernel completed but the
 * server never accepted when the listener closes. Hence, in order:
 * 1. drain (`closeEachResponse`): every response says `Connection: close`, so
 *    kept-alive clients reconnect (through the load balancer, elsewhere);
 * 2. settle (`stopAccepting`): answers keep their connection again, and the
 *    listener closes once every connection the drain closed has been replaced
 *    (a client with a pool of connections then has no reason to connect), or
 *    after `quietMs` without a connection opening or closing (clients that went
 *    elsewhere), and the kernel holds no connection not yet accepted
 *    (accept-queue.ts); or after the grace period at the latest;
 * 3. closed: every response not yet started says `Connection: close` (Node ends
 *    the socket once it is written); a connection is ended only between
 *    requests, once nothing has been received or answered on it for `idleMs`
 *    (one accepted but whose first request is still in the kernel is not idle:
 *    Node's own closeIdleConnections would destroy it); what is left after the
 *    grace period is destroyed.
 * Each condition must hold on three sweeps in a row: between them the event loop
 * polls, so bytes and connections already waiting in the kernel are seen first.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { pendingAccepts } from './accept-queue';

interface Connection {
  /** Responses started and not finished (pipelining may queue more than one). */
  open: Set<ServerResponse>;
  /** socket.bytesRead when the last response finished (0 before the first): more since means a request is being received. */
  readAtIdle: number;
  /** When the last response finished, or the connection was accepted. */
  idleSince: number;
  /** Sweeps in a row that found it idle. */
  idleSweeps: number;
  ended: boolean;
}

export interface DrainOptions {
  /** Settle: without a connection opening or closing this long, the listener closes even if closed connections were not replaced. */
  quietMs: number;
  /** Closed: a connection idle this long (nothing received or answered) is ended. */
  idleMs: number;
  /** Milliseconds; injected by tests. */
  now: () => number;
}

export interface ConnectionDrain {
  /** Step 1: every response from now on closes its connection. */
  closeEachResponse(): void;
  /** Step 2: resolves once the listener is closed (`graceMs` from now at the latest). */
  stopAccepting(graceMs: number): Promise<void>;
  /** Steps 2 and 3: resolves once every connection is gone (destroyed `graceMs` after step 2 began at the latest). */
  close(graceMs: number): Promise<void>;
  /** Open connections. */
  readonly connections: number;
}

type Mode = 'open' | 'drain' | 'settle' | 'closed';
const SWEEP_MS = 20;
const SWEEPS_IN_A_ROW = 3;

export function trackConnections(server: Server, options: Partial<DrainOptions> = {}): ConnectionDrain {
  const { quietMs = 1000, idleMs = 1000, now = () => performance.now() } = options;
  const connections = new Map<Socket, Connection>();
  let mode: Mode = 'open';
  let lastActivity = -Infinity;
  /** Since the drain began: connections closed minus connections opened. */
  let unreplaced = 0;
  /** Connections whose response was told to close them, until they are gone. */
  const closingByResponse = new Set<Socket>();

  const shutting = (): boolean => mode === 'drain' || mode === 'settle';
  server.on('connection', (socket: Socket) => {
    lastActivity = now();
    if (shutting()) unreplaced -= 1;
    connections.set(socket, { open: new Set(), readAtIdle: 0, idleSince: lastActivity, idleSweeps: 0, ended: false });
    socket.once('close', () => {
      lastActivity = now();
      if (shutting()) unreplaced += 1;
      connections.delete(socket);
      closingByResponse.delete(socket);
    });
  });
  // First, so that the decision is made before any route writes its answer.
  server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    if (mode === 'drain' || mode === 'closed') {
      res.shouldKeepAlive = false;
      closingByResponse.add(socket);
    }
    const c = connections.get(socket);
    if (!c) return;
    c.open.add(res);
    res.once('close', () => {
      c.open.delete(res);
      c.readAtIdle = socket.bytesRead;
      c.idleSince = now();
      c.idleSweeps = 0;
    });
  });

  const idle = (socket: Socket, c: Connection): boolean =>
    c.open.size === 0 && socket.bytesRead === c.readAtIdle && now() - c.idleSince >= idleMs;

  /** Calls `then` once `ready()` held on SWEEPS_IN_A_ROW sweeps in a row. */
  const sweepUntil = (ready: () => boolean, then: () => void): void => {
    let inARow = 0;
    const timer = setInterval(() => {
      inARow = ready() ? inARow + 1 : 0;
      if (inARow < SWEEPS_IN_A_ROW) return;
      clearInterval(timer);
      then();
    }, SWEEP_MS);
  };

  let stopped: Promise<void> | undefined;
  let gone: Promise<void> | undefined;
  /** The grace period runs from the moment the service stops accepting, through the settle and the close. */
  let deadline = Infinity;
  const stopAccepting = (graceMs: number): Promise<void> => {
    stopped ??= new Promise<void>((resolve) => {
      mode = 'settle';
      deadline = now() + graceMs;
      const replaced = (): boolean => closingByResponse.size === 0 && unreplaced <= 0;
      const address = server.address();
      const accepted = (): boolean => typeof address !== 'object' || address === null || !pendingAccepts(address.port);
      sweepUntil(
        () => now() >= deadline || ((replaced() || now() - lastActivity >= quietMs) && accepted()),
        () => {
          mode = 'closed';
          for (const c of connections.values()) for (const res of c.open) if (!res.headersSent) res.shouldKeepAlive = false;
          // http's close() begins with closeIdleConnections(), which destroys every socket not inside a
          // request, including one whose first request is on the wire: they are ended as above instead.
          server.closeIdleConnections = () => undefined;
          gone = new Promise<void>((allGone) => server.close(() => allGone()));
          resolve();
        },
      );
    });
    return stopped;
  };

  return {
    get connections() {
      return connections.size;
    },
    closeEachResponse() {
      if (mode === 'open') mode = 'drain';
    },
    stopAccepting,
    async close(graceMs) {
      await stopAccepting(graceMs);
      const sweep = setInterval(() => {
        const late = now() >= deadline;
        for (const [socket, c] of connections) {
          if (late) socket.destroy();
          if (late || c.ended) continue;
          c.idleSweeps = idle(socket, c) ? c.idleSweeps + 1 : 0;
          if (c.idleSweeps >= SWEEPS_IN_A_ROW) {
            c.ended = true;
            socket.destroySoon();
          }
        }
      }, SWEEP_MS);
      await gone;
      clearInterval(sweep);
    },
  };
}
