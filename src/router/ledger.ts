import { EeroError } from '../errors';
import { assertFeasibleBudget, validateCosts } from './budget';

/**
 * The live budget ledger (EERO.md "Beyond the papers"). Pure bookkeeping: no
 * clock, no I/O; the engine drives it, one ledger per model and budget.
 *
 * Every image earns B on admission and is charged its stages as they are
 * granted: stage 1 at admission (it always runs; cost[1] <= B), each further
 * stage by `mayContinue`, which grants it only if the balance after paying
 * stays >= -overdraft. Since admission never lowers the balance
 * (B - cost[1] >= 0) and settling at the charged cost leaves it unchanged,
 * the balance never drops below -overdraft. Hence, over the first n images
 * (all settled), spent <= n B + overdraft: with the default overdraft of
 * one full model's cost the realised average stays within B + cost[M] / n,
 * for ANY stream, hard or easy, and with any number of images in flight.
 *
 * Savings are capped at `maxCredit` so that a long easy stretch cannot
 * fund a long hard one: over any window of n' images (not only prefixes)
 * the spend is then at most n' B + maxCredit + overdraft (+ B per image in
 * flight, whose credit the cap leaves alone). The cap only
 * removes credit, so the prefix bound above still holds.
 */
export interface LedgerOptions {
  /** B, the allowed average cost per image, in cost units. */
  budget: number;
  /** Cumulative cost of each exit. */
  costs: ArrayLike<number>;
  /** How far the balance may go below zero; default cost[M]. */
  overdraft?: number;
  /** Cap on saved credit; default 32 * cost[M]. */
  maxCredit?: number;
  costUnit?: string;
}

export interface LedgerSnapshot {
  budget: number;
  balance: number;
  /** Images settled. */
  images: number;
  /** Total actual cost of the settled images. */
  spent: number;
  /** spent / images (0 before any). */
  averageCost: number;
  /** Continuations refused by the ledger. */
  forcedExits: number;
  inFlight: number;
}

export class BudgetLedger {
  readonly budget: number;
  readonly overdraft: number;
  readonly maxCredit: number;
  private readonly firstCost: number;
  private balance = 0;
  private images = 0;
  private spent = 0;
  private forced = 0;
  private inFlight = 0;

  constructor(options: LedgerOptions) {
    const c = validateCosts(options.costs);
    assertFeasibleBudget(c, options.budget, options.costUnit);
    const full = c[c.length - 1] as number;
    this.budget = options.budget;
    this.firstCost = c[0] as number;
    this.overdraft = nonNegative('overdraft', options.overdraft ?? full);
    this.maxCredit = nonNegative('maxCredit', options.maxCredit ?? 32 * full);
  }

  /** An image arrives: it earns B and pays for stage 1. */
  admit(): void {
    // No cap here: the credit of images still in flight is theirs to spend.
    // (Capping at admission clipped whole batches: 64 images admitted at once
    // at budget 1 lost half their credit and were forced out early.)
    this.balance += this.budget - this.firstCost;
    this.inFlight++;
  }

  /**
   * May an image that has paid `costSoFar` (cumulative, through its current
   * exit) go on to the exit costing `nextCumulativeCost`? If yes, the step
   * is charged now, so concurrent images cannot spend the same credit.
   * A refusal is a forced exit.
   */
  mayContinue(costSoFar: number, nextCumulativeCost: number): boolean {
    const step = nextCumulativeCost - costSoFar;
    if (!(step >= 0)) {
      throw new EeroError('INTERNAL', `ledger: next cost ${nextCumulativeCost} is below cost so far ${costSoFar}`);
    }
    if (this.balance - step < -this.overdraft) {
      this.forced++;
      return false;
    }
    this.balance -= step;
    return true;
  }

  /**
   * The image left, having been charged `chargedCost` (its exit's
   * cumulative cost). `actualCost` replaces it when measured differently
   * (e.g. seconds): the difference is booked now, so an actual cost above
   * the charged one is the one way the bound can be exceeded.
   */
  settle(chargedCost: number, actualCost = chargedCost): void {
    if (this.inFlight <= 0) throw new EeroError('INTERNAL', 'ledger: settle without admit');
    this.inFlight--;
    // Cap the savings, leaving each image still in flight the budget it brought.
    this.balance = Math.min(this.maxCredit + this.inFlight * this.budget, this.balance + chargedCost - actualCost);
    this.spent += actualCost;
    this.images++;
  }

  snapshot(): LedgerSnapshot {
    return {
      budget: this.budget,
      balance: this.balance,
      images: this.images,
      spent: this.spent,
      averageCost: this.images === 0 ? 0 : this.spent / this.images,
      forcedExits: this.forced,
      inFlight: this.inFlight,
    };
  }
}

function nonNegative(name: string, v: number): number {
  if (!(v >= 0)) throw new EeroError('BAD_PARAMETER', `ledger ${name} must be >= 0, got ${v}`);
  return v;
}
