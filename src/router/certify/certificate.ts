/** What a certified policy carries, and the two errors when no certified vector can be served. */
import { formatCost } from '../../config';
import { EeroError } from '../../errors';
import type { ThresholdPolicy } from '../policy';
import type { TestedPoint } from './fixed-sequence';
import type { Guarantee } from './guarantee';
import { certifiedTestImagesNeeded } from './samples';

/** The evidence a certified vector is served with. */
export interface Certificate {
  guarantee: Guarantee;
  /** The loss rate tested: 1 - agreement, or accuracyDrop. */
  alpha: number;
  /** The served vector's path budget, and as a fraction of the full cost. */
  budget: number;
  budgetFraction: number;
  expectedCost: number;
  /** Realised on the test images. */
  averageCost: number;
  costFraction: number;
  losses: number;
  testImages: number;
  pathImages: number;
  agreement: number;
  pValue: number;
  /** Hypotheses tested, the failing one included (if any). */
  tested: number;
  pathLength: number;
  trace: TestedPoint[];
}

export interface CertifiedPolicy extends ThresholdPolicy {
  readonly kind: 'certified';
  readonly certificate: Certificate;
}

/** Even the full model fails the first test: too few test images for this loss rate and delta. */
export function tooFewImages(testImages: number, pathShare: number, alpha: number, delta: number, pValue: number): EeroError {
  // With no losses at all the p-value is (1 - alpha)^n: n must reach log(delta) / log(1 - alpha).
  const needed = certifiedTestImagesNeeded(alpha, delta);
  const total = Math.ceil(needed / (1 - pathShare));
  return new EeroError(
    'GUARANTEE_INFEASIBLE',
    `no budget meets the guarantee: with ${testImages} test images even the full model (no loss at all) has p-value ` +
      `${pValue.toPrecision(3)} > delta ${delta}; at least ${needed} test images (about ${total} calibration images ` +
      `with pathShare ${pathShare}) are needed for a loss rate of ${alpha.toPrecision(3)}`,
    {
      details: {
        reason: 'too-few-calibration-images',
        testImages,
        testImagesNeeded: needed,
        calibrationImagesNeeded: total,
        pValue,
        alpha,
        delta,
      },
    },
  );
}

/** The cheapest certified vector costs more than the budget asked for. */
export function overBudget(cert: Certificate, budget: number, full: number, costUnit: string): EeroError {
  const pct = (v: number): string => `${+(100 * v).toPrecision(4)}%`;
  return new EeroError(
    'GUARANTEE_INFEASIBLE',
    `budget ${formatCost(budget)} ${costUnit} (${pct(budget / full)} of the full model) is below the cheapest certified budget ` +
      `${formatCost(cert.budget)} ${costUnit} (${pct(cert.budgetFraction)} of the full model) for ${JSON.stringify(cert.guarantee)}`,
    {
      details: {
        reason: 'guarantee-needs-more-budget',
        cheapestCertified: cert.budget,
        cheapestCertifiedFraction: cert.budgetFraction,
        requested: budget,
        requestedFraction: budget / full,
        guarantee: cert.guarantee,
        costUnit,
      },
    },
  );
}
