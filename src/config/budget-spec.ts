/** Budgets as users write them (docs/eero.md "Cost units"): a fraction of the full model, or MACs. */
import { EeroError } from '../errors';

export type BudgetSpec = { fraction: number } | { macs: number };

/** Fractions above this are refused as typos: 1 already lets every image finish. */
export const MAX_BUDGET_FRACTION = 1;
/** No model we serve needs a per-image budget of a peta-MAC. */
export const MAX_BUDGET_MACS = 1e15;

/** A number for messages, six significant digits: "4.86621e+6", "500000", "0.25" (trailing zeros of a fraction dropped, never of an integer). */
export function formatCost(v: number): string {
  const p = v.toPrecision(6);
  const [mantissa = p, exponent] = p.split('e');
  const trimmed = mantissa.includes('.') ? mantissa.replace(/\.?0+$/, '') : mantissa;
  return exponent === undefined ? trimmed : `${trimmed}e${exponent}`;
}

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
  if (typeof raw === 'number') return checkBudgetSpec(raw <= 1 ? { fraction: raw } : { macs: raw });
  const m = /^\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)\s*(%|k|m|g|t)?\s*(macs?)?\s*$/i.exec(raw);
  if (!m || m[1] === undefined) return fail();
  const value = Number(m[1]);
  const suffix = (m[2] ?? '').toLowerCase();
  if (suffix === '%') {
    if (m[3] !== undefined) return fail();
    return checkBudgetSpec({ fraction: value / 100 });
  }
  const scale = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12 }[suffix] ?? 1;
  if (suffix === '' && m[3] === undefined && value <= 1) return checkBudgetSpec({ fraction: value });
  return checkBudgetSpec({ macs: value * scale });
}

export function checkBudgetSpec(spec: BudgetSpec): BudgetSpec {
  const [name, value, max] =
    'fraction' in spec ? (['fraction', spec.fraction, MAX_BUDGET_FRACTION] as const) : (['MACs', spec.macs, MAX_BUDGET_MACS] as const);
  if (!Number.isFinite(value) || value <= 0 || value > max) {
    throw new EeroError('BAD_PARAMETER', `budget ${name} must be in (0, ${max}], got ${value}`, { details: { [name]: value, max } });
  }
  return spec;
}

/** How a spec reads in logs and answers: "50%" or "6e+6 MACs". */
export function describeBudget(spec: BudgetSpec): string {
  return 'fraction' in spec ? `${+(100 * spec.fraction).toPrecision(6)}%` : `${formatCost(spec.macs)} MACs`;
}
