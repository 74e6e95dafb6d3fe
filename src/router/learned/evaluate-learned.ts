import { EeroError } from '../../errors';
import { evaluatePolicy, type EvaluateOptions, type Evaluation } from '../evaluate';
import { isScoredOutputs, type ScoredOutputs } from '../exit-outputs';
import type { CalibrationData } from '../policy';
import { makeThresholdPolicy } from '../policy';
import { marginOnly } from './features';
import type { LearnedPolicy } from './learned-policy';
import { computeStatsTable, learnedScores, type StatsTable } from './stats-table';

/**
 * Simulation of a learned policy on a set of outputs, with everything
 * evaluatePolicy offers (the ledger included). The learned score is computed
 * once for the whole set (row i with noise key i, as the policy's decide()
 * does) and a threshold rule on it replays the policy's decisions.
 */
export function learnedScoredOutputs(table: StatsTable, policy: Pick<LearnedPolicy, 'params' | 'scoring'>): ScoredOutputs {
  return {
    images: table.images,
    exits: table.exits,
    labels: table.labels,
    scoring: policy.scoring,
    scores: learnedScores(table, policy.params),
    predictions: table.prediction,
  };
}

/**
 * `table`: the set's exit statistics under the policy's scoring (computeStatsTable), when already
 * at hand; `data` then only serves the EERO fallback (margin-scored outputs of the same rows do).
 */
export function evaluateLearned(
  policy: LearnedPolicy,
  data: CalibrationData,
  costs: ArrayLike<number>,
  options: EvaluateOptions & { table?: StatsTable } = {},
): Evaluation {
  if (policy.which === 'eero-fallback' || marginOnly(policy.params.features)) return evaluatePolicy(policy, data, costs, options);
  let table = options.table;
  if (table === undefined) {
    if (isScoredOutputs(data)) {
      throw new EeroError(
        'BAD_PARAMETER',
        `learned features ${policy.params.features.join(', ')} need the probabilities: pass raw exit outputs`,
      );
    }
    table = computeStatsTable(data, policy.scoring);
  }
  const replay = makeThresholdPolicy('global-threshold', policy.thresholds, policy.scoring, policy.budget, {});
  return evaluatePolicy(replay, learnedScoredOutputs(table, policy), costs, options);
}
