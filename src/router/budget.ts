import { EeroError } from '../errors';

/**
 * Costs and budgets. `cost[l]` is cumulative (EERO.md "Notation"), so it must
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

function formatCost(v: number): string {
  return Number.isInteger(v) || Math.abs(v) >= 1e4 ? v.toPrecision(6).replace(/\.?0+(e|$)/, '$1') : String(+v.toPrecision(6));
}

/**
 * EERO.md step 3: every image pays at least the first exit, so no policy can
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

/** A budget as users give it (EERO.md): a fraction of the full model, or MACs. */
export type BudgetSpec = { fraction: number } | { macs: number };

/** Fractions above this are refused as typos: 1 already lets every image finish. */
export const MAX_BUDGET_FRACTION = 1;
/** No model we serve needs a per-image budget of a peta-MAC. */
export const MAX_BUDGET_MACS = 1e15;

/**
 * Parse a user budget: `0.5` or `"50%"` is a fraction of the full model;
 * `"6e8"`, `"600M"`, `"1.2G"`, `"600000000 MACs"` are MACs. A bare number
 * <= 1 is a fraction and > 1 is MACs: no model costs one MAC.
 */
export function parseBudget(raw: string | number): BudgetSpec {
  const fail = (): never => {
    throw new EeroError(
      'BAD_PARAMETER',
      `budget "${String(raw)}" is neither a fraction of the full model (0 < f <= 1, e.g. 0.5 or 50%) nor MACs (e.g. 6e8, 600M)`,
    );
  };
  if (typeof raw === 'number') return checkSpec(raw <= 1 ? { fraction: raw } : { macs: raw });
  const m = /^\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)\s*(%|k|m|g|t)?\s*(macs?)?\s*$/i.exec(raw);
  if (!m || m[1] === undefined) return fail();
  const value = Number(m[1]);
  const suffix = (m[2] ?? '').toLowerCase();
  if (suffix === '%') {
    if (m[3] !== undefined) return fail();
    return checkSpec({ fraction: value / 100 });
  }
  const scale = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12 }[suffix] ?? 1;
  if (suffix === '' && m[3] === undefined && value <= 1) return checkSpec({ fraction: value });
  return checkSpec({ macs: value * scale });
}

function checkSpec(spec: BudgetSpec): BudgetSpec {
  const [name, value, max] =
    'fraction' in spec ? (['fraction', spec.fraction, MAX_BUDGET_FRACTION] as const) : (['MACs', spec.macs, MAX_BUDGET_MACS] as const);
  if (!Number.isFinite(value) || value <= 0 || value > max) {
    throw new EeroError('BAD_PARAMETER', `budget ${name} must be in (0, ${max}], got ${value}`, {
      details: { [name]: value, max },
    });
  }
  return spec;
}

/**
 * A budget in cost units. With costs in MACs, a MACs budget is taken as it
 * is. With costs in another unit (seconds measured per stage), a MACs budget
 * is read as its fraction of the full model's MACs: the only honest mapping
 * when MACs are not time.
 */
export function resolveBudget(spec: BudgetSpec, costs: ArrayLike<number>, macs?: ArrayLike<number>): number {
  checkSpec(spec);
  const c = validateCosts(costs);
  const full = c[c.length - 1] as number;
  if ('fraction' in spec) return spec.fraction * full;
  if (macs === undefined) return spec.macs;
  const m = validateCosts(macs, c.length);
  return (spec.macs / (m[m.length - 1] as number)) * full;
}
