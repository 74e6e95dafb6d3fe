import type { EeroError } from '../../src/errors';
import { calibrateEero, calibrateEeroSorted, computeExitScores, evaluatePolicy } from '../../src/router';
import { countAtLeast } from '../../src/router/quantile';
import { eeroWeights, solveMu } from '../../src/router/eero-weights';
import { flatOutputs, sortedRamp, syntheticOutputs } from './synthetic';

const f64 = (a: number[]): Float64Array => Float64Array.from(a);
const ramps = (m: number, n: number): Float64Array[] => Array.from({ length: m }, () => sortedRamp(n));

function thrown(fn: () => unknown): EeroError {
  try {
    fn();
  } catch (e) {
    return e as EeroError;
  }
  throw new Error('did not throw');
}

describe('EERO weights', () => {
  it('at mu = 0 with equal error rates are the prior 1/cost, normalised', () => {
    const w = eeroWeights([1, 2, 4], [0.2, 0.2, 0.2], 0, 0.04);
    expect(Array.from(w)).toEqual([4 / 7, 2 / 7, 1 / 7].map((v) => expect.closeTo(v, 14)));
  });

  it('stay finite where exp() of the raw exponent would underflow', () => {
    const w = eeroWeights([1e8, 2e8], [0.9, 0.0], 0, 0.001); // e^-900 vs 1
    expect(w[0]).toBe(0);
    expect(w[1]).toBe(1);
  });
});

describe('calibrateEeroSorted', () => {
  it('keeps mu = 0 and the prior shares when the budget does not bind', () => {
    const cal = calibrateEeroSorted(ramps(3, 100), f64([0.2, 0.2, 0.2]), f64([1, 2, 4]), 2, 0.04);
    expect(cal.mu).toBe(0);
    expect(cal.expectedCost).toBeCloseTo(12 / 7, 12);
    expect(cal.cum[0]).toBeCloseTo(4 / 7, 14);
    expect(cal.cum[1]).toBeCloseTo(6 / 7, 14);
    // cumT = cum + cum / sqrt(100)
    expect(cal.cumT[0]).toBeCloseTo((4 / 7) * 1.1, 14);
    expect(cal.cumT[1]).toBeCloseTo((6 / 7) * 1.1, 14);
    expect(cal.cumT[2]).toBe(1);
    // floor(62.857) = 62 of 100 pass exit 1: the 62 largest of i/100 start at 0.38.
    expect(cal.thresholds[0]).toBeCloseTo(0.38, 14);
    expect(cal.thresholds[1]).toBeCloseTo(0.06, 14); // floor(94.29) = 94 pass
    expect(cal.thresholds[2]).toBe(-Infinity);
  });

  it('finds mu > 0 with sum eps * cost = B when the budget binds', () => {
    const costs = f64([1, 2, 4]);
    const r = f64([0.3, 0.2, 0.1]);
    const cal = calibrateEeroSorted(ramps(3, 1000), r, costs, 2.5, 0.04);
    expect(cal.mu).toBeGreaterThan(0);
    expect(Math.abs(cal.expectedCost - 2.5)).toBeLessThan(1e-9);
    expect(cal.expectedCost).toBeLessThanOrEqual(2.5);
    expect(cal.eps.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 14);
    // The exponential form itself: log(eps1/eps2) = log(c2/c1) - (R1 - R2 + mu (c1 - c2)) / beta.
    const lhs = Math.log((cal.eps[0] as number) / (cal.eps[1] as number));
    expect(lhs).toBeCloseTo(Math.log(2) - (0.1 + cal.mu * -1) / 0.04, 9);
  });

  it('matches the one-auxiliary-exit closed form eps1 = (cost2 - B) / (cost2 - cost1)', () => {
    // Two exits: eps1 + eps2 = 1 and eps1 c1 + eps2 c2 = B force
    // eps1 = (c2 - B)/(c2 - c1), which is the same number as (B - c2)/(c1 - c2).
    const costs = f64([1, 3]);
    const r = f64([0.3, 0.1]);
    for (const b of [1.5, 2, 2.5]) {
      const cal = calibrateEeroSorted(ramps(2, 100), r, costs, b, 0.04);
      expect(cal.eps[0]).toBeCloseTo((3 - b) / (3 - 1), 9);
      expect(cal.eps[0]).toBeCloseTo((b - 3) / (1 - 3), 9);
    }
    // At B = 2, eps1 = eps2, so 0 = log 3 - (0.3 - 0.1)/0.04 + 2 mu / 0.04.
    const mid = calibrateEeroSorted(ramps(2, 100), r, costs, 2, 0.04);
    expect(mid.mu).toBeCloseTo(0.02 * (5 - Math.log(3)), 9);
  });

  it('keeps the share of an exit that beats the final one when the budget allows everything', () => {
    // Overthinking: exit 1 errs less than exit 2, so mu = 0 sends most images there.
    const cal = calibrateEeroSorted(ramps(2, 100), f64([0.1, 0.3]), f64([1, 2]), 2, 0.04);
    expect(cal.mu).toBe(0);
    expect(cal.eps[0]).toBeGreaterThan(0.99);
  });

  it('accepts a budget equal to the first exit cost and sends everyone there', () => {
    const cal = calibrateEeroSorted(ramps(3, 100), f64([0.3, 0.2, 0.1]), f64([1, 2, 4]), 1, 0.04);
    expect(cal.expectedCost).toBeLessThanOrEqual(1);
    expect(cal.eps[0]).toBeCloseTo(1, 12);
    expect(Number.isFinite(cal.mu)).toBe(true);
  });

  it('refuses an infeasible budget and names the cheapest feasible one', () => {
    const e = thrown(() => calibrateEeroSorted(ramps(3, 10), f64([0.3, 0.2, 0.1]), f64([2e8, 4e8, 8e8]), 1.5e8, 0.04));
    expect(e.code).toBe('BUDGET_INFEASIBLE');
    expect(e.httpStatus).toBe(422);
    expect(e.message).toContain('2e+8 MACs');
    expect(e.message).toContain('25%');
    expect(e.details).toEqual(expect.objectContaining({ cheapestFeasible: 2e8, requested: 1.5e8, cheapestFeasibleFraction: 0.25 }));
  });

  it('refuses a non-positive beta', () => {
    expect(() => calibrateEeroSorted(ramps(2, 10), f64([0.1, 0.1]), f64([1, 2]), 2, 0)).toThrow(
      expect.objectContaining({ code: 'BAD_PARAMETER' }),
    );
  });
});

