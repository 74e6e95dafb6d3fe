/** A client that keeps `sockets` kept-alive connections busy, one request after another on each, until stopped or refused. */
import { Agent, request } from 'node:http';

export interface KeepAliveLoad {
  /** Requests answered so far (any status). */
  readonly answered: number;
  /** Answers that carried `Connection: close`. */
  readonly closing: number;
  /** Stop sending; resolves with the count of each outcome: a status ("200", "503") or an error code ("ECONNRESET"). */
  stop(): Promise<Map<string, number>>;
}

export function keepAliveLoad(url: string, body: Uint8Array, sockets: number, headers: Record<string, string> = {}): KeepAliveLoad {
  const agent = new Agent({ keepAlive: true, maxSockets: sockets });
  const outcomes = new Map<string, number>();
  let answered = 0;
  let closing = 0;
  let stopped = false;
  const one = (): Promise<string> =>
    new Promise((resolve) => {
      const req = request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': String(body.length) } }, (res) => {
        res.resume();
        res.on('end', () => {
          answered++;
          if (res.headers.connection === 'close') closing++;
          resolve(String(res.statusCode));
        });
        res.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
      });
      req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
      req.end(body);
    });
  const loops = Array.from({ length: sockets }, async () => {
    while (!stopped) {
      const outcome = await one();
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      // Refused: the listener is gone, as a client of a stopped service sees it.
      if (outcome === 'ECONNREFUSED') return;
    }
  });
  return {
    get answered() {
      return answered;
    },
    get closing() {
      return closing;
    },
    async stop() {
      stopped = true;
      await Promise.all(loops);
      agent.destroy();
      return outcomes;
    },
  };
}

/** The outcomes that are neither a status nor a refused connection (a reset, a hang-up...). */
export function failures(outcomes: Map<string, number>): Array<[string, number]> {
  return [...outcomes].filter(([k]) => !/^\d{3}$/.test(k) && k !== 'ECONNREFUSED');
}
