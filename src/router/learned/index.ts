/**
 * The learned exit score (issue 18): features of the exit history, a small
 * per-exit model of "agrees with the final exit" fitted without labels, and
 * a spend-matched global threshold with EERO as the fallback. Pure maths.
 */
export type { ExitStats, FeatureName, FeatureSpec, LearnedHistory } from './features';
export {
  advanceHistory,
  emptyHistory,
  exitStats,
  FEATURE_NAMES,
  featureVector,
  LEARNED_FEATURES,
  LOG_EPS,
  marginOnly,
  slog,
} from './features';
export type { LearnedKind, LearnedParams, LogisticExit, MlpExit } from './params';
export { LEARNED_PARAMS_VERSION, learnedScore, validateLearnedParams } from './params';
export type { StatsTable } from './stats-table';
export { agreementTargets, computeStatsTable, featureMatrices, learnedScores, selectTableRows, statsTableFromScored } from './stats-table';
export type { BudgetedOracle } from './budgeted-oracle';
export { budgetedOracle } from './budgeted-oracle';
export type { FitOptions } from './fit';
export { DEFAULT_FEATURES, fitLearnedParams, MARGIN_FEATURES } from './fit';
export { fitLogistic } from './logistic';
export { fitMlp } from './mlp';
export { accuracyOf, agreementOf, exitsUnderThresholds, globalThresholds, spendMatchedThreshold } from './allocation';
export type { LearnedRowState, LearnedRule } from './learned-rule';
export type { FallbackCriterion, LearnedChoice, LearnedOptions, LearnedPolicy, PreparedLearned } from './learned-policy';
export { calibrateLearned, calibrateLearnedPrepared, prepareLearned, prepareLearnedTable } from './learned-policy';
export { evaluateLearned, learnedScoredOutputs } from './evaluate-learned';
