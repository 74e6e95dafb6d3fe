import type { EeroError } from '../../../src/errors';
import {
  calibrateEero,
  calibrateLearned,
  computeExitScores,
  DEFAULT_FEATURES,
  evaluateLearned,
  evaluatePolicy,
  MARGIN_FEATURES,
  type CalibrationData,
  type ExitOutputs,
  type LearnedOptions,
  type LearnedPolicy,
} from '../../../src/router';
import { expectDecidesAsBatch, runPolicyConformance } from '../policy-conformance';
import { syntheticOutputs } from '../synthetic';

// The shared suite simulates on margin-scored outputs, which keep a margin and a prediction per exit:
// the learned machinery (fit, spend-matched threshold, fallback, row state) runs there on the
// margin-only features. The default features (they read top-1) get the same checks below, on raw outputs.
const marginFactory = (data: CalibrationData, costs: ArrayLike<number>, budget: number, options?: LearnedOptions): LearnedPolicy =>
  calibrateLearned(data, costs, budget, { ...options, fit: { features: MARGIN_FEATURES } });
runPolicyConformance('learned (margin-only features)', marginFactory, { budgeted: true, tunable: true });

const COSTS = [1, 2, 3.5, 5];
const FRACTIONS = [0.25, 0.35, 0.45, 0.55, 0.7, 0.85, 1];
const SEED = 3;

describe('learned score with the default features (raw outputs)', () => {
  let calib: ExitOutputs;
  let test: ExitOutputs;
  let policies: LearnedPolicy[];

  beforeAll(() => {
    calib = syntheticOutputs({ images: 1500, seed: 31 });
    test = syntheticOutputs({ images: 1500, seed: 32 });
    policies = FRACTIONS.map((f) => calibrateLearned(calib, COSTS, f * 5, { seed: SEED }));
  });

  it('fits the default features and serves the learned threshold at some budgets', () => {
    expect(policies[0]?.params.features).toEqual(DEFAULT_FEATURES);
    expect(policies.some((p) => p.which === 'learned')).toBe(true);
  });

  it('never spends more than the budget, nor than EERO, on the calibration set', () => {
    policies.forEach((p, i) => {
      const cost = evaluateLearned(p, calib, COSTS).averageCost;
      expect(cost).toBeLessThanOrEqual((FRACTIONS[i] as number) * 5);
      expect(cost).toBeLessThanOrEqual(p.spendTarget + 1e-12);
      expect(p.spendTarget).toBe(Math.min(evaluatePolicy(p.eero, calib, COSTS).averageCost, (FRACTIONS[i] as number) * 5));
    });
  });

  it('keeps the learned threshold only where it agrees with the final exit more than EERO on calibration', () => {
    for (const p of policies) {
      expect(p.which === 'learned').toBe(p.learnedValue > p.eeroValue);
      if (p.which === 'eero-fallback') expect(evaluateLearned(p, test, COSTS)).toEqual(evaluatePolicy(p.eero, test, COSTS));
    }
  });

  it('spends no less when the budget grows, on calibration and test sets', () => {
    for (const data of [calib, test]) {
      const costs = policies.map((p) => evaluateLearned(p, data, COSTS).averageCost);
      for (let i = 1; i < costs.length; i++) expect(costs[i]).toBeGreaterThanOrEqual(costs[i - 1] as number);
    }
  });

  it('is deterministic for a seed: same params, same decisions', () => {
    const a = calibrateLearned(calib, COSTS, 2.2, { seed: SEED });
    const b = calibrateLearned(calib, COSTS, 2.2, { seed: SEED });
    expect(b.params).toEqual(a.params);
    expect(evaluateLearned(b, test, COSTS)).toEqual(evaluateLearned(a, test, COSTS));
  });

  it('decides row by row, from probabilities or logits, exactly as the batched simulation', () => {
    const p = policies.find((q) => q.which === 'learned') as LearnedPolicy;
    expectDecidesAsBatch(p, test, evaluateLearned(p, test, COSTS));
  });

  it('uses fitted params it is given, decides on learned scores, and refuses a margin-only simulation of top-1 features', () => {
    const p = policies[2] as LearnedPolicy;
    const again = calibrateLearned(calib, COSTS, 0.45 * 5, { seed: SEED, fitted: p.params });
    expect(again.params).toBe(p.params);
    expect(again.threshold).toBe(p.threshold);
    const learned = policies.find((q) => q.which === 'learned') as LearnedPolicy;
    // A threshold policy on the learned score: a scored row carries its learned score.
    expect(learned.scoring.score).toBe('learned');
    expect(learned.decideScored(0, learned.threshold, 1, learned.createRowState(0))).toBe(true);
    expect(learned.decideScored(0, learned.threshold - 1e-9, 1, learned.createRowState(0))).toBe(false);
    expect(() => calibrateLearned(computeExitScores(calib, { seed: SEED }), COSTS, 2.5, { seed: SEED })).toThrow(
      expect.objectContaining({ code: 'BAD_PARAMETER', message: expect.stringContaining('need the exit probabilities') }),
    );
  });

  it('falls back to EERO where the learned score ranks rows badly', () => {
    // Scoring exit l by minus its margin: the least sure rows leave first.
    const bad = JSON.parse(JSON.stringify(policies[0]?.params)) as LearnedPolicy['params'];
    if (bad.kind !== 'logistic') throw new Error('expected logistic params');
    bad.perExit.forEach((m) => {
      m.bias = 0;
      m.weights = bad.features.map((f) => (f === 'margin' ? -10 : 0));
    });
    for (const f of [0.35, 0.55]) {
      const p = calibrateLearned(calib, COSTS, f * 5, { seed: SEED, fitted: bad });
      expect(p.which).toBe('eero-fallback');
      expect(Array.from(p.thresholds)).toEqual(Array.from(calibrateEero(calib, COSTS, f * 5, { seed: SEED }).thresholds));
    }
  });

  it('judges by accuracy when asked, and needs labels for it', () => {
    const p = calibrateLearned(calib, COSTS, 2.5, { seed: SEED, criterion: 'accuracy' });
    expect(p.criterion).toBe('accuracy');
    const unlabelled = { ...calib, labels: new Int32Array(calib.images).fill(-1) };
    let err: EeroError | undefined;
    try {
      calibrateLearned(unlabelled, COSTS, 2.5, { seed: SEED, criterion: 'accuracy', errorRates: [0.3, 0.2, 0.1, 0.05] });
    } catch (e) {
      err = e as EeroError;
    }
    expect(err?.code).toBe('BAD_PARAMETER');
  });
});
