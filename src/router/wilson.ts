import { EeroError } from '../errors';

/**
 * Wilson's score interval for a binomial proportion (Wilson 1927; method 3
 * of Newcombe 1998): the proportions p whose score test |phat - p| /
 * sqrt(p (1 - p) / n) <= z does not reject. Unlike the Wald interval it
 * stays inside [0, 1] and does not collapse to a point at 0 or n successes,
 * which matters for the rare events (violations, disagreements) we count.
 */

/** z of a two-sided 95% interval: the 0.975 quantile of the standard normal. */
const Z_95 = 1.959964;

export interface ProportionInterval {
  /** successes / n; NaN when n = 0. */
  ratio: number;
  lower: number;
  upper: number;
}

/**
 * With n = 0 there is no evidence at all, so the interval is the whole of
 * [0, 1] and the ratio NaN (not 0, which would read as "never happens").
 */
export function wilsonInterval(successes: number, n: number, z = Z_95): ProportionInterval {
  if (!Number.isSafeInteger(n) || n < 0) throw new EeroError('BAD_PARAMETER', `n must be a non-negative integer, got ${n}`);
  if (!Number.isSafeInteger(successes) || successes < 0 || successes > n) {
    throw new EeroError('BAD_PARAMETER', `successes must be an integer in [0, ${n}], got ${successes}`);
  }
  if (!(z > 0) || !Number.isFinite(z)) throw new EeroError('BAD_PARAMETER', `z must be a positive number, got ${z}`);
  if (n === 0) return { ratio: NaN, lower: 0, upper: 1 };
  const p = successes / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z / denom) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  // The ends are exactly 0 and 1 at 0 and n successes; clamp the float error there.
  return {
    ratio: p,
    lower: successes === 0 ? 0 : Math.max(0, centre - half),
    upper: successes === n ? 1 : Math.min(1, centre + half),
  };
}
