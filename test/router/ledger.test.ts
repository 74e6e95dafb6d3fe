import { BudgetLedger, calibrateEero, evaluatePolicy, PoolSpender } from '../../src/router';
import { flatOutputs, syntheticOutputs } from './synthetic';

const costs = [1, 2, 3.5, 5];
const c64 = Float64Array.from(costs);
const FULL = 5;

/** A batch of images that all want to go on, as hard images do: each runs while the pool pays. Returns the row costs. */
function runGreedyBatch(ledger: BudgetLedger, rows: number): number[] {
  const reservation = ledger.reserve(rows);
  const spender = new PoolSpender(reservation.pool, c64, rows);
  const at = new Array<number>(rows).fill(0);
  // Stage-major, as the engine runs a batch.
  for (let l = 0; l + 1 < costs.length; l++) {
    for (let i = 0; i < rows; i++) if (at[i] === l && spender.mayContinue(l)) at[i] = l + 1;
  }
  const spent = at.map((l) => costs[l] as number);
  ledger.settle(reservation, spent, at.filter((l) => l < costs.length - 1).length);
  return spent;
}

describe('BudgetLedger: strict, with reservations', () => {
  it.each([1, 7, 64])('holds spent <= B x images after every batch of hard images (batch %i)', (batch) => {
    const budget = 2;
    const ledger = new BudgetLedger({ budget, costs });
    for (let k = 0; k < 200; k++) {
      runGreedyBatch(ledger, batch);
      const s = ledger.snapshot();
      expect(s.spent).toBeLessThanOrEqual(s.images * budget + 1e-9);
      expect(s.credit).toBeGreaterThanOrEqual(-1e-9);
    }
    // It spends the budget, not far less: hard images take every unit the ledger can give.
    expect(ledger.snapshot().averageCost).toBeGreaterThan(budget - 1.1 / 200);
  });

  it('books a batch cheapest first, so the bound holds after every single image of it', () => {
    const budget = 2;
    const ledger = new BudgetLedger({ budget, costs });
    // Credit from cheap images lets one row of the next batch run to the end.
    const warm = ledger.reserve(3);
    ledger.settle(warm, [1, 1, 1]);
    expect(ledger.snapshot().credit).toBe(3);
    const r = ledger.reserve(2);
    expect(r.pool).toBe(2 * budget + 3);
    const spender = new PoolSpender(r.pool, c64, 2);
    expect([spender.mayContinue(0), spender.mayContinue(1), spender.mayContinue(2)]).toEqual([true, true, true]);
    // 1 left of the pool of 7 (2 x exit 1, then 4 for one row's steps): the second row gets one step, not two.
    expect([spender.mayContinue(0), spender.mayContinue(1)]).toEqual([true, false]);
    ledger.settle(r, [5, 2]);
    // Prefix check with the cheap row first: (3 + 2) <= 2 x 4, then (5 + 5) <= 2 x 5.
    expect(ledger.snapshot()).toEqual(expect.objectContaining({ images: 5, spent: 10, credit: 0 }));
  });

  it('never lends the same credit to two batches running at once', () => {
    const ledger = new BudgetLedger({ budget: 2, costs });
    ledger.settle(ledger.reserve(4), [1, 1, 1, 1]); // credit 4
    const a = ledger.reserve(1);
    const b = ledger.reserve(1);
    expect(a.extra).toBe(3); // one row needs at most full - B = 3
    expect(b.extra).toBe(1);
    expect(ledger.snapshot().lent).toBe(4);
    ledger.settle(b, [3]);
    ledger.settle(a, [5]);
    const s = ledger.snapshot();
    expect(s.spent).toBeLessThanOrEqual(s.images * 2);
    expect(s.lent).toBe(0);
  });

  it('refuses a settle that spent more than the pool (an engine bug, never hidden)', () => {
    const ledger = new BudgetLedger({ budget: 2, costs });
    const r = ledger.reserve(2);
    expect(() => ledger.settle(r, [5, 5])).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
  });

  it('returns the whole reservation when a run fails or is aborted', () => {
    const ledger = new BudgetLedger({ budget: 2, costs });
    ledger.settle(ledger.reserve(4), [1, 1, 1, 1]);
    const r = ledger.reserve(4);
    expect(ledger.snapshot()).toEqual(expect.objectContaining({ lent: 4, openReservations: 1 }));
    ledger.cancel(r);
    expect(ledger.snapshot()).toEqual(expect.objectContaining({ lent: 0, openReservations: 0, credit: 4, images: 4 }));
    expect(() => ledger.cancel(r)).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
    expect(ledger.reserve(1).extra).toBe(3);
  });

  it('caps saved credit, so a hard stretch after an easy one is bounded too', () => {
    const budget = 3;
    const maxCredit = 10;
    const ledger = new BudgetLedger({ budget, costs, maxCredit });
    // 500 easy images leave at exit 1 and save 2 each, far above the cap.
    for (let i = 0; i < 50; i++) ledger.settle(ledger.reserve(10), new Array<number>(10).fill(1));
    expect(ledger.snapshot().credit).toBe(maxCredit);
    const before = ledger.snapshot().spent;
    for (let i = 0; i < 100; i++) runGreedyBatch(ledger, 1);
    expect(ledger.snapshot().spent - before).toBeLessThanOrEqual(100 * budget + maxCredit + 1e-9);
  });

  it('lets a batch run every row to the end at the full budget', () => {
    const ledger = new BudgetLedger({ budget: FULL, costs });
    expect(runGreedyBatch(ledger, 256).every((c) => c === FULL)).toBe(true);
    expect(ledger.snapshot().forcedExits).toBe(0);
  });

  it('refuses a budget below the first exit and misuse', () => {
    expect(() => new BudgetLedger({ budget: 0.5, costs })).toThrow(expect.objectContaining({ code: 'BUDGET_INFEASIBLE' }));
    const ledger = new BudgetLedger({ budget: 2, costs });
    expect(() => ledger.reserve(0)).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
    const r = ledger.reserve(2);
    expect(() => ledger.settle(r, [1])).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
  });
});

