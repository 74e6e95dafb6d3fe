import { EeroError } from '../../errors';
import { bisect, bracketByDoubling } from '../bisect';
import { calibrateEeroSorted } from '../eero';
import { thresholdsFromShares } from '../eero-thresholds';
import { eeroWeights, expectedCost } from '../eero-weights';

export interface PathPoint {
  /** EERO's budget for this vector (cost units); the full cost for the first. */
  budget: number;
  /** sum eps[l] cost[l] on the path images. */
  expectedCost: number;
  thresholds: Float64Array;
}

/**
 * Budgets above EERO's unconstrained cost (mu = 0) are reached with mu < 0,
 * which tilts the weights towards the dear exits; as mu -> -inf every image
 * goes to the final exit. This joins the full model smoothly to EERO's own
 * path. Returns the mu closest to 0 whose expected cost is <= budget.
 */
function negativeMu(costs: Float64Array, r: Float64Array, budget: number, beta: number): number {
  const cost = (mu: number): number => expectedCost(eeroWeights(costs, r, mu, beta), costs);
  const full = costs[costs.length - 1] as number;
  const { bad, good } = bracketByDoubling((mu) => cost(mu) > budget, -beta / full);
  return bisect((mu) => cost(mu) <= budget, good, bad);
}

/**
 * The ordered hypotheses: every image to the final exit, then EERO's vector
 * at `steps` budgets evenly spaced from the full cost down to cost[1].
 */
export function certificationPath(
  sorted: readonly Float64Array[],
  r: Float64Array,
  costs: Float64Array,
  steps = 200,
  beta?: number,
): PathPoint[] {
  if (!Number.isInteger(steps) || steps < 1) throw new EeroError('BAD_PARAMETER', `steps must be a positive integer, got ${steps}`);
  const m = costs.length;
  const full = costs[m - 1] as number;
  const first = costs[0] as number;
  // Every image to the final exit: its loss is 0 by construction, the safe end of the walk.
  const top = new Float64Array(m).fill(Infinity);
  top[m - 1] = -Infinity;
  const path: PathPoint[] = [{ budget: full, expectedCost: full, thresholds: top }];
  if (!(first < full)) return path;
  const free = calibrateEeroSorted(sorted, r, costs, full, beta);
  for (let i = 1; i <= steps; i++) {
    const budget = i === steps ? first : full - ((full - first) * i) / steps;
    if (budget > free.expectedCost) {
      const eps = eeroWeights(costs, r, negativeMu(costs, r, budget, free.beta), free.beta);
      path.push({ budget, expectedCost: expectedCost(eps, costs), thresholds: thresholdsFromShares(eps, sorted).thresholds });
    } else {
      const cal = calibrateEeroSorted(sorted, r, costs, budget, free.beta);
      path.push({ budget, expectedCost: cal.expectedCost, thresholds: cal.thresholds });
    }
  }
  return path;
}
