/**
 * Input that has arrived but has not been read yet. onnxruntime-node runs a
 * session synchronously on the event loop, and libuv (1.45 on, so Node 20)
 * accepts one connection per loop turn. While batches follow each other every
 * turn holds one engine run, so clients that connect at once are accepted one
 * run apart: at 800 requests/s on new connections, main answered 2-10% of them
 * within 50 ms, with p99 0.8-5 s (docs/api.md "Connections under load").
 * Before a batch forms, the batcher awaits `settle()`: extra loop turns, for as
 * long as each accepts a new connection (and one more, to read the last one's
 * request), so that what has arrived is read and its rows join this batch
 * instead of waiting behind it. Requests on connections already open need no
 * extra turn: one poll reads every socket that is ready.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';

/** At most this many extra turns before a batch (each accepts one new connection). */
const MAX_TURNS = 32;

export class IoActivity {
  private accepted = 0;

  constructor(private readonly maxTurns = MAX_TURNS) {}

  /** A connection was accepted. */
  connected(): void {
    this.accepted++;
  }

  /** Turns of the event loop until one accepts no connection (or `maxTurns`): resolves with the turns taken. */
  async settle(): Promise<number> {
    for (let turns = 1; turns <= this.maxTurns; turns++) {
      const before = this.accepted;
      await nextTurn();
      if (this.accepted === before) return turns;
    }
    return this.maxTurns;
  }
}
