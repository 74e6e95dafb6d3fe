import { BudgetLedger, calibrateEero, evaluatePolicy } from '../../src/router';
import { flatOutputs, syntheticOutputs } from './synthetic';

const costs = [1, 2, 3.5, 5];
const FULL = 5;

/** An image that always wants to go on, as a hard image does. */
function runGreedy(ledger: BudgetLedger): number {
  ledger.admit();
  let l = 0;
  while (l < costs.length - 1 && ledger.mayContinue(costs[l] as number, costs[l + 1] as number)) l++;
  ledger.settle(costs[l] as number);
  return l;
}

describe('BudgetLedger', () => {
  it('keeps every prefix of a stream of hard images within n B + one full cost', () => {
    const budget = 2;
    const ledger = new BudgetLedger({ budget, costs });
    for (let n = 1; n <= 3000; n++) {
      runGreedy(ledger);
      expect(ledger.snapshot().spent).toBeLessThanOrEqual(n * budget + FULL + 1e-9);
    }
    const s = ledger.snapshot();
    expect(s.forcedExits).toBeGreaterThan(1000);
    // It spends the budget, not far less: only the overdraft separates them.
    expect(s.averageCost).toBeGreaterThan(budget - (2 * FULL) / 3000);
  });

  it('caps a hard stream routed by EERO that would otherwise run every image to the end', () => {
    const calib = syntheticOutputs({ images: 2000, seed: 21 });
    const budget = 0.5 * FULL;
    const policy = calibrateEero(calib, costs, budget);
    const hard = flatOutputs(2000, 4);
    const free = evaluatePolicy(policy, hard, costs);
    expect(free.exitCounts[3]).toBe(2000);
    expect(free.averageCost).toBe(FULL);
    const capped = evaluatePolicy(policy, hard, costs, { ledger: new BudgetLedger({ budget, costs }) });
    expect(capped.averageCost).toBeLessThanOrEqual(budget + FULL / 2000);
    expect(capped.forcedExits).toBeGreaterThan(1000);
  });

  it('rarely forces an exit on traffic like the calibration set', () => {
    const calib = syntheticOutputs({ images: 3000, seed: 31 });
    const live = syntheticOutputs({ images: 3000, seed: 32 });
    const budget = 0.5 * FULL;
    const policy = calibrateEero(calib, costs, budget);
    const free = evaluatePolicy(policy, live, costs);
    const led = evaluatePolicy(policy, live, costs, { ledger: new BudgetLedger({ budget, costs }) });
    expect(led.forcedExits / 3000).toBeLessThan(0.01);
    expect(led.averageCost).toBeLessThanOrEqual(budget + FULL / 3000);
    expect(Math.abs(led.accuracy - free.accuracy)).toBeLessThan(0.005);
  });

  it('cannot be overspent by many images in flight at once', () => {
    const budget = 1.5;
    const ledger = new BudgetLedger({ budget, costs });
    const at = new Array<number>(50).fill(0);
    for (let i = 0; i < 50; i++) ledger.admit();
    // Interleave: every image asks for its next stage in turn.
    for (let l = 0; l < 3; l++) {
      for (let i = 0; i < 50; i++) {
        if (at[i] === l && ledger.mayContinue(costs[l] as number, costs[l + 1] as number)) at[i] = l + 1;
        expect(ledger.snapshot().balance).toBeGreaterThanOrEqual(-FULL);
      }
    }
    at.forEach((l) => ledger.settle(costs[l] as number));
    const s = ledger.snapshot();
    expect(s.inFlight).toBe(0);
    expect(s.spent).toBeLessThanOrEqual(50 * budget + FULL);
  });

  it('caps saved credit, so a hard stretch after an easy one is bounded too', () => {
    const budget = 3;
    const maxCredit = 10;
    const ledger = new BudgetLedger({ budget, costs, maxCredit });
    // 500 easy images leave at exit 1 and save 2 each, far above the cap.
    for (let i = 0; i < 500; i++) {
      ledger.admit();
      ledger.settle(costs[0] as number);
    }
    expect(ledger.snapshot().balance).toBe(maxCredit);
    const before = ledger.snapshot().spent;
    for (let i = 0; i < 100; i++) runGreedy(ledger);
    expect(ledger.snapshot().spent - before).toBeLessThanOrEqual(100 * budget + maxCredit + FULL);
  });

  it('never forces an exit at the full budget when a large batch is admitted at once', () => {
    // Regression: admitting 256 rows together used to clip their credit at the savings cap.
    const costs = [1, 2, 3, 4, 5, 6, 7, 8];
    const ledger = new BudgetLedger({ budget: 8, costs, maxCredit: 8 });
    for (let i = 0; i < 256; i++) ledger.admit();
    for (let l = 0; l + 1 < costs.length; l++) {
      for (let i = 0; i < 256; i++) expect(ledger.mayContinue(costs[l]!, costs[l + 1]!)).toBe(true);
    }
    for (let i = 0; i < 256; i++) ledger.settle(8);
    expect(ledger.snapshot().forcedExits).toBe(0);
    expect(ledger.snapshot().averageCost).toBe(8);
  });

  it('books a measured cost above the charged one', () => {
    const ledger = new BudgetLedger({ budget: 2, costs });
    ledger.admit();
    ledger.settle(1, 1.5);
    expect(ledger.snapshot()).toEqual(expect.objectContaining({ balance: 0.5, spent: 1.5, images: 1, averageCost: 1.5 }));
  });

  it('refuses a budget below the first exit and misuse', () => {
    expect(() => new BudgetLedger({ budget: 0.5, costs })).toThrow(expect.objectContaining({ code: 'BUDGET_INFEASIBLE' }));
    const ledger = new BudgetLedger({ budget: 2, costs });
    expect(() => ledger.settle(1)).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
    expect(() => ledger.mayContinue(3.5, 2)).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
  });

  it('never forces an exit with an unlimited budget', () => {
    const ledger = new BudgetLedger({ budget: Infinity, costs });
    for (let i = 0; i < 10; i++) expect(runGreedy(ledger)).toBe(3);
    expect(ledger.snapshot().forcedExits).toBe(0);
  });
});
