import { EeroError } from '../../errors';
import { disagreementRates } from '../agreement-recalibration';
import { prepareCalibration } from '../calibration-input';
import { exitErrorRates, sortedExitScores } from '../exit-scores';
import type { CalibrationData, PolicyOptions } from '../policy';
import { makeThresholdPolicy } from '../policy';
import { overBudget, tooFewImages, type Certificate, type CertifiedPolicy } from './certificate';
import { fixedSequenceTest, type TestedPoint } from './fixed-sequence';
import { DEFAULT_GUARANTEE, resolveGuarantee, type Guarantee } from './guarantee';
import { certificationPath } from './path';
import { selectScoredRows, splitRows } from './split';

/**
 * Certified agreement by Learn then Test (Angelopoulos et al. 2021) with
 * fixed-sequence testing over a path of EERO threshold vectors, from the
 * full model (every image to the final exit) down to the cheapest exit.
 *
 * Why the calibration set is split: EERO's thresholds are quantiles of the
 * calibration scores and its R[l] are their disagreement rates, so a path
 * built from the images that then test it is chosen by the very losses it
 * is judged on, and LTT's p-values are no longer valid. A seeded random
 * `pathShare` of the images builds the path; the rest, independent of it,
 * test it. Given the path half the hypotheses are a fixed sequence, so
 * P(serving a vector whose loss rate > alpha) <= delta over both halves.
 * The price is half the images per test (benchmarks/certify.ts measures
 * both; on the shipped bundles reuse would save 1 to 1.5 points of cost).
 */

export interface CertifyOptions extends PolicyOptions {
  guarantee?: Guarantee;
  beta?: number;
  /** Budgets on the path below the full cost (default 200). */
  steps?: number;
  /** Share of the calibration images that build the path (default 0.5). */
  pathShare?: number;
  /** Seed of the path/test split (default 0). */
  splitSeed?: number;
}

/**
 * LTT over EERO's path: the cheapest certified vector. With a budget, that
 * vector is served only if its path budget is within it; otherwise the
 * error names the cheapest budget that meets the guarantee.
 */
export function calibrateCertified(
  data: CalibrationData,
  costs: ArrayLike<number>,
  budget: number | undefined,
  options: CertifyOptions = {},
): CertifiedPolicy {
  const guarantee = options.guarantee ?? DEFAULT_GUARANTEE;
  const { flavour, alpha, delta } = resolveGuarantee(guarantee);
  const { scoring, scored, costs: c } = prepareCalibration(data, costs, budget, options);
  if (flavour === 'accuracy' && scored.labels.some((y) => y < 0)) {
    throw new EeroError('BAD_PARAMETER', 'an accuracy guarantee needs every calibration image labelled; use an agreement guarantee');
  }
  const share = options.pathShare ?? 0.5;
  const { path: pathRows, test } = splitRows(scored.images, share, options.splitSeed ?? 0);
  const half = selectScoredRows(scored, pathRows);
  const r = flavour === 'agreement' ? disagreementRates(half) : (exitErrorRates(half) as Float64Array);
  const path = certificationPath(sortedExitScores(half), r, c, options.steps ?? 200, options.beta);
  const run = fixedSequenceTest(path, scored, c, test, flavour, alpha, delta);
  const point = path[run.last];
  const l = run.lastLosses;
  if (point === undefined || l === undefined) throw tooFewImages(test.length, share, alpha, delta, run.trace[0]?.pValue ?? 1);
  const full = c[c.length - 1] as number;
  const certificate: Certificate = {
    guarantee,
    alpha,
    budget: point.budget,
    budgetFraction: point.budget / full,
    expectedCost: point.expectedCost,
    averageCost: l.cost / test.length,
    costFraction: l.cost / test.length / full,
    losses: l.losses,
    testImages: test.length,
    pathImages: pathRows.length,
    agreement: 1 - l.disagreements / test.length,
    pValue: (run.trace[run.last] as TestedPoint).pValue,
    tested: run.trace.length,
    pathLength: path.length,
    trace: run.trace,
  };
  if (budget !== undefined && point.budget > budget) throw overBudget(certificate, budget, full, options.costUnit ?? 'MACs');
  return makeThresholdPolicy('certified', point.thresholds, scoring, point.budget, { certificate }) as CertifiedPolicy;
}
