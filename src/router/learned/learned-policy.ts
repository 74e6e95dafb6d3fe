import { EeroError } from '../../errors';
import { validateCosts } from '../budget';
import { calibrateEero, type EeroOptions, type EeroPolicy } from '../eero';
import { evaluatePolicy } from '../evaluate';
import { isScoredOutputs, type ScoredOutputs } from '../exit-outputs';
import { ensureScored } from '../exit-scores';
import type { CalibrationData } from '../policy';
import { resolveScoring, type ScoringOptions } from '../scores';
import {
  accuracyOf,
  agreementOf,
  exitsUnderThresholds,
  globalThresholds,
  meanCost,
  spendMatchedThreshold,
  thresholdCandidates,
} from './allocation';
import { fitLearnedParams, type FitOptions } from './fit';
import { makeThresholdPolicy, type ThresholdPolicy } from '../policy';
import { validateLearnedParams, type LearnedParams } from './params';
import { computeStatsTable, learnedScores, statsTableFromScored, type StatsTable } from './stats-table';

/**
 * calibrateLearned (issue 18): fit the learned score on the calibration set
 * (or take fitted params), set one global threshold on it that spends what
 * EERO (margin) spends there at the same budget, and keep it only where it
 * beats EERO on the calibration set; elsewhere EERO's own policy serves
 * (the fallback).
 */
export type FallbackCriterion = 'agreement' | 'accuracy';

export interface LearnedOptions extends EeroOptions {
  /** Fitted params (e.g. from the bundle); fitted from the calibration set when absent. */
  fitted?: LearnedParams;
  fit?: FitOptions;
  /** How the calibration set judges learned against EERO: agreement with the final exit (label-free, default) or accuracy. */
  criterion?: FallbackCriterion;
  /**
   * Also choose the last exit every row may reach (a cap, by the criterion; default true): at
   * small budgets it stops the rows no exit is sure of from spending the budget on deep exits.
   */
  cap?: boolean;
}

export interface LearnedChoice {
  which: 'learned' | 'eero-fallback';
  /** The global threshold on the learned score (found even where EERO serves). */
  threshold: number;
  /** 0-based exit every row leaves by under the learned threshold (exits - 1 without a cap). */
  lastExit: number;
  /** What the learned threshold may spend: EERO's realised calibration cost, at most the budget. */
  spendTarget: number;
  /** The criterion on the calibration set, learned and EERO. */
  criterion: FallbackCriterion;
  learnedValue: number;
  eeroValue: number;
  eero: EeroPolicy;
}

/**
 * The learned policy: a threshold policy on the `learned` score (scorers/learned.ts), or EERO's on
 * the margin (which = 'eero-fallback'); both carry the params and the choice.
 */
export type LearnedPolicy = (ThresholdPolicy | EeroPolicy) & LearnedChoice & { readonly params: LearnedParams };

/** What every budget shares: the margin-scored set (EERO), the exit statistics, the params and the learned scores. */
export interface PreparedLearned {
  scoring: ScoringOptions;
  scored: ScoredOutputs;
  table: StatsTable;
  params: LearnedParams;
  scores: Float64Array[];
  /** At index lastExit (a cap), the learned scores' distinct values at the exits before it: sorted once, not per budget. */
  candidates: Float64Array[];
}

export function prepareLearned(data: CalibrationData, options: LearnedOptions = {}): PreparedLearned {
  const scoring = resolveScoring(options);
  if (scoring.score !== 'margin')
    throw new EeroError('BAD_PARAMETER', `the learned score falls back to EERO on the margin score, not "${scoring.score}"`);
  const table = isScoredOutputs(data) ? statsTableFromScored(data) : computeStatsTable(data, scoring);
  return prepareLearnedTable(table, ensureScored(data, scoring), options);
}

/** The same from a set's exit statistics and its margin-scored outputs (same rows, same scoring). */
export function prepareLearnedTable(table: StatsTable, scored: ScoredOutputs, options: LearnedOptions = {}): PreparedLearned {
  const params = options.fitted
    ? validateLearnedParams(options.fitted, table.exits, table.classes || options.fitted.classes)
    : fitLearnedParams(table, options.fit);
  const scores = learnedScores(table, params);
  const candidates = Array.from({ length: table.exits }, (_, lastExit) => thresholdCandidates(scores, lastExit));
  return { scoring: scored.scoring, scored, table, params, scores, candidates };
}

function criterionValue(criterion: FallbackCriterion, exitOf: Int32Array, t: StatsTable): number {
  return criterion === 'agreement' ? agreementOf(exitOf, t.prediction) : accuracyOf(exitOf, t.prediction, t.labels);
}

export function calibrateLearnedPrepared(
  prep: PreparedLearned,
  costs: ArrayLike<number>,
  budget: number,
  options: LearnedOptions = {},
): LearnedPolicy {
  const { table, scores, params } = prep;
  const c = validateCosts(costs, table.exits);
  const criterion = options.criterion ?? 'agreement';
  if (criterion === 'accuracy' && !table.labels.some((y) => y >= 0)) {
    throw new EeroError('BAD_PARAMETER', 'criterion "accuracy" needs labelled calibration outputs; use "agreement"');
  }
  // EERO first: it refuses an infeasible budget with the error every policy gives.
  const eero = calibrateEero(prep.scored, c, budget, options);
  const eeroRun = evaluatePolicy(eero, prep.scored, c);
  const spendTarget = Math.min(eeroRun.averageCost, budget);
  const eeroValue = criterionValue(criterion, eeroRun.exitOf, table);
  let best = { value: -Infinity, t: Infinity, lastExit: table.exits - 1 };
  const caps = (options.cap ?? true) ? Array.from({ length: table.exits - 1 }, (_, l) => l + 1) : [table.exits - 1];
  for (const lastExit of caps) {
    const t = spendMatchedThreshold(scores, c, spendTarget, lastExit, prep.candidates[lastExit]);
    const exitOf = exitsUnderThresholds(scores, globalThresholds(t, table.exits, lastExit));
    if (meanCost(exitOf, c) > spendTarget) continue;
    const value = criterionValue(criterion, exitOf, table);
    if (value > best.value) best = { value, t, lastExit };
  }
  const thresholds = globalThresholds(best.t, table.exits, best.lastExit);
  const choice = {
    threshold: best.t,
    lastExit: best.lastExit,
    spendTarget,
    criterion,
    learnedValue: best.value,
    eeroValue,
    eero,
    params,
  };
  if (best.value > eeroValue) {
    const scoring = { ...prep.scoring, score: 'learned' as const, params };
    return makeThresholdPolicy('learned', thresholds, scoring, budget, { ...choice, which: 'learned' as const });
  }
  return Object.freeze({ ...eero, ...choice, which: 'eero-fallback' as const, thresholds: eero.thresholds });
}

/** The policy factory (PolicyFactory shape): prepare, then calibrate at `budget`. @internal For the tests. */
export function calibrateLearned(
  data: CalibrationData,
  costs: ArrayLike<number>,
  budget: number,
  options: LearnedOptions = {},
): LearnedPolicy {
  return calibrateLearnedPrepared(prepareLearned(data, options), costs, budget, options);
}
