import { BudgetLedger, calibrateEero, evaluatePolicy, oracle } from '../../src/router';
import { makeThresholdPolicy } from '../../src/router/policy';
import { resolveScoring } from '../../src/router';
import { handScored, syntheticOutputs } from './synthetic';

// Two exits, four images. Exit 1 scores 0.9, 0.2, 0.7, 0.1; predictions at exit 1 / exit 2.
const data = handScored(
  [
    [0.9, 0.2, 0.7, 0.1],
    [0, 0, 0, 0],
  ],
  [
    [1, 0, 2, 0],
    [1, 1, 0, 0],
  ],
  [1, 1, 0, 3],
);
const costs = [1, 3];

describe('evaluatePolicy', () => {
  it('counts exits, cost and accuracy of a threshold rule', () => {
    const p = makeThresholdPolicy('eero', Float64Array.from([0.5, -Infinity]), resolveScoring(), undefined, {});
    const e = evaluatePolicy(p, data, costs);
    expect(Array.from(e.exitOf)).toEqual([0, 1, 0, 1]);
    expect(Array.from(e.predictions)).toEqual([1, 1, 2, 0]);
    expect(e.exitCounts).toEqual([2, 2]);
    expect(e.exitShares).toEqual([0.5, 0.5]);
    expect(e.averageCost).toBe(2);
    expect(e.costFraction).toBeCloseTo(2 / 3, 15);
    expect(e.accuracy).toBe(0.5); // rows 0 and 1 right, 2 and 3 wrong
  });

  it('leaves unlabelled rows out of the accuracy', () => {
    const p = makeThresholdPolicy('eero', Float64Array.from([0.5, -Infinity]), resolveScoring(), undefined, {});
    const unl = { ...data, labels: Int32Array.from([1, -1, -1, -1]) };
    const e = evaluatePolicy(p, unl, costs);
    expect(e.labelled).toBe(1);
    expect(e.accuracy).toBe(1);
  });

  it('refuses scored outputs made with other scoring options', () => {
    const p = makeThresholdPolicy('eero', Float64Array.from([0.5, -Infinity]), resolveScoring({ seed: 1 }), undefined, {});
    expect(() => evaluatePolicy(p, data, costs)).toThrow(expect.objectContaining({ code: 'BAD_PARAMETER' }));
  });

  it('routes through a ledger without forcing anything when the budget covers the full model', () => {
    const calib = syntheticOutputs({ images: 500, seed: 3 });
    const c = [1, 2, 3.5, 5];
    const p = calibrateEero(calib, c, 3);
    const plain = evaluatePolicy(p, calib, c);
    const led = evaluatePolicy(p, calib, c, { ledger: new BudgetLedger({ budget: 5, costs: c }) });
    expect(led.forcedExits).toBe(0);
    expect(led.exitOf).toEqual(plain.exitOf);
  });
});

describe('oracle', () => {
  it('leaves at the first correct exit, else at the last', () => {
    const e = oracle(data, costs);
    // row 0: exit 1 right; rows 1 and 2: exit 2 right; row 3: neither.
    expect(Array.from(e.exitOf)).toEqual([0, 1, 1, 1]);
    expect(e.accuracy).toBe(0.75);
    expect(e.averageCost).toBe(2.5);
  });

  it('is at least as accurate as every exit alone', () => {
    const o = syntheticOutputs({ images: 800, seed: 4 });
    const best = oracle(o, [1, 2, 3, 4]);
    const r = calibrateEero(o, [1, 2, 3, 4], 4).calibration.errorRates;
    for (const err of r) expect(best.accuracy).toBeGreaterThanOrEqual(1 - err);
    expect(best.accuracy).toBeGreaterThan(1 - Math.min(...r) + 0.01);
  });
});
