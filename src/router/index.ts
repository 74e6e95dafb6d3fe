/**
 * The router: pure maths from exit outputs and costs to exit decisions.
 * No I/O, no clock. The method is written up in docs/eero.md.
 */
export type { ExitOutputs, ScoredOutputs } from './exit-outputs';
export { mulberry32, permutation, rowStream, seededShuffle } from './prng';
export type { ScoringOptions } from './scores';
export { argmax, DEFAULT_SCORING, resolveScoring, scoreRow, softmaxRow, TIE_NOISE } from './scores';
export { SCORE_KINDS, scorerOf, scorers, type ScoreKind } from './scorers/registry';
export { computeExitScores, exitErrorRates, sortedExitScores } from './exit-scores';
export { assertFeasibleBudget, resolveBudget, validateCosts } from './budget';
export { calibrateEero, calibrateEeroSorted } from './eero';
export type { CalibrationData, ExitPolicy, RowState, ThresholdPolicy } from './policy';
export { makeThresholdPolicy } from './policy';
export { calibrateGeometric } from './geometric-policy';
export { calibrateGlobalThreshold } from './global-threshold-policy';
export { calibratePatience } from './patience-policy';
export { calibrateFixedExit } from './fixed-exit-policy';
export { calibrateAccuracyTarget } from './accuracy-target-policy';
export { BUDGETED_POLICIES, POLICY_FACTORIES } from './policies';
export { evaluatePolicy, oracle } from './evaluate';
export { ThresholdCache } from './threshold-cache';
export type { Reservation } from './ledger';
export { BudgetLedger, PoolSpender } from './ledger';
export type { SweepMethod, SweepPoint } from './budget-sweep';
export { areaUnderCurve, budgetGrid, referencePoints, sweepBudgets, sweepMethods } from './budget-sweep';
export { bentkusPValue, binomialCdf, binomialLogCdf, binomialLogPmf, hoeffdingBentkusPValue, hoeffdingPValue } from './binomial-tail';
export { wilsonInterval } from './wilson';
export { agreementThresholdCache, disagreementRates, withAgreementLabels } from './agreement-recalibration';
export type { Guarantee } from './certify/guarantee';
export type { CertifiedPolicy } from './certify/certificate';
export { type CertifyOptions, calibrateCertified } from './certify/calibrate-certified';
export { certificationPath } from './certify/path';
export { concatScored, selectScoredRows, splitRows } from './certify/split';
export { lossesOf } from './certify/losses';
export { fixedSequenceTest } from './certify/fixed-sequence';
export { certifiedSamplesNeeded } from './certify/samples';
export * from './learned';
