import {
  BUDGETED_POLICIES,
  calibrateAccuracyTarget,
  calibrateCertified,
  calibrateFixedExit,
  calibrateGeometric,
  calibrateGlobalThreshold,
  calibratePatience,
  computeExitScores,
  evaluatePolicy,
  POLICY_FACTORIES,
} from '../../src/router';
import { geometricShares } from '../../src/router/geometric-policy';
import type { CalibrationData, CertifiedPolicy, CertifyOptions } from '../../src/router';
import type { SweptPolicyKind } from '../../src/router/policies';
import { exitsUnderThreshold } from '../../src/router/global-threshold-policy';
import { exitsUnderPatience } from '../../src/router/patience-policy';
import { runPolicyConformance } from './policy-conformance';
import { handScored, syntheticOutputs } from './synthetic';

for (const kind of Object.keys(POLICY_FACTORIES) as SweptPolicyKind[]) {
  runPolicyConformance(kind, POLICY_FACTORIES[kind], {
    budgeted: BUDGETED_POLICIES[kind],
    tunable: kind === 'eero' || kind === 'geometric' || kind === 'global-threshold',
  });
}

// A budget is only a cap for the certified policy (it throws below its certified cost), so the suite's
// budget sweep runs it without one, as accuracy-target ignores its budget; certify.test.ts covers the cap.
const certifiedFactory = (data: CalibrationData, costs: ArrayLike<number>, _budget: number, options?: CertifyOptions): CertifiedPolicy =>
  calibrateCertified(data, costs, undefined, options);
runPolicyConformance('certified', certifiedFactory, { budgeted: false, tunable: false });

const costs = [1, 2, 3.5, 5];
const calib = computeExitScores(syntheticOutputs({ images: 1000, seed: 5 }));

describe('geometric exit distribution', () => {
  it('solves q so that shares ∝ q^(l-1) cost exactly the budget', () => {
    for (const b of [1.5, 2.5, 4]) {
      const p = calibrateGeometric(calib, costs, b);
      const eps = Array.from(p.eps);
      expect(eps.reduce((s, e, l) => s + e * (costs[l] as number), 0)).toBeCloseTo(b, 9);
      for (let l = 1; l < 4; l++) expect((eps[l] as number) / (eps[l - 1] as number)).toBeCloseTo(p.q, 9);
    }
    // Mean cost is 2.875: below it q < 1 (early exits favoured), above it q > 1.
    expect(calibrateGeometric(calib, costs, 2.5).q).toBeLessThan(1);
    expect(calibrateGeometric(calib, costs, 4).q).toBeGreaterThan(1);
  });

  it('sends everyone to the end when the budget covers the full model', () => {
    const p = calibrateGeometric(calib, costs, 5);
    expect(p.q).toBe(Infinity);
    expect(Array.from(geometricShares(4, Infinity))).toEqual([0, 0, 0, 1]);
    expect(evaluatePolicy(p, calib, costs).averageCost).toBe(5);
  });
});

describe('global threshold', () => {
  it('is the highest threshold whose calibration cost fits', () => {
    const p = calibrateGlobalThreshold(calib, costs, 3);
    const cost = (t: number): number => {
      const ex = exitsUnderThreshold(calib, t);
      return ex.reduce((s, l) => s + (costs[l] as number), 0) / ex.length;
    };
    expect(cost(p.threshold)).toBeLessThanOrEqual(3);
    const above = Array.from(calib.scores.slice(0, 3).flatMap((s) => Array.from(s))).filter((v) => v > p.threshold);
    expect(cost(Math.min(...above))).toBeGreaterThan(3);
    expect(Array.from(p.thresholds.slice(0, 3))).toEqual([p.threshold, p.threshold, p.threshold]);
  });
});

describe('patience', () => {
  // 3 exits. Row 0 agrees at once, row 1 settles at exit 2, row 2 never agrees.
  const s = handScored(
    [
      [0, 0, 0],
      [0, 0, 0],
      [0, 0, 0],
    ],
    [
      [4, 1, 1],
      [4, 2, 2],
      [4, 2, 3],
    ],
    [4, 2, 3],
  );
  const c3 = [1, 2, 3];

  it('leaves once n consecutive exits agree', () => {
    expect(Array.from(exitsUnderPatience(s, 1))).toEqual([0, 0, 0]);
    expect(Array.from(exitsUnderPatience(s, 2))).toEqual([1, 2, 2]);
    expect(Array.from(exitsUnderPatience(s, 3))).toEqual([2, 2, 2]);
  });

  it('picks the most patient n whose calibration cost fits the budget', () => {
    // Costs: n=1 -> 1, n=2 -> (2+3+3)/3 = 2.667, n=3 -> 3.
    expect(calibratePatience(s, c3, 2.5).patience).toBe(1);
    expect(calibratePatience(s, c3, 2.7).patience).toBe(2);
    expect(calibratePatience(s, c3, 3).patience).toBe(3);
    expect(calibratePatience(s, c3, 1, { patience: 2 }).patience).toBe(2);
  });
});

describe('fixed exit', () => {
  it('takes the deepest exit the budget affords', () => {
    expect(calibrateFixedExit(calib, costs, 3).exit).toBe(1);
    expect(calibrateFixedExit(calib, costs, 5).exit).toBe(3);
    expect(evaluatePolicy(calibrateFixedExit(calib, costs, 3.6), calib, costs).exitCounts).toEqual([0, 0, 1000, 0]);
  });

  it('refuses a named exit the budget cannot afford', () => {
    expect(() => calibrateFixedExit(calib, costs, 3, { exit: 2 })).toThrow(
      expect.objectContaining({ code: 'BUDGET_INFEASIBLE', message: expect.stringContaining('stops at exit 3') }),
    );
    expect(calibrateFixedExit(calib, costs, Infinity, { exit: 0 }).exit).toBe(0);
  });
});

describe('accuracy target', () => {
  // Exit 1 scores 0.9..0.5; agreement with the final exit: yes, yes, no, yes, yes.
  const s = handScored(
    [
      [0.9, 0.8, 0.7, 0.6, 0.5],
      [0, 0, 0, 0, 0],
    ],
    [
      [1, 1, 0, 1, 1],
      [1, 1, 1, 1, 1],
    ],
    [1, 1, 1, 1, 1],
  );

  it('takes the lowest threshold whose passing set meets the target', () => {
    // Agreement above each threshold: 1/1, 2/2, 2/3, 3/4, 4/5.
    expect(calibrateAccuracyTarget(s, [1, 2], undefined, { target: 0.8 }).thresholds[0]).toBe(0.5);
    expect(calibrateAccuracyTarget(s, [1, 2], undefined, { target: 0.9 }).thresholds[0]).toBe(0.8);
  });

  it('never exits early when no set meets the target', () => {
    const none = handScored(
      [
        [0.9, 0.8],
        [0, 0],
      ],
      [
        [0, 0],
        [1, 1],
      ],
      [1, 1],
    );
    expect(calibrateAccuracyTarget(none, [1, 2], undefined).thresholds[0]).toBe(Infinity);
  });

  it('judges a run of tied scores as one set', () => {
    // The two 0.8s (one agrees, one not) pass or fail together: 2/3 < 0.9.
    const tied = handScored(
      [
        [0.9, 0.8, 0.8],
        [0, 0, 0],
      ],
      [
        [1, 1, 0],
        [1, 1, 1],
      ],
      [1, 1, 1],
    );
    expect(calibrateAccuracyTarget(tied, [1, 2], undefined, { target: 0.9 }).thresholds[0]).toBe(0.9);
  });
});
