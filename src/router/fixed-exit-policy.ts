import { EeroError } from '../errors';
import { assertFeasibleBudget } from './budget';
import { prepareCalibration } from './calibration-input';
import type { CalibrationData, PolicyOptions, ThresholdPolicy } from './policy';
import { makeThresholdPolicy } from './policy';

/**
 * Each exit alone: every image leaves at one exit. By default the deepest
 * exit whose cost fits the budget; `exit` (0-based) names one for the
 * "each exit alone" benchmark rows.
 */
export interface FixedExitOptions extends PolicyOptions {
  exit?: number;
}

export interface FixedExitPolicy extends ThresholdPolicy {
  readonly kind: 'fixed-exit';
  readonly exit: number;
}

export function calibrateFixedExit(
  data: CalibrationData,
  costs: ArrayLike<number>,
  budget: number,
  options: FixedExitOptions = {},
): FixedExitPolicy {
  const { scoring, costs: c } = prepareCalibration(data, costs, budget, options);
  const m = c.length;
  let exit = options.exit;
  if (exit === undefined) {
    exit = 0;
    while (exit + 1 < m && (c[exit + 1] as number) <= budget) exit++;
  } else if (!Number.isInteger(exit) || exit < 0 || exit >= m) {
    throw new EeroError('BAD_PARAMETER', `exit must be an integer in [0, ${m - 1}], got ${exit}`);
  } else {
    // A named exit must still fit: its cost is every image's cost. (The
    // percentages stay relative to the full model: subarray keeps cost[M].)
    assertFeasibleBudget(c.subarray(exit), budget, options.costUnit, exit + 1);
  }
  const thresholds = new Float64Array(m).fill(Infinity).fill(-Infinity, exit);
  return makeThresholdPolicy('fixed-exit', thresholds, scoring, budget, { exit }) as FixedExitPolicy;
}
