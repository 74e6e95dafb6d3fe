/**
 * Who holds the batch queue's places. When the queue is full, a request
 * takes places from the client with the most rows waiting (its address, as
 * the service passes it), or, within its own client, from the connection
 * with the most, so that one client sending without pause (four pipelining
 * connections gave another client 13 of 40 answers `503 OVERLOADED`) cannot
 * keep the others out, whether it sends on many connections from one
 * address or pipelines on a few from the others' address. A lone party
 * still has the whole queue.
 */
import type { Party } from './batcher-types';

/** A row waiting in the queue, or a place held for a row still decoding. */
export interface Place {
  readonly party: Party | undefined;
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

/** A client's connections and their rows in all. */
interface ClientHoldings<Q> {
  connections: Map<string, Holdings<Q>>;
  rows: number;
}

/** What gives way: rows to take out of the queue, and places to take back from requests still decoding. */
export interface GiveWay<Q> {
  rows: Q[];
  places: HeldPlaces[];
}

/** A connection's rows as `giveWay` draws on them, listed when it is first drawn on (a copy: nothing changes until the caller applies it). */
interface Drawn<Q> {
  queued: Q[];
  held: Array<{ p: HeldPlaces; left: number }>;
}

export class FairShares<Q extends Place> {
  private readonly clients = new Map<string, ClientHoldings<Q>>();

  private of(party: Party): Holdings<Q> {
    let c = this.clients.get(party.client);
    if (!c) {
      c = { connections: new Map(), rows: 0 };
      this.clients.set(party.client, c);
    }
    let h = c.connections.get(party.connection);
    if (!h) {
      h = { queued: new Set(), held: new Set(), rows: 0 };
      c.connections.set(party.connection, h);
    }
    return h;
  }

  private grow(party: Party, h: Holdings<Q>, by: number): void {
    h.rows += by;
    (this.clients.get(party.client) as ClientHoldings<Q>).rows += by;
  }

  private shrink(party: Party, h: Holdings<Q>, by: number): void {
    const c = this.clients.get(party.client) as ClientHoldings<Q>;
    h.rows -= by;
    c.rows -= by;
    if (h.rows <= 0 && h.queued.size === 0 && h.held.size === 0) c.connections.delete(party.connection);
    if (c.connections.size === 0) this.clients.delete(party.client);
  }

  private find(party: Party | undefined): Holdings<Q> | undefined {
    return party === undefined ? undefined : this.clients.get(party.client)?.connections.get(party.connection);
  }

  /** Rows `party`'s connection has waiting or held. */
  private rows(party: Party): number {
    return this.find(party)?.rows ?? 0;
  }

  hold(p: HeldPlaces): void {
    if (p.party === undefined || p.places <= 0) return;
    const h = this.of(p.party);
    h.held.add(p);
    this.grow(p.party, h, p.places);
  }

  /** `n` of `p`'s places are used (submitted) or given back. */
  unhold(p: HeldPlaces, n: number): void {
    const h = this.find(p.party);
    if (!h || n <= 0 || !h.held.has(p)) return;
    if (p.places <= 0) h.held.delete(p);
    this.shrink(p.party as Party, h, n);
  }

  enqueued(row: Q): void {
    if (row.party === undefined) return;
    const h = this.of(row.party);
    h.queued.add(row);
    this.grow(row.party, h, 1);
  }

  /** The row left the queue (taken by a batch, dropped, or given way). */
  left(row: Q): void {
    const h = this.find(row.party);
    if (h?.queued.delete(row)) this.shrink(row.party as Party, h, 1);
  }

  /**
   * Room for `rows` more rows of `party` in a queue `need` places short,
   * one place at a time: from the client with the most rows if it keeps
   * more than `party`'s client will have (its connection with the most
   * rows), else from the connection of `party`'s own client with the most
   * rows if it keeps more than `party`'s connection will have; the newest
   * queued rows first, then places held for rows still decoding. Nothing
   * is changed here; undefined when that cannot free `need` places.
   */
  giveWay(party: Party | undefined, rows: number, need: number): GiveWay<Q> | undefined {
    if (party === undefined) return undefined;
    const own = this.clients.get(party.client);
    const mineClient = (own?.rows ?? 0) + rows;
    const mine = this.rows(party) + rows;
    // Rows left after what this call has drawn; only counts are kept for those not drawn on.
    const clientLeft = new Map<ClientHoldings<Q>, number>();
    const connectionLeft = new Map<Holdings<Q>, number>();
    const drawn = new Map<Holdings<Q>, Drawn<Q>>();
    const leftOfClient = (c: ClientHoldings<Q>): number => clientLeft.get(c) ?? c.rows;
    const leftOf = (h: Holdings<Q>): number => connectionLeft.get(h) ?? h.rows;
    const heaviest = (c: ClientHoldings<Q>, above: number, skip?: string): Holdings<Q> | undefined => {
      let top: Holdings<Q> | undefined;
      for (const [connection, h] of c.connections) {
        if (connection !== skip && leftOf(h) > above && (!top || leftOf(h) > leftOf(top))) top = h;
      }
      return top;
    };
    const out: GiveWay<Q> = { rows: [], places: [] };
    for (let freed = 0; freed < need; freed++) {
      let topClient: ClientHoldings<Q> | undefined;
      for (const [name, c] of this.clients) {
        if (name !== party.client && leftOfClient(c) > mineClient && (!topClient || leftOfClient(c) > leftOfClient(topClient)))
          topClient = c;
      }
      const client = topClient ?? own;
      const from = topClient ? heaviest(topClient, 0) : own && heaviest(own, mine, party.connection);
      if (!client || !from) return undefined;
      clientLeft.set(client, leftOfClient(client) - 1);
      connectionLeft.set(from, leftOf(from) - 1);
      let rowsOf = drawn.get(from);
      if (!rowsOf) {
        rowsOf = { queued: [...from.queued], held: [...from.held].map((p) => ({ p, left: p.places })) };
        drawn.set(from, rowsOf);
      }
      const row = rowsOf.queued.pop();
      if (row) {
        out.rows.push(row);
        continue;
      }
      const held = rowsOf.held.find((h) => h.left > 0);
      if (!held) return undefined;
      held.left--;
      out.places.push(held.p);
    }
    return out;
  }
}
