import { validateCosts } from './budget';
import type { ExitOutputs, ScoredOutputs } from './exit-outputs';
import { ensureScored } from './exit-scores';
import { evaluatePolicy, oracle, type Evaluation } from './evaluate';
import { calibrateFixedExit } from './fixed-exit-policy';
import { POLICY_FACTORIES, BUDGETED_POLICIES, type SweptPolicyKind } from './policies';
import type { ExitPolicy, PolicyKind, PolicyOptions } from './policy';
import { resolveScoring, type ScoreKind, type ScoringOptions } from './scores';

/**
 * Accuracy against average cost for many methods and budgets, calibrated on
 * one set and evaluated on another: what `eero calibrate` and the benchmarks
 * report.
 */
export interface SweepMethod {
  /** Label in tables and plots, e.g. "EERO (margin)". */
  name: string;
  kind: SweptPolicyKind;
  options?: PolicyOptions & Record<string, unknown>;
}

export interface SweepPoint {
  method: string;
  kind: PolicyKind | 'oracle';
  /** Budget in cost units (NaN for methods without one). */
  budget: number;
  budgetFraction: number;
  accuracy: number;
  averageCost: number;
  costFraction: number;
  exitShares: number[];
  /** Realised cost above the budget (budgeted methods only). */
  violation: boolean;
  policy?: ExitPolicy;
}

/** EERO and the budgeted baselines, all on one score. */
export function sweepMethods(score: ScoreKind = 'margin', beta?: number): SweepMethod[] {
  return [
    { name: `EERO (${score})`, kind: 'eero', options: { score, ...(beta === undefined ? {} : { beta }) } },
    { name: 'global threshold', kind: 'global-threshold', options: { score } },
    { name: 'geometric (MSDNet)', kind: 'geometric', options: { score } },
    { name: 'patience', kind: 'patience' },
  ];
}

/** A grid of budget fractions from the cheapest exit to the full cost. */
export function budgetGrid(costs: ArrayLike<number>, steps = 10): number[] {
  const c = validateCosts(costs);
  const lo = (c[0] as number) / (c[c.length - 1] as number);
  // The exact cheapest fraction, nudged up so that fraction * full never falls below cost[1].
  const out = new Set<number>([lo * (1 + 1e-12)]);
  for (let i = 1; i <= steps; i++) {
    const f = +(lo + ((1 - lo) * i) / steps).toFixed(4);
    out.add(f);
  }
  return [...out].sort((a, b) => a - b);
}

function point(method: string, kind: SweepPoint['kind'], budget: number, full: number, e: Evaluation, policy?: ExitPolicy): SweepPoint {
  return {
    method,
    kind,
    budget,
    budgetFraction: budget / full,
    accuracy: e.accuracy,
    averageCost: e.averageCost,
    costFraction: e.costFraction,
    exitShares: e.exitShares,
    // A hair of tolerance for floating-point sums of equal costs.
    violation: Number.isFinite(budget) && e.averageCost > budget * (1 + 1e-9),
    ...(policy ? { policy } : {}),
  };
}

export interface SweepInput {
  calibration: ExitOutputs | ScoredOutputs;
  test: ExitOutputs | ScoredOutputs;
  costs: ArrayLike<number>;
  /** Budgets as fractions of the full cost. */
  fractions: number[];
  methods?: readonly SweepMethod[];
  scoring?: Partial<ScoringOptions>;
}

export function sweepBudgets(input: SweepInput): SweepPoint[] {
  const costs = validateCosts(input.costs);
  const full = costs[costs.length - 1] as number;
  const points: SweepPoint[] = [];
  for (const m of input.methods ?? sweepMethods()) {
    const { score, seed, temperature } = { ...input.scoring, ...m.options };
    const scoring = resolveScoring({
      ...(score ? { score } : {}),
      ...(seed !== undefined ? { seed } : {}),
      ...(temperature !== undefined ? { temperature } : {}),
    });
    const cal = ensureScored(input.calibration, scoring);
    const test = ensureScored(input.test, scoring);
    for (const f of input.fractions) {
      const budget = f * full;
      if (budget < (costs[0] as number)) continue;
      const policy = POLICY_FACTORIES[m.kind](cal, costs, budget, m.options);
      const e = evaluatePolicy(policy, test, costs);
      const p = point(m.name, m.kind, BUDGETED_POLICIES[m.kind] ? budget : NaN, full, e, policy);
      points.push(p);
    }
  }
  return points;
}

/** Each exit alone, and the oracle (first exit that is right): the reference marks. */
export function referencePoints(
  test: ExitOutputs | ScoredOutputs,
  costs: ArrayLike<number>,
  scoring?: Partial<ScoringOptions>,
): SweepPoint[] {
  const c = validateCosts(costs);
  const full = c[c.length - 1] as number;
  const scored = ensureScored(test, resolveScoring(scoring));
  const out: SweepPoint[] = [];
  for (let l = 0; l < c.length; l++) {
    const policy = calibrateFixedExit(scored, c, c[l] as number, { exit: l });
    out.push(point(`exit ${l + 1} alone`, 'fixed-exit', NaN, full, evaluatePolicy(policy, scored, c)));
  }
  out.push(point('oracle', 'oracle', NaN, full, oracle(scored, c, scoring)));
  return out;
}

/** Area under accuracy against cost fraction (trapezoids over the points' span), per method. */
export function areaUnderCurve(points: SweepPoint[]): Map<string, number> {
  const by = new Map<string, SweepPoint[]>();
  for (const p of points) by.set(p.method, [...(by.get(p.method) ?? []), p]);
  const out = new Map<string, number>();
  for (const [m, ps] of by) {
    const s = [...ps].sort((a, b) => a.costFraction - b.costFraction);
    let area = 0;
    for (let i = 1; i < s.length; i++) {
      const a = s[i - 1] as SweepPoint;
      const b = s[i] as SweepPoint;
      area += ((a.accuracy + b.accuracy) / 2) * (b.costFraction - a.costFraction);
    }
    out.set(m, area);
  }
  return out;
}
