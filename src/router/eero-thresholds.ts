import { thresholdForShare } from './quantile';

/**
 * docs/eero.md steps 5 and 6: from the shares eps[l] of images meant to exit at
 * each exit to per-exit score thresholds. Shared by EERO and the geometric
 * rule, which differ only in eps.
 */
export interface ExitThresholds {
  /** cum[l] = eps[1] + ... + eps[l] */
  cum: Float64Array;
  /** cum[l] + cum[l] / sqrt(N), capped at 1; cumT[M] = 1. */
  cumT: Float64Array;
  /** Exit when score >= thresholds[l]; thresholds[M] = -Infinity. */
  thresholds: Float64Array;
}

export function cumulativeShares(eps: ArrayLike<number>, images: number): { cum: Float64Array; cumT: Float64Array } {
  const m = eps.length;
  const cum = new Float64Array(m);
  const cumT = new Float64Array(m);
  const root = Math.sqrt(images);
  let acc = 0;
  for (let l = 0; l < m; l++) {
    acc += eps[l] as number;
    cum[l] = acc;
    // Finite-sample correction (ours): c = cum[l]. It lets slightly more
    // images exit than eps asks, which can only lower the cost.
    cumT[l] = Math.min(1, acc + acc / root);
  }
  cumT[m - 1] = 1;
  return { cum, cumT };
}

/**
 * `sortedScores[l]` holds exit l's scores over the WHOLE calibration set,
 * ascending. tau[l] is taken on that marginal distribution, not on the
 * images that survive to exit l: `score_l >= tau[l]` would let at most
 * cumT[l] of all images leave if exit l saw them all. Since images leave at
 * the first exit they pass, the share gone by exit l is at least the share
 * passing exit l alone (about cumT[l] >= cum[l]), which is what bounds the
 * expected cost by sum eps[l] cost[l] (cost is cumulative).
 */
export function thresholdsFromShares(eps: ArrayLike<number>, sortedScores: readonly ArrayLike<number>[]): ExitThresholds {
  const m = eps.length;
  const n = sortedScores[0]?.length ?? 0;
  const { cum, cumT } = cumulativeShares(eps, n);
  const thresholds = new Float64Array(m);
  for (let l = 0; l < m - 1; l++) thresholds[l] = thresholdForShare(sortedScores[l] ?? [], cumT[l] as number);
  thresholds[m - 1] = -Infinity;
  return { cum, cumT, thresholds };
}
