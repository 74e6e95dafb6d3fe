/**
 * Empirical thresholds on sorted scores. One rule everywhere: an image exits
 * when `score >= threshold`.
 */

/** First index whose value is > v in an ascending array (sorted.length if none). */
export function upperBound(sorted: ArrayLike<number>, v: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** How many values are >= t in an ascending array. @internal For the tests. */
export function countAtLeast(sorted: ArrayLike<number>, t: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) < t) lo = mid + 1;
    else hi = mid;
  }
  return sorted.length - lo;
}

/**
 * docs/eero.md step 6: the lower empirical (1 - share) quantile, i.e. the
 * threshold that lets the LARGEST number of values k' pass `score >= tau`
 * subject to k' <= k = floor(share * N).
 *
 * - share >= 1 (or k = N): -Infinity, everyone passes.
 * - k = 0: +Infinity, nobody passes.
 * - otherwise let v be the (N-k)-th smallest value; tau is the smallest value
 *   strictly above v. Without ties that is the k-th largest value and exactly
 *   k pass; with ties at v, fewer pass (never more), and if nothing is above
 *   v, tau = +Infinity. All-equal scores therefore pass nobody unless share = 1.
 *
 * The 1e-9 slack keeps float error in share * N (e.g. 0.7 * 10) from
 * dropping a whole image.
 */
export function thresholdForShare(sorted: ArrayLike<number>, share: number): number {
  const n = sorted.length;
  if (share >= 1) return -Infinity;
  const k = Math.floor(share * n + 1e-9);
  if (k <= 0) return Infinity;
  if (k >= n) return -Infinity;
  const v = sorted[n - k - 1] as number;
  const j = upperBound(sorted, v);
  return j < n ? (sorted[j] as number) : Infinity;
}
