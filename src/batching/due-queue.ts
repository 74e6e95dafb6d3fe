/**
 * The rows waiting for a batch, in the order batches take them: rows with a due time (a deadline)
 * earliest due first, ahead of rows without one, which keep their arrival order. A row without a
 * due time is passed over for at most `maxBypassMs`: it then ranks as if due at that moment. A batch
 * never mixes the two kinds, so that a row with a deadline is never held back by rows that run to
 * their last exit.
 */

export interface Queued {
  enqueuedAt: number;
  /** Clock time its answer is due; undefined: no deadline. */
  dueAt: number | undefined;
}

interface Entry<P> {
  item: P;
  rank: number;
  urgent: boolean;
}

export class DueQueue<P extends Queued> {
  private readonly entries: Array<Entry<P>> = [];

  constructor(private readonly maxBypassMs: number) {}

  get length(): number {
    return this.entries.length;
  }

  push(item: P): void {
    const urgent = item.dueAt !== undefined;
    const rank = item.dueAt ?? item.enqueuedAt + this.maxBypassMs;
    // After every entry of the same rank: equal ranks keep their arrival order.
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.entries[mid] as Entry<P>).rank <= rank) lo = mid + 1;
      else hi = mid;
    }
    this.entries.splice(lo, 0, { item, rank, urgent });
  }

  remove(item: P): boolean {
    const at = this.entries.findIndex((e) => e.item === item);
    if (at < 0) return false;
    this.entries.splice(at, 1);
    return true;
  }

  /** The next batch: up to `max` rows of the first row's kind, in rank order. */
  take(max: number): P[] {
    const first = this.entries[0];
    if (first === undefined) return [];
    const taken: P[] = [];
    for (let i = 0; i < this.entries.length && taken.length < max;) {
      const e = this.entries[i] as Entry<P>;
      if (e.urgent === first.urgent) {
        taken.push(e.item);
        this.entries.splice(i, 1);
      } else i++;
    }
    return taken;
  }

  /** Due times of the rows with a deadline still waiting, earliest first, at most `max`. */
  due(max: number): number[] {
    const out: number[] = [];
    for (const e of this.entries) {
      if (out.length >= max) break;
      if (e.item.dueAt !== undefined) out.push(e.item.dueAt);
    }
    return out;
  }

  /**
   * When the waiting must end and a partial batch run: the earliest row's arrival plus `maxWaitMs`;
   * a row with a due time waits for company at most a quarter of the time it had left on arrival.
   */
  waitEnds(maxWaitMs: number): number {
    let end = Infinity;
    for (const { item } of this.entries) {
      const slack = item.dueAt === undefined ? Infinity : Math.max(0, item.dueAt - item.enqueuedAt) / 4;
      end = Math.min(end, item.enqueuedAt + Math.min(maxWaitMs, slack));
    }
    return end;
  }
}
