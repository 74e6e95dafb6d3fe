import { DEFAULTS } from '../config';
import { EeroError } from '../errors';
import { assertFeasibleBudget, validateCosts } from './budget';
import { ensureScored, exitErrorRates, sortedExitScores } from './exit-scores';
import { thresholdsFromShares } from './eero-thresholds';
import { eeroWeights, expectedCost, solveMu } from './eero-weights';
import type { CalibrationData, PolicyOptions, ThresholdPolicy } from './policy';
import { makeThresholdPolicy } from './policy';
import { resolveScoring } from './scores';

/** docs/eero.md "Calibration", end to end. */

const DEFAULT_BETA = DEFAULTS.beta;

export interface EeroCalibration {
  /** Lagrange multiplier of the budget; 0 when the budget does not bind. */
  mu: number;
  /** eps[l]: share of images meant to exit at l. */
  eps: Float64Array;
  cum: Float64Array;
  cumT: Float64Array;
  thresholds: Float64Array;
  /** sum eps[l] cost[l] (<= budget). */
  expectedCost: number;
  budget: number;
  beta: number;
  errorRates: Float64Array;
  /** N, the calibration images the thresholds come from. */
  images: number;
}

export interface EeroOptions extends PolicyOptions {
  beta?: number;
  /** R[l]; by default measured on the labelled calibration rows. */
  errorRates?: ArrayLike<number>;
}

export function validateBeta(beta: number): number {
  if (!(beta > 0) || !Number.isFinite(beta)) {
    throw new EeroError('BAD_PARAMETER', `beta must be a positive number, got ${beta}`);
  }
  return beta;
}

export function validateErrorRates(r: ArrayLike<number>, exits: number): Float64Array {
  const out = Float64Array.from(r);
  if (out.length !== exits) throw new EeroError('BAD_PARAMETER', `${out.length} error rates for ${exits} exits`);
  out.forEach((v, l) => {
    if (!(v >= 0 && v <= 1)) throw new EeroError('BAD_PARAMETER', `error rate of exit ${l + 1} must be in [0, 1], got ${v}`);
  });
  return out;
}

/**
 * The core, on precomputed inputs: validated costs, R, and each exit's
 * calibration scores sorted ascending. Cheap (weights, a bisection, M binary
 * searches), which is what lets ThresholdCache answer a new budget fast.
 */
export function calibrateEeroSorted(
  sortedScores: readonly Float64Array[],
  errorRates: Float64Array,
  costs: Float64Array,
  budget: number,
  beta = DEFAULT_BETA,
  costUnit = 'MACs',
): EeroCalibration {
  validateBeta(beta);
  assertFeasibleBudget(costs, budget, costUnit);
  const mu = solveMu(costs, errorRates, budget, beta);
  const eps = eeroWeights(costs, errorRates, mu, beta);
  const { cum, cumT, thresholds } = thresholdsFromShares(eps, sortedScores);
  return {
    mu,
    eps,
    cum,
    cumT,
    thresholds,
    expectedCost: expectedCost(eps, costs),
    budget,
    beta,
    errorRates,
    images: sortedScores[0]?.length ?? 0,
  };
}

export interface EeroPolicy extends ThresholdPolicy {
  readonly kind: 'eero';
  readonly calibration: EeroCalibration;
}

/** EERO's calibrate factory: all-exit outputs of the calibration set in, policy out. */
export function calibrateEero(data: CalibrationData, costs: ArrayLike<number>, budget: number, options: EeroOptions = {}): EeroPolicy {
  const scoring = resolveScoring(options);
  const scored = ensureScored(data, scoring);
  const c = validateCosts(costs, scored.exits);
  const r = options.errorRates ?? exitErrorRates(scored);
  if (r === undefined) {
    throw new EeroError('BAD_PARAMETER', 'EERO needs per-exit error rates: pass errorRates or labelled calibration outputs');
  }
  const cal = calibrateEeroSorted(
    sortedExitScores(scored),
    validateErrorRates(r, scored.exits),
    c,
    budget,
    options.beta ?? DEFAULT_BETA,
    options.costUnit,
  );
  return makeThresholdPolicy('eero', cal.thresholds, scoring, budget, { calibration: cal }) as EeroPolicy;
}
