import { EeroError } from '../errors';
import { assertFeasibleBudget, validateCosts } from './budget';

/**
 * The live budget ledger (docs/eero.md "The ledger"): one per served model,
 * at the operator's budget B. Pure bookkeeping: no clock, no I/O.
 *
 * Strict rule: after every settled image, total spent <= B x images settled.
 *
 * `credit` is B x settled - spent (never negative). Before a batch of m rows
 * runs, it reserves a pool: its own m x B plus `extra`, lent from the credit
 * not already lent to other open batches. The engine spends the pool step
 * by step (every row pays exit 1, which B covers; a row goes on only while
 * the pool pays for the step), so a batch spends at most its pool. Settling
 * the batch's rows cheapest first keeps credit >= 0 after every single row:
 * the j cheapest of m rows cost at most j/m of the batch's spend, so at most
 * j x B + extra. Credit left to other open batches is never touched.
 *
 * Saved credit is capped (`maxCredit`), so a long easy stretch cannot fund an
 * unbounded hard one: over any window of n images, spent <= n x B + maxCredit.
 */
export interface LedgerOptions {
  /** B, the allowed average cost per image, in cost units. */
  budget: number;
  /** Cumulative cost of each exit. */
  costs: ArrayLike<number>;
  /** Cap on saved credit; default 64 full-model costs (a batch of 64 may then all run to the end at B = 0.5). */
  maxCredit?: number;
  costUnit?: string;
}

export interface Reservation {
  readonly rows: number;
  /** The most the batch may spend, in cost units. */
  readonly pool: number;
  /** The part of the pool lent from saved credit. */
  readonly extra: number;
  settled: boolean;
}

export interface LedgerSnapshot {
  budget: number;
  /** B x settled - spent, after the savings cap. */
  credit: number;
  /** Credit lent to batches still running. */
  lent: number;
  images: number;
  spent: number;
  /** spent / images (0 before any). */
  averageCost: number;
  forcedExits: number;
  /** Batches reserved and not yet settled or cancelled. */
  openReservations: number;
  /** Sum of every settled batch's pool, and of what those batches really spent. */
  reservedTotal: number;
  usedTotal: number;
}

/** Rounding slack for sums of floating-point costs (MACs run to 1e9 and more). */
const tolerance = (pool: number): number => 1e-12 * Math.max(1, Math.abs(pool));

export class BudgetLedger {
  readonly budget: number;
  readonly maxCredit: number;
  private readonly full: number;
  private credit = 0;
  private lent = 0;
  private images = 0;
  private spent = 0;
  private forced = 0;
  private open = 0;
  private reservedTotal = 0;
  private usedTotal = 0;

  constructor(options: LedgerOptions) {
    const c = validateCosts(options.costs);
    assertFeasibleBudget(c, options.budget, options.costUnit);
    this.budget = options.budget;
    this.full = c[c.length - 1] as number;
    const maxCredit = options.maxCredit ?? 64 * this.full;
    if (!(maxCredit >= 0)) throw new EeroError('BAD_PARAMETER', `ledger maxCredit must be >= 0, got ${maxCredit}`);
    this.maxCredit = maxCredit;
  }

  /** A batch of `rows` images is about to run: what it may spend. */
  reserve(rows: number): Reservation {
    if (!Number.isInteger(rows) || rows < 1) throw new EeroError('INTERNAL', `ledger: cannot reserve for ${rows} rows`);
    // No batch needs more than every row at the full cost.
    const extra = Math.max(0, Math.min(this.credit - this.lent, rows * Math.max(0, this.full - this.budget)));
    this.lent += extra;
    this.open++;
    return { rows, pool: rows * this.budget + extra, extra, settled: false };
  }

  /**
   * The batch ran: `costs` holds each row's actual cost (its exit's
   * cumulative cost). Rows are booked cheapest first; the unused pool returns.
   */
  settle(reservation: Reservation, costs: ArrayLike<number>, forcedExits = 0): void {
    this.close(reservation);
    if (costs.length !== reservation.rows) {
      throw new EeroError('INTERNAL', `ledger: ${costs.length} costs settled for a reservation of ${reservation.rows} rows`);
    }
    const sorted = Float64Array.from(costs).sort();
    const total = sorted.reduce((s, c) => s + c, 0);
    if (total > reservation.pool + tolerance(reservation.pool)) {
      throw new EeroError('INTERNAL', `ledger: a batch spent ${total}, more than its pool ${reservation.pool}`);
    }
    for (const c of sorted) {
      this.credit += this.budget - c;
      this.spent += c;
      this.images++;
    }
    // The cap never takes credit already lent to running batches.
    this.credit = Math.min(this.credit, Math.max(this.maxCredit, this.lent));
    this.forced += forcedExits;
    this.reservedTotal += reservation.pool;
    this.usedTotal += total;
  }

  /** The batch failed or was aborted before any answer: its reservation returns whole. */
  cancel(reservation: Reservation): void {
    this.close(reservation);
  }

  snapshot(): LedgerSnapshot {
    return {
      budget: this.budget,
      credit: this.credit,
      lent: this.lent,
      images: this.images,
      spent: this.spent,
      averageCost: this.images === 0 ? 0 : this.spent / this.images,
      forcedExits: this.forced,
      openReservations: this.open,
      reservedTotal: this.reservedTotal,
      usedTotal: this.usedTotal,
    };
  }

  private close(reservation: Reservation): void {
    if (reservation.settled) throw new EeroError('INTERNAL', 'ledger: a reservation settled twice');
    reservation.settled = true;
    this.lent -= reservation.extra;
    this.open--;
  }
}

/**
 * Spending one batch's pool as it runs: every row pays exit 1 up front; a
 * row may go on to the next exit only while the pool still pays for the
 * step. Rows asking in row order is the same rule the one-graph engine
 * applies in-graph (a cumulative sum over the continuing rows).
 */
export class PoolSpender {
  private left: number;
  private readonly slack: number;

  constructor(
    pool: number,
    private readonly costs: Float64Array,
    rows: number,
  ) {
    this.slack = tolerance(pool);
    this.left = pool - rows * (costs[0] as number);
    if (this.left < -this.slack) throw new EeroError('INTERNAL', `ledger: pool ${pool} does not pay exit 1 for ${rows} rows`);
  }

  /** May a row that reached `exit` (0-based) go on? If so the step is paid now. */
  mayContinue(exit: number): boolean {
    const step = (this.costs[exit + 1] as number) - (this.costs[exit] as number);
    if (step > this.left + this.slack) return false;
    this.left -= step;
    return true;
  }

  /** What is left of the pool. */
  get remaining(): number {
    return this.left;
  }

  /**
   * What the next steps may sum to: the pool left plus the rounding slack. Granting in row order
   * while a step fits, as mayContinue does, grants the first i + 1 steps of cost s exactly when
   * (i + 1) x s <= grantable (the early-exit graph grants so, in one call).
   */
  get grantable(): number {
    return this.left + this.slack;
  }
}
