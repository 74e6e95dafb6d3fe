/**
 * Input that has arrived but has not been read yet. onnxruntime-node runs a
 * session synchronously on the event loop, and libuv (1.45 on, so Node 20)
 * accepts one connection per loop turn. While batches follow each other every
 * turn holds one engine run, so clients that connect at once are accepted one
 * run apart: at 800 requests/s, each on a new connection, the build before this
 * answered 2-10% within 50 ms in two of four runs, with p99 0.8-5 s (docs/api.md
 * "Connections under load").
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
  /** `accepted` when the last settle ended. */
  private settledAt = 0;

  constructor(private readonly maxTurns = MAX_TURNS) {}

  /** A connection was accepted. */
  connected(): void {
    this.accepted++;
  }

  /**
   * Nothing when no connection was accepted since the last settle (kept-alive clients: the batch starts
   * as it would without). Else turns of the event loop until one accepts no connection (that turn reads
   * the last one's request), at most `maxTurns`. Resolves with the turns taken.
   */
  async settle(): Promise<number> {
    let turns = 0;
    while (this.accepted !== this.settledAt && turns < this.maxTurns) {
      this.settledAt = this.accepted;
      await nextTurn();
      turns++;
    }
    this.settledAt = this.accepted;
    return turns;
  }
}
