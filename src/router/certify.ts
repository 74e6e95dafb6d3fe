import { formatCost } from '../config';
import { EeroError } from '../errors';
import { disagreementRates } from './agreement-recalibration';
import { binomialCdf } from './binomial-tail';
import { bisect, bracketByDoubling } from './bisect';
import { prepareCalibration } from './calibration-input';
import { calibrateEeroSorted } from './eero';
import { thresholdsFromShares } from './eero-thresholds';
import { eeroWeights, expectedCost } from './eero-weights';
import type { ScoredOutputs } from './exit-outputs';
import { exitErrorRates, sortedExitScores } from './exit-scores';
import type { CalibrationData, PolicyOptions, ThresholdPolicy } from './policy';
import { makeThresholdPolicy } from './policy';
import { permutation } from './prng';

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

/**
 * Exactly one of:
 * - agreement: P(early answer = final exit's answer) >= agreement; no labels.
 * - accuracyDrop: accuracy >= the final exit's - accuracyDrop; labels needed.
 *   The tested loss is then 1[early wrong and final right], a 0/1 loss whose
 *   rate bounds the drop (drop = P(early wrong, final right) - P(early
 *   right, final wrong)), so the exact binomial tail applies to it.
 * with probability >= 1 - delta (default 0.05) over the calibration draw.
 * One loose shape rather than a union, so a parsed config object fits as is.
 */
export interface Guarantee {
  agreement?: number;
  accuracyDrop?: number;
  delta?: number;
}

const DEFAULT_GUARANTEE: Readonly<Guarantee> = Object.freeze({ agreement: 0.99, delta: 0.05 });
const DEFAULT_DELTA = 0.05;

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

export interface PathPoint {
  /** EERO's budget for this vector (cost units); the full cost for the first. */
  budget: number;
  /** sum eps[l] cost[l] on the path images. */
  expectedCost: number;
  thresholds: Float64Array;
}

export interface TestedPoint {
  budget: number;
  losses: number;
  pValue: number;
}

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

export type Flavour = 'agreement' | 'accuracy';

export interface Losses {
  losses: number;
  disagreements: number;
  /** Rows the final exit gets right minus rows the early answer gets right (labelled rows; x / n is the accuracy drop). */
  accuracyLost: number;
  /** Sum over the rows, cost units. */
  cost: number;
}

function resolveGuarantee(g: Guarantee): { flavour: Flavour; alpha: number; delta: number } {
  const bad = (why: string): never => {
    throw new EeroError('BAD_PARAMETER', `guarantee: ${why}`);
  };
  const delta = g.delta ?? DEFAULT_DELTA;
  if (!(delta > 0 && delta < 1)) bad(`delta must be in (0, 1), got ${delta}`);
  if ((g.agreement === undefined) === (g.accuracyDrop === undefined)) bad('give exactly one of agreement and accuracyDrop');
  if (g.agreement !== undefined) {
    if (!(g.agreement > 0 && g.agreement < 1)) bad(`agreement must be in (0, 1), got ${g.agreement}`);
    return { flavour: 'agreement', alpha: 1 - g.agreement, delta };
  }
  const eps = g.accuracyDrop as number;
  // eps = 0 is refused: a zero loss rate can never be certified from a finite sample.
  if (!(eps > 0 && eps < 1)) bad(`accuracyDrop must be in (0, 1), got ${eps}`);
  return { flavour: 'accuracy', alpha: eps, delta };
}

/** A seeded random split of rows 0..n-1: floor(share n) path rows, the rest test rows. */
export function splitRows(n: number, share: number, seed: number): { path: Int32Array; test: Int32Array } {
  if (!(share > 0 && share < 1)) throw new EeroError('BAD_PARAMETER', `pathShare must be in (0, 1), got ${share}`);
  const p = permutation(n, seed);
  const cut = Math.floor(share * n);
  if (cut < 1 || cut >= n) throw new EeroError('BAD_PARAMETER', `${n} calibration images cannot be split ${share} : ${1 - share}`);
  return { path: p.slice(0, cut), test: p.slice(cut) };
}

/** The rows `idx` of scored outputs (row keys stay those of the original set). */
export function selectScoredRows(s: ScoredOutputs, idx: ArrayLike<number>): ScoredOutputs {
  const pick = <T extends Float64Array | Int32Array>(a: T, out: T): T => {
    for (let j = 0; j < idx.length; j++) out[j] = a[idx[j] as number] as number;
    return out;
  };
  return {
    images: idx.length,
    exits: s.exits,
    scoring: s.scoring,
    labels: pick(s.labels, new Int32Array(idx.length)),
    scores: s.scores.map((a) => pick(a, new Float64Array(idx.length))),
    predictions: s.predictions.map((a) => pick(a, new Int32Array(idx.length))),
  };
}

/** Two scored sets as one (calibration and test pooled for re-splits); each row keeps the tie noise it was scored with. */
export function concatScored(a: ScoredOutputs, b: ScoredOutputs): ScoredOutputs {
  const cat = <T extends Float64Array | Int32Array>(x: T, y: T, out: T): T => {
    out.set(x);
    out.set(y, x.length);
    return out;
  };
  const n = a.images + b.images;
  return {
    images: n,
    exits: a.exits,
    scoring: a.scoring,
    labels: cat(a.labels, b.labels, new Int32Array(n)),
    scores: a.scores.map((x, l) => cat(x, b.scores[l] as Float64Array, new Float64Array(n))),
    predictions: a.predictions.map((x, l) => cat(x, b.predictions[l] as Int32Array, new Int32Array(n))),
  };
}

