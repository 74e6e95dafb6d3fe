/**
 * The learned exit score (issue 18): features of the exit history, a small
 * per-exit model of "agrees with the final exit" fitted without labels, and
 * a spend-matched global threshold with EERO as the fallback. Pure maths.
 */
export type { FeatureName } from './features';
export { advanceHistory, emptyHistory, exitStats, FEATURE_NAMES, featureVector, LEARNED_FEATURES, marginOnly, slog } from './features';
export type { LearnedParams, MlpExit } from './params';
export { learnedScore, validateLearnedParams } from './params';
export type { StatsTable } from './stats-table';
export { computeStatsTable, learnedScores, selectTableRows } from './stats-table';
export { budgetedOracle } from './budgeted-oracle';
export { DEFAULT_FEATURES, MARGIN_FEATURES } from './fit';
export { fitLogistic } from './logistic';
export { fitMlp } from './mlp';
export { accuracyOf, exitsUnderThresholds, globalThresholds, spendMatchedThreshold } from './allocation';
export type { LearnedOptions, LearnedPolicy, PreparedLearned } from './learned-policy';
export { calibrateLearned, calibrateLearnedPrepared, prepareLearned, prepareLearnedTable } from './learned-policy';
export { evaluateLearned } from './evaluate-learned';
