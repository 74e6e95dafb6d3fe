import { EeroError } from '../errors';
import { prepareCalibration } from './calibration-input';
import type { ScoredOutputs } from './exit-outputs';
import type { CalibrationData, PolicyOptions, ThresholdPolicy } from './policy';
import { makeThresholdPolicy } from './policy';

/**
 * The self-supervised paper's rule: per auxiliary exit, the lowest threshold
 * t such that, among calibration images with score >= t, the exit agrees
 * with the final exit on at least `target` of them. No labels are needed.
 * It targets agreement, not cost: the budget argument is ignored.
 */

/**
 * Scan exit l's images from the most to the least confident; at each
 * distinct score (the end of a run of ties, so the set is exactly
 * {score >= t}) check the agreement so far. The lowest qualifying t wins,
 * even if some higher t fails: the rule asks for the largest set that meets
 * the target. +Infinity when no set does.
 */
export function agreementThreshold(scored: ScoredOutputs, exit: number, target: number): number {
  const s = scored.scores[exit] as Float64Array;
  const p = scored.predictions[exit] as Int32Array;
  const fin = scored.predictions[scored.exits - 1] as Int32Array;
  const order = Array.from({ length: scored.images }, (_, i) => i).sort((a, b) => (s[b] as number) - (s[a] as number));
  let agree = 0;
  let best = Infinity;
  for (let r = 0; r < order.length; r++) {
    const i = order[r] as number;
    if (p[i] === fin[i]) agree++;
    const next = order[r + 1];
    const endOfTies = next === undefined || (s[next] as number) < (s[i] as number);
    // The 1e-9 keeps float error in target * count (0.57 * 100 < 57) from failing a set.
    if (endOfTies && agree >= target * (r + 1) - 1e-9) best = s[i] as number;
  }
  return best;
}

export interface AccuracyTargetOptions extends PolicyOptions {
  /** Required agreement with the final exit, in (0, 1]; default 0.99. */
  target?: number;
}

export interface AccuracyTargetPolicy extends ThresholdPolicy {
  readonly kind: 'accuracy-target';
  readonly target: number;
}

export function calibrateAccuracyTarget(
  data: CalibrationData,
  costs: ArrayLike<number>,
  _budget: number | undefined,
  options: AccuracyTargetOptions = {},
): AccuracyTargetPolicy {
  const target = options.target ?? 0.99;
  if (!(target > 0 && target <= 1)) {
    throw new EeroError('BAD_PARAMETER', `accuracy target must be in (0, 1], got ${target}`);
  }
  const { scoring, scored } = prepareCalibration(data, costs, undefined, options);
  const m = scored.exits;
  const thresholds = new Float64Array(m);
  for (let l = 0; l < m - 1; l++) thresholds[l] = agreementThreshold(scored, l, target);
  thresholds[m - 1] = -Infinity;
  return makeThresholdPolicy('accuracy-target', thresholds, scoring, undefined, { target }) as AccuracyTargetPolicy;
}
