/**
 * The learned exit score (issue 18): features of the exit history, a small
 * per-exit model of "agrees with the final exit" fitted without labels, and
 * a spend-matched global threshold with EERO as the fallback. Pure maths.
 */
export { FEATURE_NAMES, LEARNED_FEATURES } from './features';
export type { LearnedParams } from './params';
export { validateLearnedParams } from './params';
export type { StatsTable } from './stats-table';
export { computeStatsTable, learnedScores, selectTableRows } from './stats-table';
export { budgetedOracle } from './budgeted-oracle';
export { DEFAULT_FEATURES, MARGIN_FEATURES } from './fit';
export { accuracyOf, exitsUnderThresholds, globalThresholds } from './allocation';
export type { LearnedOptions, PreparedLearned } from './learned-policy';
export { calibrateLearnedPrepared, prepareLearned, prepareLearnedTable } from './learned-policy';
export { evaluateLearned } from './evaluate-learned';
/** @internal For the tests. */
export { advanceHistory, emptyHistory, exitStats, featureVector, marginOnly, slog, type FeatureName } from './features';
/** @internal For the tests. */
export { learnedScore, type MlpExit } from './params';
/** @internal For the tests. */
export { fitLogistic } from './logistic';
/** @internal For the tests. */
export { fitMlp } from './mlp';
/** @internal For the tests. */
export { spendMatchedThreshold } from './allocation';
/** @internal For the tests. */
export { calibrateLearned, type LearnedPolicy } from './learned-policy';