describe('PoolSpender.grantable: the grant the early-exit graph makes in one call', () => {
  it('grants the first i + 1 steps exactly when (i + 1) x step <= grantable, as the step-by-step grant does', () => {
    // Integer MACs and fractional cost units (seconds) alike, pools at and around multiples of the step.
    const cases: Array<[number[], number]> = [
      [[10, 25, 45, 70], 4],
      [[0.013, 0.0271, 0.0419, 0.0588], 8],
      [[3e6, 7.5e6, 1.2e7, 2.1e7], 16],
    ];
    for (const [costList, rows] of cases) {
      const costs = Float64Array.from(costList);
      for (let l = 0; l + 1 < costs.length; l++) {
        const step = (costs[l + 1] as number) - (costs[l] as number);
        for (let extra = 0; extra <= rows * 2; extra++) {
          for (const wiggle of [0, 1e-13, -1e-13]) {
            const pool = rows * (costs[0] as number) + extra * (step / 2) * (1 + wiggle);
            const sequential = new PoolSpender(pool, costs, rows);
            let granted = 0;
            while (granted < rows && sequential.mayContinue(l)) granted++;
            const oneCall = new PoolSpender(pool, costs, rows);
            let byFormula = 0;
            while (byFormula < rows && (byFormula + 1) * step <= oneCall.grantable) byFormula++;
            expect([costList.join(), l, extra, wiggle, byFormula]).toEqual([costList.join(), l, extra, wiggle, granted]);
          }
        }
      }
    }
  });
});

describe('the ledger routing EERO', () => {
  it('caps a hard stream that would otherwise run every image to the end', () => {
    const calib = syntheticOutputs({ images: 2000, seed: 21 });
    const budget = 0.5 * FULL;
    const policy = calibrateEero(calib, costs, budget);
    const hard = flatOutputs(2000, 4);
    const free = evaluatePolicy(policy, hard, costs);
    expect(free.averageCost).toBe(FULL);
    for (const batch of [1, 64]) {
      const capped = evaluatePolicy(policy, hard, costs, { ledger: new BudgetLedger({ budget, costs }), batch });
      expect(capped.averageCost).toBeLessThanOrEqual(budget);
      expect(capped.forcedExits).toBeGreaterThan(500);
    }
  });

  it.each([1, 64])('rarely forces an exit on traffic like the calibration set (batch %i)', (batch) => {
    const calib = syntheticOutputs({ images: 3000, seed: 31 });
    const live = syntheticOutputs({ images: 3000, seed: 32 });
    const budget = 0.5 * FULL;
    const policy = calibrateEero(calib, costs, budget);
    const free = evaluatePolicy(policy, live, costs);
    const led = evaluatePolicy(policy, live, costs, { ledger: new BudgetLedger({ budget, costs }), batch });
    expect(led.forcedExits / 3000).toBeLessThan(0.01);
    expect(led.averageCost).toBeLessThanOrEqual(budget);
    expect(Math.abs(led.accuracy - free.accuracy)).toBeLessThan(0.005);
  });
});
