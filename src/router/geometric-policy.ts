import { bisect, bracketByDoubling } from './bisect';
import { prepareCalibration } from './calibration-input';
import { sortedExitScores } from './exit-scores';
import { thresholdsFromShares } from './eero-thresholds';
import { expectedCost } from './eero-weights';
import type { PolicyOptions, ThresholdPolicy } from './policy';
import { makeThresholdPolicy } from './policy';
import type { CalibrationData } from './policy';

/**
 * MSDNet's budgeted rule: shares eps[l] ∝ q^(l-1), q set so the expected
 * cost is B, then thresholds from calibration quantiles exactly as EERO's
 * (same correction), so the two differ only in how eps is chosen.
 */

/** eps[l] ∝ exp(l * logQ), normalised; logQ = ±Infinity puts all on the first/last exit. */
export function geometricShares(exits: number, logQ: number): Float64Array {
  const eps = new Float64Array(exits);
  if (logQ === -Infinity) eps[0] = 1;
  else if (logQ === Infinity) eps[exits - 1] = 1;
  else {
    // Shift by the largest exponent so that exp() never overflows.
    const top = logQ > 0 ? (exits - 1) * logQ : 0;
    let sum = 0;
    for (let l = 0; l < exits; l++) sum += eps[l] = Math.exp(l * logQ - top);
    for (let l = 0; l < exits; l++) eps[l] = (eps[l] as number) / sum;
  }
  return eps;
}

/**
 * log q such that sum eps cost = B (the largest such, so cost <= B). The
 * expected cost rises with q (tilting towards later exits), so bisection on
 * log q applies, bracketed by doubling away from q = 1.
 */
export function solveGeometricLogQ(costs: Float64Array, budget: number): number {
  const m = costs.length;
  if (m === 1 || budget >= (costs[m - 1] as number)) return Infinity;
  const fits = (t: number): boolean => expectedCost(geometricShares(m, t), costs) <= budget;
  if (fits(0)) {
    const { bad, good } = bracketByDoubling((t) => !fits(t), 1);
    return bisect(fits, good, bad);
  }
  const { bad, good } = bracketByDoubling(fits, -1);
  return bisect(fits, bad, good);
}

export interface GeometricPolicy extends ThresholdPolicy {
  readonly kind: 'geometric';
  readonly q: number;
  readonly eps: Float64Array;
  readonly cumT: Float64Array;
}

export function calibrateGeometric(
  data: CalibrationData,
  costs: ArrayLike<number>,
  budget: number,
  options: PolicyOptions = {},
): GeometricPolicy {
  const { scoring, scored, costs: c } = prepareCalibration(data, costs, budget, options);
  const logQ = solveGeometricLogQ(c, budget);
  const eps = geometricShares(c.length, logQ);
  const { cumT, thresholds } = thresholdsFromShares(eps, sortedExitScores(scored));
  return makeThresholdPolicy('geometric', thresholds, scoring, budget, { q: Math.exp(logQ), eps, cumT }) as GeometricPolicy;
}
