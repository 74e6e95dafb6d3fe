/**
 * The router: pure maths from exit outputs and costs to exit decisions.
 * No I/O, no clock. The method is written up in docs/eero.md.
 */
export type { ExitOutputs, ScoredOutputs } from './exit-outputs';
export { fillRowNoise, mulberry32, permutation, seededShuffle } from './prng';
export type { ScoringOptions } from './scores';
export { argmax, DEFAULT_SCORING, NO_HISTORY, resolveScoring, scoreRow, softmaxRow, TIE_NOISE } from './scores';
export { SCORE_KINDS, scorerOf, scorers, type ScoreKind } from './scorers/registry';
export { computeExitScores, sortedExitScores } from './exit-scores';
export { assertFeasibleBudget, resolveBudget } from './budget';
export { calibrateEero } from './eero';
export type { ExitPolicy, RowState, ThresholdPolicy } from './policy';
export { makeThresholdPolicy } from './policy';
export { calibrateGlobalThreshold } from './global-threshold-policy';
export { calibrateFixedExit } from './fixed-exit-policy';
export { calibrateAccuracyTarget } from './accuracy-target-policy';
export { evaluatePolicy, oracle } from './evaluate';
export { ThresholdCache } from './threshold-cache';
export type { Reservation } from './ledger';
export { BudgetLedger, PoolSpender } from './ledger';
export type { SweepMethod, SweepPoint } from './budget-sweep';
export { areaUnderCurve, budgetGrid, referencePoints, sweepBudgets, sweepMethods } from './budget-sweep';
export { wilsonInterval } from './wilson';
export { disagreementRates, withAgreementLabels } from './agreement-recalibration';
export type { Guarantee } from './certify/guarantee';
export type { CertifiedPolicy } from './certify/certificate';
export { calibrateCertified } from './certify/calibrate-certified';
export { certificationPath } from './certify/path';
export { concatScored, selectScoredRows, splitRows } from './certify/split';
export { lossesOf } from './certify/losses';
export { fixedSequenceTest } from './certify/fixed-sequence';
export { certifiedSamplesNeeded } from './certify/samples';
export * from './learned';
/** @internal For the tests. */
export { exitErrorRates } from './exit-scores';
/** @internal For the tests. */
export { validateCosts } from './budget';
/** @internal For the tests. */
export { calibrateEeroSorted } from './eero';
/** @internal For the tests. */
export { calibrateGeometric } from './geometric-policy';
/** @internal For the tests. */
export { calibratePatience } from './patience-policy';
/** @internal For the tests. */
export { BUDGETED_POLICIES, POLICY_FACTORIES } from './policies';
/** @internal For the tests. */
export { bentkusPValue, binomialCdf, binomialLogCdf, binomialLogPmf, hoeffdingBentkusPValue, hoeffdingPValue } from './binomial-tail';
/** @internal For the tests. */
export { agreementThresholdCache } from './agreement-recalibration';
/** @internal For the tests. */
export { type CalibrationData } from './policy';
/** @internal For the tests. */
export { type CertifyOptions } from './certify/calibrate-certified';