describe('solveMu', () => {
  it('brackets and solves with costs in the billions', () => {
    const costs = [4.87e6, 2.1e8, 6.3e8, 1.264e9];
    const r = [0.5, 0.3, 0.2, 0.16];
    const mu = solveMu(costs, r, 6e8, 0.04);
    const w = eeroWeights(costs, r, mu, 0.04);
    const cost = w.reduce((s, v, l) => s + v * (costs[l] as number), 0);
    expect(cost).toBeLessThanOrEqual(6e8);
    expect(cost).toBeGreaterThan(6e8 * (1 - 1e-9));
  });
});

describe('calibrateEero on outputs', () => {
  const calib = syntheticOutputs({ images: 2000, seed: 11 });
  const costs = [1, 2, 3.5, 5];

  it('measures R on the labelled rows and lets at most cumT[l] of the set pass exit l', () => {
    const p = calibrateEero(calib, costs, 2.5);
    const scored = computeExitScores(calib, p.scoring);
    const cal = p.calibration;
    expect(cal.errorRates[0]).toBeGreaterThan(cal.errorRates[3] as number);
    for (let l = 0; l < 3; l++) {
      const sorted = Float64Array.from(scored.scores[l] as Float64Array).sort();
      const passing = countAtLeast(sorted, cal.thresholds[l] as number);
      expect(passing).toBeLessThanOrEqual((cal.cumT[l] as number) * 2000 + 1e-9);
      // Continuous scores: exactly floor(cumT N) pass.
      expect(passing).toBe(Math.floor((cal.cumT[l] as number) * 2000 + 1e-9));
    }
    expect(evaluatePolicy(p, scored, costs).averageCost).toBeLessThanOrEqual(2.5);
  });

  it('needs error rates when the calibration set has no labels', () => {
    const unlabelled = flatOutputs(20, 2);
    unlabelled.labels.fill(-1);
    expect(() => calibrateEero(unlabelled, [1, 2], 1.5)).toThrow(expect.objectContaining({ code: 'BAD_PARAMETER' }));
    expect(calibrateEero(unlabelled, [1, 2], 1.5, { errorRates: [0.2, 0.1] }).calibration.errorRates[1]).toBe(0.1);
  });
});
