import { assertFeasibleBudget, validateCosts } from './budget';
import type { ScoredOutputs } from './exit-outputs';
import { ensureScored } from './exit-scores';
import type { CalibrationData, PolicyOptions } from './policy';
import type { ScoringOptions } from './scores';
import { resolveScoring } from './scores';

/** What every baseline's calibrate starts from, validated once. */
export interface CalibrationInput {
  scoring: ScoringOptions;
  scored: ScoredOutputs;
  costs: Float64Array;
}

export function prepareCalibration(
  data: CalibrationData,
  costs: ArrayLike<number>,
  budget: number | undefined,
  options: PolicyOptions,
): CalibrationInput {
  const scoring = resolveScoring(options);
  const scored = ensureScored(data, scoring);
  const c = validateCosts(costs, scored.exits);
  if (budget !== undefined) assertFeasibleBudget(c, budget, options.costUnit);
  return { scoring, scored, costs: c };
}

/** Average cost of per-row exit indices. */
export function averageCost(exitOf: ArrayLike<number>, costs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < exitOf.length; i++) s += costs[exitOf[i] as number] as number;
  return s / exitOf.length;
}
