/**
 * The router: pure maths from exit outputs and costs to exit decisions.
 * No I/O, no clock (STYLE.md habit 7). See docs/EERO.md.
 */
export type { ExitOutputs, ScoredOutputs } from './exit-outputs';
export { isScoredOutputs, validateExitOutputs } from './exit-outputs';
export { mixSeed, mulberry32, rowStream } from './prng';
export type { ScoreKind, ScoredRow, ScoringOptions } from './scores';
export { addTieNoise, argmax, DEFAULT_SCORING, resolveScoring, SCORE_KINDS, scoreProbs, scoreRow, softmaxRow, TIE_NOISE } from './scores';
export { computeExitScores, ensureScored, exitErrorRates, sortedExitScores } from './exit-scores';
export type { BudgetSpec } from './budget';
export {
  assertFeasibleBudget,
  MAX_BUDGET_FRACTION,
  MAX_BUDGET_MACS,
  parseBudget,
  resolveBudget,
  validateBudget,
  validateCosts,
} from './budget';
export { countAtLeast, thresholdForShare, upperBound } from './quantile';
export { eeroWeights, expectedCost, solveMu } from './eero-weights';
export type { ExitThresholds } from './eero-thresholds';
export { cumulativeShares, thresholdsFromShares } from './eero-thresholds';
export type { EeroCalibration, EeroOptions, EeroPolicy } from './eero';
export { calibrateEero, calibrateEeroSorted, DEFAULT_BETA } from './eero';
export type { CalibrationData, ExitPolicy, ExitRule, PolicyFactory, PolicyKind, PolicyOptions, RowState, ThresholdPolicy } from './policy';
export { createRowState, makePolicy, makeThresholdPolicy } from './policy';
export type { GeometricPolicy } from './geometric-policy';
export { calibrateGeometric, geometricShares, solveGeometricLogQ } from './geometric-policy';
export type { GlobalThresholdPolicy } from './global-threshold-policy';
export { calibrateGlobalThreshold, exitsUnderThreshold } from './global-threshold-policy';
export type { PatienceOptions, PatiencePolicy } from './patience-policy';
export { calibratePatience, exitsUnderPatience } from './patience-policy';
export type { FixedExitOptions, FixedExitPolicy } from './fixed-exit-policy';
export { calibrateFixedExit } from './fixed-exit-policy';
export type { AccuracyTargetOptions, AccuracyTargetPolicy } from './accuracy-target-policy';
export { agreementThreshold, calibrateAccuracyTarget } from './accuracy-target-policy';
export { BUDGETED_POLICIES, POLICY_FACTORIES } from './policies';
export type { EvaluateOptions, Evaluation } from './evaluate';
export { evaluatePolicy, oracle } from './evaluate';
export type { ThresholdCacheOptions, ThresholdRequest } from './threshold-cache';
export { ThresholdCache } from './threshold-cache';
export type { LedgerOptions, LedgerSnapshot } from './ledger';
export { BudgetLedger } from './ledger';
export type { SweepInput, SweepMethod, SweepPoint } from './budget-sweep';
export { areaUnderCurve, budgetGrid, referencePoints, sweepBudgets, sweepMethods } from './budget-sweep';
export { bentkusPValue, binomialCdf, binomialLogCdf, binomialLogPmf, hoeffdingBentkusPValue, hoeffdingPValue } from './binomial-tail';
export { wilsonInterval } from './wilson';
export { agreementThresholdCache, disagreementRates, withAgreementLabels } from './agreement-recalibration';
export type { Certificate, CertifiedPolicy, CertifyOptions, Guarantee } from './certify';
export { calibrateCertified, certificationPath, fixedSequenceTest, lossesOf, selectScoredRows, splitRows } from './certify';
