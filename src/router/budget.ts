import { checkBudgetSpec, formatCost, type BudgetSpec } from '../config';
import { EeroError } from '../errors';

/**
 * Costs and budgets. `cost[l]` is cumulative (docs/eero.md "Notation"), so it must
 * be positive (the prior is 1/cost) and non-decreasing. A budget is the
 * allowed AVERAGE cost per image, in the same unit as `cost`.
 */

export function validateCosts(costs: ArrayLike<number>, exits?: number): Float64Array {
  const c = Float64Array.from(costs);
  if (c.length < 1) throw new EeroError('BAD_PARAMETER', 'costs: at least one exit is needed');
  if (exits !== undefined && c.length !== exits) {
    throw new EeroError('BAD_PARAMETER', `costs: ${c.length} costs for ${exits} exits`);
  }
  for (let l = 0; l < c.length; l++) {
    const v = c[l] as number;
    if (!(v > 0) || !Number.isFinite(v)) {
      throw new EeroError('BAD_PARAMETER', `costs: cost of exit ${l + 1} must be a positive number, got ${v}`);
    }
    if (l > 0 && v < (c[l - 1] as number)) {
      throw new EeroError('BAD_PARAMETER', `costs: cumulative cost must not decrease (exit ${l + 1}: ${v} < ${c[l - 1]})`);
    }
  }
  return c;
}

/** A budget handed to the maths: a positive number (Infinity = no limit). */
export function validateBudget(budget: number): number {
  if (typeof budget !== 'number' || Number.isNaN(budget) || budget <= 0) {
    throw new EeroError('BAD_PARAMETER', `budget must be a positive number, got ${String(budget)}`);
  }
  return budget;
}

/**
 * docs/eero.md, calibration step 3: every image pays at least the first exit, so no policy can
 * keep an average below cost[1]. The error names that cheapest feasible budget.
 */
export function assertFeasibleBudget(costs: Float64Array, budget: number, costUnit = 'MACs', firstExit = 1): void {
  validateBudget(budget);
  const cheapest = costs[0] as number;
  if (budget >= cheapest) return;
  const full = costs[costs.length - 1] as number;
  const pct = (v: number): string => `${+(100 * (v / full)).toPrecision(4)}%`;
  throw new EeroError(
    'BUDGET_INFEASIBLE',
    `budget ${formatCost(budget)} ${costUnit} (${pct(budget)} of the full model) is below the cheapest feasible ` +
      `budget ${formatCost(cheapest)} ${costUnit} (${pct(cheapest)} of the full model: every image stops at exit ${firstExit})`,
    {
      details: {
        cheapestFeasible: cheapest,
        cheapestFeasibleFraction: cheapest / full,
        requested: budget,
        requestedFraction: budget / full,
        costUnit,
      },
    },
  );
}

/**
 * A budget in cost units. With costs in MACs, a MACs budget is taken as it
 * is. With costs in another unit (seconds measured per stage), a MACs budget
 * is read as its fraction of the full model's MACs: the only honest mapping
 * when MACs are not time.
 */
export function resolveBudget(spec: BudgetSpec, costs: ArrayLike<number>, macs?: ArrayLike<number>): number {
  checkBudgetSpec(spec);
  const c = validateCosts(costs);
  const full = c[c.length - 1] as number;
  if ('fraction' in spec) return spec.fraction * full;
  if (macs === undefined) return spec.macs;
  const m = validateCosts(macs, c.length);
  return (spec.macs / (m[m.length - 1] as number)) * full;
}
