import { bisect, bracketByDoubling } from './bisect';

/**
 * docs/eero.md steps 1, 2 and 4: the exponential weights over exits and the
 * Lagrange multiplier mu that makes their expected cost meet the budget.
 */

/**
 * w_l(mu) = pi_l exp(-(R_l + mu cost_l) / beta), pi_l ∝ 1/cost_l, normalised.
 * In log space with log-sum-exp: with beta = 0.04 an error gap of 0.4 alone
 * is a factor e^10, and mu * cost / beta overflows exp() long before the
 * bisection is done. pi's normaliser cancels, so log pi_l = -log cost_l.
 */
export function eeroWeights(
  costs: ArrayLike<number>,
  errorRates: ArrayLike<number>,
  mu: number,
  beta: number,
  out: Float64Array = new Float64Array(costs.length),
): Float64Array {
  const m = costs.length;
  let max = -Infinity;
  for (let l = 0; l < m; l++) {
    const c = costs[l] as number;
    const lw = -Math.log(c) - ((errorRates[l] as number) + mu * c) / beta;
    out[l] = lw;
    if (lw > max) max = lw;
  }
  let sum = 0;
  for (let l = 0; l < m; l++) {
    const e = Math.exp((out[l] as number) - max);
    out[l] = e;
    sum += e;
  }
  for (let l = 0; l < m; l++) out[l] = (out[l] as number) / sum;
  return out;
}

export function expectedCost(shares: ArrayLike<number>, costs: ArrayLike<number>): number {
  let s = 0;
  for (let l = 0; l < costs.length; l++) s += (shares[l] as number) * (costs[l] as number);
  return s;
}

/**
 * Step 4: mu = 0 if the unconstrained weights already fit; else the mu > 0
 * with sum w(mu) cost = B. The expected cost falls as mu grows (the weights
 * tilt towards cheap exits), so bisection applies; it is bracketed by
 * doubling from beta / cost[M] (where mu * cost / beta is about 1). The
 * returned mu is the upper end of the final bracket, so its expected cost
 * is <= B, never just above. A budget equal to cost[1] is reached once
 * exp() underflows for the dearer exits, so the bracket always closes.
 */
export function solveMu(costs: ArrayLike<number>, errorRates: ArrayLike<number>, budget: number, beta: number): number {
  const m = costs.length;
  // The mu-free part of each log weight, once: the bisection then costs one
  // exp() per exit and step (this runs per request budget, see ThresholdCache).
  const base = new Float64Array(m);
  for (let l = 0; l < m; l++) base[l] = -Math.log(costs[l] as number) - (errorRates[l] as number) / beta;
  const fits = (mu: number): boolean => {
    let max = -Infinity;
    for (let l = 0; l < m; l++) max = Math.max(max, (base[l] as number) - (mu * (costs[l] as number)) / beta);
    let sum = 0;
    let weighted = 0;
    for (let l = 0; l < m; l++) {
      const c = costs[l] as number;
      const e = Math.exp((base[l] as number) - (mu * c) / beta - max);
      sum += e;
      weighted += e * c;
    }
    return weighted / sum <= budget;
  };
  if (fits(0)) return 0;
  const full = costs[m - 1] as number;
  const { bad, good } = bracketByDoubling(fits, beta / full);
  return bisect(fits, bad, good);
}
