/**
 * The learned score's allocation rule: one global threshold t on the score
 * (a row leaves at the first exit whose score is >= t; the last exit takes
 * the rest), set on the calibration set so that its realised average cost
 * there is the largest that does not exceed a target (EERO's spend at the
 * same budget). Optionally every row leaves by exit `lastExit` (a cap):
 * thresholds t before it, -Infinity from it on.
 */

/** Per row: the exit it leaves at under `thresholds` (scores[exit][row]). */
export function exitsUnderThresholds(scores: readonly Float64Array[], thresholds: ArrayLike<number>, out?: Int32Array): Int32Array {
  const n = scores[0]?.length ?? 0;
  const exitOf = out ?? new Int32Array(n);
  const last = scores.length - 1;
  for (let i = 0; i < n; i++) {
    let l = 0;
    while (l < last && !(((scores[l] as Float64Array)[i] as number) >= (thresholds[l] as number))) l++;
    exitOf[i] = l;
  }
  return exitOf;
}

/** t at exits 0..lastExit-1, -Infinity from lastExit on (lastExit = exits - 1: no cap). */
export function globalThresholds(t: number, exits: number, lastExit = exits - 1): Float64Array {
  const th = new Float64Array(exits).fill(-Infinity);
  th.fill(t, 0, lastExit);
  return th;
}

export function meanCost(exitOf: Int32Array, costs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < exitOf.length; i++) s += costs[exitOf[i] as number] as number;
  return s / exitOf.length;
}

/**
 * The thresholds where the calibration cost can change with `lastExit` as the cap: the distinct
 * scores of exits 0..lastExit-1, ascending (NaN left out). They depend only on the scores, so
 * `PreparedLearned` keeps them for every budget.
 */
export function thresholdCandidates(scores: readonly Float64Array[], lastExit = scores.length - 1): Float64Array {
  const n = scores[0]?.length ?? 0;
  const all = new Float64Array(n * lastExit);
  for (let l = 0; l < lastExit; l++) all.set(scores[l] as Float64Array, l * n);
  all.sort();
  return all.filter((v, i) => !Number.isNaN(v) && (i === 0 || v !== all[i - 1]));
}

/**
 * A threshold whose calibration cost fits `target`, as high as one can be.
 * Raising t can only delay a row's exit, so the cost is non-decreasing in t
 * and a binary search over the distinct observed scores (where the cost
 * changes) finds the largest score s that fits. The threshold returned is
 * the midpoint between s and the next lower distinct score (-Infinity below
 * the lowest): the same exits on the calibration set, but no calibration
 * row sits on it, so a score computed in another order of operations (the
 * early-exit graph's softmax and log, within ~1e-13 of the router's) decides
 * those rows alike. +Infinity means every row runs to `lastExit`.
 */
export function spendMatchedThreshold(
  scores: readonly Float64Array[],
  costs: ArrayLike<number>,
  target: number,
  lastExit = scores.length - 1,
  cand: Float64Array = thresholdCandidates(scores, lastExit),
): number {
  const exits = scores.length;
  const n = scores[0]?.length ?? 0;
  const buf = new Int32Array(n);
  const fits = (t: number): boolean => meanCost(exitsUnderThresholds(scores, globalThresholds(t, exits, lastExit), buf), costs) <= target;
  if (fits(Infinity)) return Infinity;
  // Invariant: lo fits (-1 = -Infinity), hi does not (cand.length = +Infinity).
  let lo = -1;
  let hi = cand.length;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (fits(cand[mid] as number)) lo = mid;
    else hi = mid;
  }
  return lo <= 0 ? -Infinity : between(cand[lo - 1] as number, cand[lo] as number);
}

/** A double in (below, at]: their midpoint, or `at` when no double lies strictly between them. */
function between(below: number, at: number): number {
  const mid = below + (at - below) / 2;
  return mid > below && mid <= at ? mid : at;
}

/** Share of rows whose prediction where they leave equals their final exit's (label-free) or their label. */
export function agreementOf(exitOf: Int32Array, predictions: readonly Int32Array[]): number {
  const final = predictions[predictions.length - 1] as Int32Array;
  let k = 0;
  for (let i = 0; i < exitOf.length; i++) if ((predictions[exitOf[i] as number] as Int32Array)[i] === final[i]) k++;
  return k / exitOf.length;
}

/** Accuracy over the labelled rows (label >= 0); NaN when none is. */
export function accuracyOf(exitOf: Int32Array, predictions: readonly Int32Array[], labels: Int32Array): number {
  let k = 0;
  let n = 0;
  for (let i = 0; i < exitOf.length; i++) {
    const y = labels[i] as number;
    if (y < 0) continue;
    n++;
    if ((predictions[exitOf[i] as number] as Int32Array)[i] === y) k++;
  }
  return n === 0 ? NaN : k / n;
}
