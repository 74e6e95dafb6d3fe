import { averageCost, prepareCalibration } from './calibration-input';
import type { ScoredOutputs } from './exit-outputs';
import type { CalibrationData, PolicyOptions, ThresholdPolicy } from './policy';
import { makeThresholdPolicy } from './policy';

/**
 * One confidence threshold t for every auxiliary exit, swept on the
 * calibration set to the largest t whose realised average cost fits B.
 * Raising t can only delay each image's exit, so the cost is non-decreasing
 * in t and a binary search over the distinct observed scores (the only
 * places where it changes) finds the answer.
 */

/** Per-row exit index under one global threshold. */
export function exitsUnderThreshold(scored: ScoredOutputs, t: number, out = new Int32Array(scored.images)): Int32Array {
  const last = scored.exits - 1;
  for (let i = 0; i < scored.images; i++) {
    let l = 0;
    while (l < last && ((scored.scores[l] as Float64Array)[i] as number) < t) l++;
    out[i] = l;
  }
  return out;
}

export interface GlobalThresholdPolicy extends ThresholdPolicy {
  readonly kind: 'global-threshold';
  readonly threshold: number;
}

export function calibrateGlobalThreshold(
  data: CalibrationData,
  costs: ArrayLike<number>,
  budget: number,
  options: PolicyOptions = {},
): GlobalThresholdPolicy {
  const { scoring, scored, costs: c } = prepareCalibration(data, costs, budget, options);
  const m = c.length;
  let t = Infinity;
  if (m > 1 && budget < (c[m - 1] as number)) {
    const all = new Float64Array(scored.images * (m - 1));
    for (let l = 0; l < m - 1; l++) all.set(scored.scores[l] as Float64Array, l * scored.images);
    all.sort();
    const cand = all.filter((v, i) => i === 0 || v !== all[i - 1]);
    const buf = new Int32Array(scored.images);
    const fits = (j: number): boolean => averageCost(exitsUnderThreshold(scored, cand[j] as number, buf), c) <= budget;
    // Invariant: index lo fits (lo = -1 means -Infinity: all leave at exit 1,
    // cost[1] <= B), index hi does not (hi = cand.length means +Infinity).
    let lo = -1;
    let hi = cand.length;
    while (hi - lo > 1) {
      const mid = (lo + hi) >>> 1;
      if (fits(mid)) lo = mid;
      else hi = mid;
    }
    t = lo < 0 ? -Infinity : (cand[lo] as number);
  }
  const thresholds = new Float64Array(m).fill(t);
  thresholds[m - 1] = -Infinity;
  return makeThresholdPolicy('global-threshold', thresholds, scoring, budget, { threshold: t }) as GlobalThresholdPolicy;
}