/**
 * Budgets above EERO's unconstrained cost (mu = 0) are reached with mu < 0,
 * which tilts the weights towards the dear exits; as mu -> -inf every image
 * goes to the final exit. This joins the full model smoothly to EERO's own
 * path. Returns the mu closest to 0 whose expected cost is <= budget.
 */
function negativeMu(costs: Float64Array, r: Float64Array, budget: number, beta: number): number {
  const cost = (mu: number): number => expectedCost(eeroWeights(costs, r, mu, beta), costs);
  const full = costs[costs.length - 1] as number;
  const { bad, good } = bracketByDoubling((mu) => cost(mu) > budget, -beta / full);
  return bisect((mu) => cost(mu) <= budget, good, bad);
}

/**
 * The ordered hypotheses: every image to the final exit, then EERO's vector
 * at `steps` budgets evenly spaced from the full cost down to cost[1].
 */
export function certificationPath(
  sorted: readonly Float64Array[],
  r: Float64Array,
  costs: Float64Array,
  steps = 200,
  beta?: number,
): PathPoint[] {
  if (!Number.isInteger(steps) || steps < 1) throw new EeroError('BAD_PARAMETER', `steps must be a positive integer, got ${steps}`);
  const m = costs.length;
  const full = costs[m - 1] as number;
  const first = costs[0] as number;
  // Every image to the final exit: its loss is 0 by construction, the safe end of the walk.
  const top = new Float64Array(m).fill(Infinity);
  top[m - 1] = -Infinity;
  const path: PathPoint[] = [{ budget: full, expectedCost: full, thresholds: top }];
  if (!(first < full)) return path;
  const free = calibrateEeroSorted(sorted, r, costs, full, beta);
  for (let i = 1; i <= steps; i++) {
    const budget = i === steps ? first : full - ((full - first) * i) / steps;
    if (budget > free.expectedCost) {
      const eps = eeroWeights(costs, r, negativeMu(costs, r, budget, free.beta), free.beta);
      path.push({ budget, expectedCost: expectedCost(eps, costs), thresholds: thresholdsFromShares(eps, sorted).thresholds });
    } else {
      const cal = calibrateEeroSorted(sorted, r, costs, budget, free.beta);
      path.push({ budget, expectedCost: cal.expectedCost, thresholds: cal.thresholds });
    }
  }
  return path;
}

/** Losses and total cost of one threshold vector on `rows`: each image leaves at the first exit it passes. */
export function lossesOf(scored: ScoredOutputs, thresholds: Float64Array, costs: Float64Array, rows: Int32Array, flavour: Flavour): Losses {
  const m = scored.exits;
  const fin = scored.predictions[m - 1] as Int32Array;
  let losses = 0;
  let disagreements = 0;
  let accuracyLost = 0;
  let cost = 0;
  for (let j = 0; j < rows.length; j++) {
    const i = rows[j] as number;
    let l = 0;
    while (l < m - 1 && ((scored.scores[l] as Float64Array)[i] as number) < (thresholds[l] as number)) l++;
    cost += costs[l] as number;
    const p = (scored.predictions[l] as Int32Array)[i] as number;
    const f = fin[i] as number;
    const y = scored.labels[i];
    if (p !== f) disagreements++;
    accuracyLost += Number(f === y) - Number(p === y);
    if (flavour === 'agreement' ? p !== f : p !== y && f === y) losses++;
  }
  return { losses, disagreements, accuracyLost, cost };
}

export interface SequenceResult {
  /** Index in the path of the last vector certified; -1 if the first failed. */
  last: number;
  trace: TestedPoint[];
  lastLosses: Losses | undefined;
}

/**
 * Fixed-sequence testing: H_j "loss rate of path[j] > alpha" in path order,
 * each at level delta, stopping at the first p-value above delta. Every
 * rejection is then right with probability >= 1 - delta jointly, with no
 * multiplicity correction, because the order was fixed before testing.
 */
export function fixedSequenceTest(
  path: readonly PathPoint[],
  scored: ScoredOutputs,
  costs: Float64Array,
  rows: Int32Array,
  flavour: Flavour,
  alpha: number,
  delta: number,
): SequenceResult {
  const trace: TestedPoint[] = [];
  let last = -1;
  let lastLosses: Losses | undefined;
  for (let j = 0; j < path.length; j++) {
    const point = path[j] as PathPoint;
    const l = lossesOf(scored, point.thresholds, costs, rows, flavour);
    const pValue = binomialCdf(l.losses, rows.length, alpha);
    trace.push({ budget: point.budget, losses: l.losses, pValue });
    if (pValue > delta) break;
    last = j;
    lastLosses = l;
  }
  return { last, trace, lastLosses };
}

function tooFewImages(testImages: number, pathShare: number, alpha: number, delta: number, pValue: number): EeroError {
  // With no losses at all the p-value is (1 - alpha)^n: n must reach log(delta) / log(1 - alpha).
  const needed = Math.ceil(Math.log(delta) / Math.log1p(-alpha));
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

function overBudget(cert: Certificate, budget: number, full: number, costUnit: string): EeroError {
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
