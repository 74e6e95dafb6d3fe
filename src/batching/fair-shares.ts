/**
 * Who holds the batch queue's places. When the queue is full, a party (a
 * connection) with fewer rows waiting takes places from the one with the
 * most, so that one client sending without pause (four pipelining
 * connections gave another client 13 of 40 answers `503 OVERLOADED`) cannot
 * keep every other client out. A lone party still has the whole queue.
 */

/** A row waiting in the queue, or a place held for a row still decoding. */
export interface Place {
  readonly party: string | undefined;
}

/** Places held for one request's rows that are not submitted yet; `giveWay` takes them back one by one. */
export interface HeldPlaces extends Place {
  places: number;
  /** Places taken back: the request's next submits are refused. */
  takenBack: number;
}

interface Holdings<Q> {
  /** Insertion order is queue order: the last is the newest. */
  queued: Set<Q>;
  held: Set<HeldPlaces>;
  rows: number;
}

/** What gives way: rows to take out of the queue, and places to take back from requests still decoding. */
export interface GiveWay<Q> {
  rows: Q[];
  places: HeldPlaces[];
}

export class FairShares<Q extends Place> {
  private readonly parties = new Map<string, Holdings<Q>>();

  private of(party: string): Holdings<Q> {
    let h = this.parties.get(party);
    if (!h) {
      h = { queued: new Set(), held: new Set(), rows: 0 };
      this.parties.set(party, h);
    }
    return h;
  }

  private shrink(party: string, h: Holdings<Q>, by: number): void {
    h.rows -= by;
    if (h.rows <= 0 && h.queued.size === 0 && h.held.size === 0) this.parties.delete(party);
  }

  /** Rows `party` has waiting or held. */
  rows(party: string): number {
    return this.parties.get(party)?.rows ?? 0;
  }

  hold(p: HeldPlaces): void {
    if (p.party === undefined || p.places <= 0) return;
    const h = this.of(p.party);
    h.held.add(p);
    h.rows += p.places;
  }

  /** `n` of `p`'s places are used (submitted) or given back. */
  unhold(p: HeldPlaces, n: number): void {
    const h = p.party === undefined ? undefined : this.parties.get(p.party);
    if (!h || n <= 0 || !h.held.has(p)) return;
    if (p.places <= 0) h.held.delete(p);
    this.shrink(p.party as string, h, n);
  }

  enqueued(row: Q): void {
    if (row.party === undefined) return;
    const h = this.of(row.party);
    h.queued.add(row);
    h.rows++;
  }

  /** The row left the queue (taken by a batch, dropped, or given way). */
  left(row: Q): void {
    const h = row.party === undefined ? undefined : this.parties.get(row.party);
    if (h?.queued.delete(row)) this.shrink(row.party as string, h, 1);
  }

  /**
   * Room for `rows` more rows of `party` in a queue `need` places short:
   * taken from the parties with the most rows, one at a time, each keeping
   * more rows than `party` will have; their newest queued rows first, then
   * places held for rows still decoding. Nothing is changed here; undefined
   * when that cannot free `need` places.
   */
  giveWay(party: string | undefined, rows: number, need: number): GiveWay<Q> | undefined {
    if (party === undefined) return undefined;
    const mine = this.rows(party) + rows;
    const others = [...this.parties]
      .filter(([p]) => p !== party)
      .map(([, h]) => ({ rows: h.rows, queued: [...h.queued], held: [...h.held].map((p) => ({ p, left: p.places })) }));
    const out: GiveWay<Q> = { rows: [], places: [] };
    for (let freed = 0; freed < need; freed++) {
      let top: (typeof others)[number] | undefined;
      for (const o of others) if (o.rows > mine && (!top || o.rows > top.rows)) top = o;
      if (!top) return undefined;
      top.rows--;
      const row = top.queued.pop();
      if (row) {
        out.rows.push(row);
        continue;
      }
      const held = top.held.find((h) => h.left > 0);
      if (!held) return undefined;
      held.left--;
      out.places.push(held.p);
    }
    return out;
  }
}
