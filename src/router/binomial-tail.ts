import { EeroError } from '../errors';

/**
 * p-values for "the loss rate r exceeds alpha" from k losses in n i.i.d.
 * images with a 0/1 loss (Learn then Test, Angelopoulos et al. 2021).
 *
 * The exact binomial tail P(Bin(n, alpha) <= k) is the one certify uses:
 * for a 0/1 loss it is valid (under r >= alpha, Bin(n, r) is stochastically
 * larger than Bin(n, alpha), so P(p <= u) <= u) and it is the smallest of
 * the three, since Hoeffding's exp(-n KL(k/n || alpha)) is a Chernoff bound
 * on that same tail and Bentkus' is e times it. Hoeffding–Bentkus is kept for
 * losses in [0, 1] that are not 0/1 and for comparison.
 */

const LOG_2PI = Math.log(2 * Math.PI);

/** Below this, stirlerr comes from log n! summed exactly; above, from its series. */
const STIRLING_SERIES_FROM = 15;

/**
 * stirlerr(n) = log n! - [(n + 1/2) log n - n + log sqrt(2 pi)], the error
 * of Stirling's formula (Loader 2000). Working with it instead of log-gamma
 * differences avoids losing ~7 digits to cancellation at n = 1e6.
 */
function stirlerr(n: number): number {
  if (n <= STIRLING_SERIES_FROM) {
    let logFact = 0;
    for (let i = 2; i <= n; i++) logFact += Math.log(i);
    return n === 0 ? 0 : logFact - (n + 0.5) * Math.log(n) + n - LOG_2PI / 2;
  }
  const n2 = n * n;
  return (1 / 12 - (1 / 360 - (1 / 1260 - (1 / 1680 - 1 / (1188 * n2)) / n2) / n2) / n2) / n;
}

/** bd0(x, m) = x log(x / m) + m - x, by its series when x is close to m (Loader 2000). */
function bd0(x: number, m: number): number {
  if (Math.abs(x - m) < 0.1 * (x + m)) {
    const v = (x - m) / (x + m);
    let s = (x - m) * v;
    let ej = 2 * x * v;
    for (let j = 1; j < 1000; j++) {
      ej *= v * v;
      const next = s + ej / (2 * j + 1);
      if (next === s) return s;
      s = next;
    }
    return s;
  }
  return x * Math.log(x / m) + m - x;
}

/** log P(Bin(n, p) = k), by Loader's saddle-point expansion. */
export function binomialLogPmf(k: number, n: number, p: number): number {
  if (k < 0 || k > n) return -Infinity;
  if (p === 0) return k === 0 ? 0 : -Infinity;
  if (p === 1) return k === n ? 0 : -Infinity;
  if (k === 0) return n * Math.log1p(-p);
  if (k === n) return n * Math.log(p);
  const q = 1 - p;
  const lc = stirlerr(n) - stirlerr(k) - stirlerr(n - k) - bd0(k, n * p) - bd0(n - k, n * q);
  return lc - 0.5 * (LOG_2PI + Math.log(k) + Math.log1p(-k / n));
}

function validate(k: number, n: number, p: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new EeroError('BAD_PARAMETER', `binomial n must be a non-negative integer, got ${n}`);
  if (!Number.isSafeInteger(k)) throw new EeroError('BAD_PARAMETER', `binomial k must be an integer, got ${k}`);
  if (!(p >= 0 && p <= 1)) throw new EeroError('BAD_PARAMETER', `binomial p must be in [0, 1], got ${p}`);
}

/**
 * Sum of the pmf from `start` outwards, where each step multiplies by
 * ratio(j) < 1 and the ratios keep shrinking: the remaining tail after a
 * term t at ratio r is at most t r / (1 - r), which is the stopping rule.
 * Returns log(sum / pmf(start)).
 */
function logRelativeSum(start: number, steps: number, ratio: (j: number) => number): number {
  let s = 1;
  let t = 1;
  for (let i = 0; i < steps; i++) {
    const r = ratio(i);
    t *= r;
    s += t;
    if (t * r < 1e-17 * s * (1 - r)) break;
  }
  return Math.log(s);
}

/**
 * log P(Bin(n, p) <= k), stable for n up to ~1e9: a sum of pmf terms from
 * the one nearest the mode outwards, scaled by that term. Below the mean
 * the lower tail is summed downwards from k; above it, the upper tail from
 * k + 1 upwards (at most about 1/2 there) and log1p(-upper) taken.
 */
export function binomialLogCdf(k: number, n: number, p: number): number {
  validate(k, n, p);
  if (k < 0) return -Infinity;
  if (k >= n || p === 0) return 0;
  if (p === 1) return -Infinity;
  const q = 1 - p;
  if (k < n * p) {
    // pmf(j - 1) / pmf(j) = j q / ((n - j + 1) p) < 1 for j <= k < n p.
    return binomialLogPmf(k, n, p) + logRelativeSum(k, k, (i) => ((k - i) * q) / ((n - k + i + 1) * p));
  }
  // pmf(j + 1) / pmf(j) = (n - j) p / ((j + 1) q) < 1 for j >= k + 1 > n p.
  const j0 = k + 1;
  const upper = Math.exp(binomialLogPmf(j0, n, p) + logRelativeSum(j0, n - j0, (i) => ((n - j0 - i) * p) / ((j0 + i + 1) * q)));
  return Math.log1p(-Math.min(1, upper));
}

/** P(Bin(n, p) <= k): the exact binomial p-value of H0 "rate > p" with k losses in n. */
export function binomialCdf(k: number, n: number, p: number): number {
  return Math.exp(binomialLogCdf(k, n, p));
}

/** KL divergence between Bernoulli(a) and Bernoulli(b), with 0 log 0 = 0. */
function bernoulliKl(a: number, b: number): number {
  const term = (x: number, y: number): number => (x === 0 ? 0 : x * Math.log(x / y));
  return term(a, b) + term(1 - a, 1 - b);
}

/** Hoeffding's p-value (LTT eq. 9): exp(-n h(min(rhat, alpha), alpha)). */
export function hoeffdingPValue(riskHat: number, n: number, alpha: number): number {
  if (n === 0) return 1;
  return Math.exp(-n * bernoulliKl(Math.min(riskHat, alpha), alpha));
}

/** Bentkus' p-value (LTT eq. 10): e P(Bin(n, alpha) <= ceil(n rhat)), capped at 1. */
export function bentkusPValue(riskHat: number, n: number, alpha: number): number {
  // The 1e-9 keeps float error in rhat * n (0.07 * 100) from adding a whole loss.
  return Math.min(1, Math.E * binomialCdf(Math.ceil(n * riskHat - 1e-9), n, alpha));
}

/** Hoeffding–Bentkus (LTT): valid for any loss in [0, 1] with mean riskHat over n. @internal For the tests. */
export function hoeffdingBentkusPValue(riskHat: number, n: number, alpha: number): number {
  return Math.min(hoeffdingPValue(riskHat, n, alpha), bentkusPValue(riskHat, n, alpha));
}
