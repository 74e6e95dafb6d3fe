/**
 * The rows waiting for a batch, in the order batches take them: rows with a due time (a deadline)
 * earliest due first, ahead of rows without one, which keep their arrival order. A row without a
 * due time is passed over for at most `maxBypassMs`: it then ranks as if due at that moment. A batch
 * never mixes the two kinds, so that a row with a deadline is never held back by rows that run to
 * their last exit.
 *
 * A row already past its due time when a batch forms ranks as if due `maxBypassMs` later, so it goes
 * after the rows still in time (all but those with more slack than that): it is late whatever
 * happens, and taken first it would make every row behind it late too. After a stall (the machine
 * busy elsewhere, a burst beyond capacity) earliest-due-first would keep the whole backlog late until
 * it has drained; this way the rows still in time are answered in time while the late ones wait.
 *
 * A batch of rows without a due time takes them in turns between clients (see fair-shares.ts): one
 * row of each, in the order their first rows wait, then a second of each, and so on; a client's turns
 * go round its connections the same way, and each connection's rows keep their order. A client with a
 * thousand rows waiting, on one connection or on many, then holds back another's row by one batch at
 * most, not by its whole backlog. A batch of rows with a due time takes them earliest due first while
 * they fit, and in the same turns when more are waiting (each lane earliest due first).
 *
 * Which kind the next batch takes is a turn too: that of the first row (in the order above) of the
 * client served longest ago (then of its connection served longest ago). Deadlines then rank rows
 * within a client's share, not across clients: a client sending every request with a short deadline
 * would otherwise go ahead of everyone else's rows without one for `maxBypassMs` each (measured: 64
 * connections doing so held another client's plain requests 609 ms at the median, 1,044 ms at
 * worst). A client not served for a while is forgotten once thousands of others have been served
 * since: it then counts as never served.
 */
import type { Party } from './batcher-types';

export interface Queued {
  enqueuedAt: number;
  /** Clock time its answer is due; undefined: no deadline. */
  dueAt: number | undefined;
  /** Whose row it is: rows without a due time are taken in turns between clients and their connections. */
  party?: Party;
}

interface Entry<P> {
  item: P;
  rank: number;
  urgent: boolean;
}

export class DueQueue<P extends Queued> {
  private readonly entries: Array<Entry<P>> = [];
  /** Batches taken so far, and the last one that took a row of each client (and connection) still waiting. */
  private batches = 0;
  private readonly servedClients = new Map<string | undefined, number>();
  private readonly servedConnections = new Map<string, number>();

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

  /**
   * The next batch at clock time `now`: up to `max` rows of the first row's kind, in rank order, the late
   * ones deferred; and the due times of the rows with a deadline left waiting, in the order later batches
   * will take them, at most `max` (one ordering serves both).
   */
  take(max: number, now: number): { taken: P[]; behind: number[] } {
    const order = this.order(now);
    if (order.length === 0) return { taken: [], behind: [] };
    const taken = DueQueue.inTurns(order, max, this.nextKind(order));
    const behind: number[] = [];
    for (const e of order) {
      if (behind.length >= max) break;
      if (!taken.has(e) && e.item.dueAt !== undefined) behind.push(e.item.dueAt);
    }
    for (let i = this.entries.length - 1; i >= 0; i--) if (taken.has(this.entries[i] as Entry<P>)) this.entries.splice(i, 1);
    this.served(taken);
    return { taken: [...taken].map((e) => e.item), behind };
  }

  /**
   * Whether the next batch takes rows with a due time: the kind of the first row of the client served
   * longest ago, and within it of its connection served longest ago (never served counts as longest).
   * A row without a due time passed over for `maxBypassMs` ranks first, and then its kind goes.
   */
  private nextKind(order: Array<Entry<P>>): boolean {
    const head = order[0] as Entry<P>;
    if (!head.urgent) return false;
    let pick: { client: string | undefined; at: number } | undefined;
    for (const e of order) {
      const client = e.item.party?.client;
      const at = this.servedClients.get(client) ?? -1;
      if (pick === undefined || at < pick.at) pick = { client, at };
    }
    let first: Entry<P> | undefined;
    let firstAt = Infinity;
    for (const e of order) {
      if (e.item.party?.client !== pick?.client) continue;
      const at = this.servedConnections.get(connectionKey(e.item.party)) ?? -1;
      if (at < firstAt) [first, firstAt] = [e, at];
    }
    return (first ?? head).urgent;
  }

  /** Counts a batch: its rows' clients and connections were served now (the maps keep the most recently served last). */
  private served(taken: Set<Entry<P>>): void {
    this.batches++;
    for (const { item } of taken) {
      remember(this.servedClients, item.party?.client, this.batches);
      remember(this.servedConnections, connectionKey(item.party), this.batches);
    }
  }

  /**
   * Up to `max` rows of one kind (with a due time or without), in turns between their clients, and a
   * client's between its connections; each connection's rows in the queue's order.
   */
  private static inTurns<P extends Queued>(order: Array<Entry<P>>, max: number, urgent: boolean): Set<Entry<P>> {
    const clients = new Map<string | undefined, Map<string | undefined, Array<Entry<P>>>>();
    for (const e of order) {
      if (e.urgent !== urgent) continue;
      const { client, connection } = e.item.party ?? {};
      let connections = clients.get(client);
      if (!connections) {
        connections = new Map<string | undefined, Array<Entry<P>>>();
        clients.set(client, connections);
      }
      const lane = connections.get(connection);
      if (lane) lane.push(e);
      else connections.set(connection, [e]);
    }
    // One lane per client: its connections' rows interleaved, one of each in turn.
    const lanes = [...clients.values()].map((connections) => interleave([...connections.values()]));
    return new Set(interleave(lanes).slice(0, max));
  }

  /** The entries in the order batches take them at `now`: those past due ranked `maxBypassMs` later. */
  private order(now: number): Array<Entry<P>> {
    if (!this.entries.some((e) => e.urgent && e.rank < now)) return this.entries;
    const rank = (e: Entry<P>): number => (e.urgent && e.rank < now ? e.rank + this.maxBypassMs : e.rank);
    // A stable sort: equal ranks keep the queue's order (arrival order among equals).
    return [...this.entries].sort((a, b) => rank(a) - rank(b));
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

/** Clients (and connections) whose last batch is remembered, at most; the ones served longest ago are forgotten first. */
const REMEMBERED = 4096;

function remember<K>(served: Map<K, number>, key: K, batch: number): void {
  served.delete(key);
  served.set(key, batch);
  if (served.size > REMEMBERED) served.delete(served.keys().next().value as K);
}

function connectionKey(party: Party | undefined): string {
  return party === undefined ? '' : `${party.client}\u0000${party.connection}`;
}

/** The lists' items one of each in turn (the first of each, then the second of each, ...), each list's in order. */
function interleave<T>(lists: T[][]): T[] {
  if (lists.length === 1) return lists[0] as T[];
  const out: T[] = [];
  for (let turn = 0; ; turn++) {
    let more = false;
    for (const list of lists) {
      const item = list[turn];
      if (item === undefined) continue;
      more = true;
      out.push(item);
    }
    if (!more) return out;
  }
}
