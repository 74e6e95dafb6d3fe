import { budgetedOracle, computeStatsTable, oracle, selectTableRows } from '../../../src/router';
import { syntheticOutputs } from '../synthetic';

describe('budgeted oracle', () => {
  // 3 exits costing 1, 2, 4. Rows: right at exit 1; first right at exit 2; first right at 3; never right.
  const predictions = [Int32Array.from([0, 9, 9, 9]), Int32Array.from([0, 1, 9, 9]), Int32Array.from([0, 1, 2, 9])];
  const labels = Int32Array.from([0, 1, 2, 3]);
  const costs = [1, 2, 4];

  it('buys the cheapest first-correct exits first, within the budget', () => {
    expect(budgetedOracle(predictions, labels, costs, 1)).toEqual({ accuracy: 0.25, averageCost: 1 });
    // Row 1 costs 1 more (2 - 1): 5 / 4 = 1.25.
    expect(budgetedOracle(predictions, labels, costs, 1.25)).toEqual({ accuracy: 0.5, averageCost: 1.25 });
    expect(budgetedOracle(predictions, labels, costs, 1.7)).toEqual({ accuracy: 0.5, averageCost: 1.25 });
    expect(budgetedOracle(predictions, labels, costs, 2)).toEqual({ accuracy: 0.75, averageCost: 2 });
  });

  it("reaches the unbudgeted oracle's accuracy once the budget covers it, and never spends more", () => {
    const out = syntheticOutputs({ images: 800, seed: 4 });
    const t = computeStatsTable(out, { seed: 0, temperature: 1 });
    const c = [1, 2, 3.5, 5];
    const full = oracle(out, c);
    const b = budgetedOracle(t.prediction, t.labels, c, 5);
    expect(b.accuracy).toBe(full.accuracy);
    for (const budget of [1.2, 1.8, 2.5]) expect(budgetedOracle(t.prediction, t.labels, c, budget).averageCost).toBeLessThanOrEqual(budget);
  });
});

describe('rows of a statistics table', () => {
  it("keeps each row's values (and so its noise key) when selected", () => {
    const t = computeStatsTable(syntheticOutputs({ images: 50, seed: 6 }), { seed: 1, temperature: 1 });
    const s = selectTableRows(t, [7, 3]);
    expect(s.images).toBe(2);
    expect([s.top1[2]?.[0], s.prediction[1]?.[1], s.labels[0]]).toEqual([t.top1[2]?.[7], t.prediction[1]?.[3], t.labels[7]]);
  });
});
