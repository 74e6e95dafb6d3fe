import { EeroError } from '../errors';
import { averageCost, prepareCalibration } from './calibration-input';
import type { ScoredOutputs } from './exit-outputs';
import type { CalibrationData, ExitPolicy, PolicyOptions } from './policy';
import { makePolicy } from './policy';

/**
 * Patience (PABEE): leave once `n` consecutive exits, ending at this one,
 * agree on the prediction. A larger n can only delay an exit, so the cost is
 * non-decreasing in n; calibration picks the most patient (most accurate) n
 * whose realised calibration cost fits B. n = 1 leaves at exit 1; n = M
 * behaves as the full model.
 */

/** Per-row exit index under patience n. */
export function exitsUnderPatience(scored: ScoredOutputs, n: number, out = new Int32Array(scored.images)): Int32Array {
  const last = scored.exits - 1;
  for (let i = 0; i < scored.images; i++) {
    let streak = 0;
    let prev = -1;
    let l = 0;
    for (; l < last; l++) {
      const p = (scored.predictions[l] as Int32Array)[i] as number;
      streak = p === prev ? streak + 1 : 1;
      prev = p;
      if (streak >= n) break;
    }
    out[i] = l;
  }
  return out;
}

export interface PatienceOptions extends PolicyOptions {
  /** Force n instead of choosing it from the budget. */
  patience?: number;
}

export interface PatiencePolicy extends ExitPolicy {
  readonly kind: 'patience';
  readonly patience: number;
}

export function calibratePatience(
  data: CalibrationData,
  costs: ArrayLike<number>,
  budget: number,
  options: PatienceOptions = {},
): PatiencePolicy {
  const { scoring, scored, costs: c } = prepareCalibration(data, costs, budget, options);
  const m = c.length;
  let n = options.patience;
  if (n !== undefined && (!Number.isInteger(n) || n < 1)) {
    throw new EeroError('BAD_PARAMETER', `patience must be a positive integer, got ${n}`);
  }
  if (n === undefined) {
    // n = 1 always fits: every image leaves at exit 1, and cost[1] <= B.
    n = 1;
    const buf = new Int32Array(scored.images);
    for (let k = 2; k <= m; k++) {
      if (averageCost(exitsUnderPatience(scored, k, buf), c) > budget) break;
      n = k;
    }
  }
  const patience = n;
  return makePolicy('patience', m, scoring, budget, (_exit, state) => state.streak >= patience, { patience }) as PatiencePolicy;
}
