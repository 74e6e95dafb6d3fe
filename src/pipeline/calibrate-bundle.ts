/**
 * What `eero calibrate` computes from a bundle: EERO and the baselines swept
 * over budgets (calibrated on the calibration outputs, evaluated on the test
 * outputs), the reference points, optionally the measured seconds per exit, a
 * certified guarantee, and the budget policies to write. No file is written.
 */
import { DEFAULTS, loadBundle, readBundleOutputs, type Bundle, type BudgetPolicy, type ExitOutputs, type Manifest } from '../config';
import { createEngine, profileStages } from '../engine';
import { EeroError } from '../errors';
import {
  budgetGrid,
  calibrateCertified,
  calibrateEero,
  DEFAULT_SCORING,
  evaluatePolicy,
  referencePoints,
  sweepBudgets,
  sweepMethods,
  withAgreementLabels,
  type CertifiedPolicy,
  type Guarantee,
  type ScoreKind,
  type SweepMethod,
  type SweepPoint,
} from '../router';

export interface CalibrateBundleOptions {
  /** Default: the default score (margin). */
  score?: ScoreKind;
  /** EERO's temperature; default DEFAULTS.beta. */
  beta?: number;
  /** Certify this guarantee; the policies then carry it. */
  guarantee?: Guarantee;
  /** Budget fractions to sweep; default a grid from the cheapest exit to 1. */
  fractions?: readonly number[];
  /** Budget fractions to build policies for. */
  policyFractions?: readonly number[];
  /** How errors name `policyFractions` (the CLI: `--write-policies`). */
  policyFractionsField?: string;
  /** Batch size to measure seconds per exit on this machine; none: not measured. */
  profileBatch?: number;
}

export interface Certification {
  guarantee: Guarantee;
  certificate: CertifiedPolicy['certificate'];
  /** The certified policy on the test split: agreement with the final exit, accuracy, cost as a fraction of the full model. */
  onTest: { agreement: number; accuracy: number; costFraction: number };
}

export interface PolicyFile {
  fraction: number;
  /** `<model>-<fraction>[-agreement-a | -accuracy-drop-e].yaml`, to join to the policies folder. */
  fileName: string;
  document: BudgetPolicy;
}

export interface CalibrationResult {
  manifest: Manifest;
  score: ScoreKind;
  beta: number;
  calibrationImages: number;
  testImages: number;
  /** Cumulative MACs per exit. */
  costs: Float64Array;
  methods: SweepMethod[];
  /** Every method at every budget fraction, in method order. */
  points: SweepPoint[];
  /** Each exit alone, then the oracle. */
  references: SweepPoint[];
  /** Cumulative seconds per image per exit, measured at `profileBatch`. */
  seconds?: number[];
  profileBatch?: number;
  certification?: Certification;
  /** In `policyFractions` order, up to `failure` if any. */
  policies: PolicyFile[];
  /** Why certifying or building a policy failed (see calibrateBundle); the sweep and the references stand. */
  failure?: Error;
}

/** A point's realised time as a fraction of the full model's, from its exit shares and the measured seconds. */
export function realisedTimeFraction(p: SweepPoint, seconds: readonly number[]): number {
  return p.exitShares.reduce((s, share, l) => s + share * (seconds[l] as number), 0) / (seconds[seconds.length - 1] as number);
}

async function profileSeconds(bundle: Bundle, batch: number): Promise<number[]> {
  const engine = await createEngine(bundle);
  try {
    return (await profileStages(engine, batch)).exitSeconds;
  } finally {
    await engine.dispose();
  }
}

function certify(
  calibration: ExitOutputs,
  test: ExitOutputs,
  costs: Float64Array,
  guarantee: Guarantee,
  score: ScoreKind,
  beta: number,
): Certification {
  const policy = calibrateCertified(calibration, costs, undefined, { guarantee, score, beta });
  // On the test split: accuracy against the labels, agreement against the final exit's answers.
  const accuracy = evaluatePolicy(policy, test, costs);
  const agreement = evaluatePolicy(policy, withAgreementLabels(test, { score }), costs);
  return {
    guarantee,
    certificate: policy.certificate,
    onTest: { agreement: agreement.accuracy, accuracy: accuracy.accuracy, costFraction: accuracy.costFraction },
  };
}

function policyFile(
  manifest: Manifest,
  calibration: ExitOutputs,
  costs: Float64Array,
  fraction: number,
  options: { score: ScoreKind; beta: number; guarantee: Guarantee | undefined },
): PolicyFile {
  const { score, beta, guarantee: g } = options;
  const policy = calibrateEero(calibration, costs, fraction * (costs[costs.length - 1] as number), { beta, score, costUnit: 'MACs' });
  const suffix = g ? (g.agreement !== undefined ? `-agreement-${g.agreement}` : `-accuracy-drop-${g.accuracyDrop}`) : '';
  const name = `${manifest.name}-${fraction}${suffix}`;
  const document: BudgetPolicy = {
    name,
    model: manifest.name,
    costUnit: 'macs',
    ledger: { enabled: true },
    routing: { budget: { fraction }, score, beta, ...g },
    // A guarantee is certified at load, from the calibration outputs; otherwise EERO's thresholds are pinned.
    ...(g ? {} : { thresholds: Array.from(policy.thresholds) }),
  };
  return { fraction, fileName: `${name}.yaml`, document };
}

type Certified = Pick<CalibrationResult, 'certification' | 'policies' | 'failure'>;

/** The guarantee's certificate, then one policy per fraction, in order, up to the first that fails. */
function certifyAndBuildPolicies(
  manifest: Manifest,
  calibration: ExitOutputs,
  test: ExitOutputs,
  costs: Float64Array,
  options: CalibrateBundleOptions & { score: ScoreKind; beta: number },
): Certified {
  const { score, beta, guarantee } = options;
  const field = options.policyFractionsField ?? 'policyFractions';
  const out: Certified = { policies: [] };
  try {
    // A guarantee is certified now (and again at load, from the same outputs): a budget below its cost is refused here.
    if (guarantee) out.certification = certify(calibration, test, costs, guarantee, score, beta);
    const cheapest = out.certification?.certificate.budgetFraction;
    for (const b of options.policyFractions ?? []) {
      if (cheapest !== undefined && b < cheapest) {
        throw new EeroError(
          'GUARANTEE_INFEASIBLE',
          `${field} ${b}: the guarantee needs a budget of at least ${+(100 * cheapest).toFixed(2)}% of the full model`,
          { details: { cheapestCertifiedFraction: cheapest, requestedFraction: b } },
        );
      }
      out.policies.push(policyFile(manifest, calibration, costs, b, { score, beta, guarantee }));
    }
  } catch (e) {
    if (!(e instanceof Error)) throw e;
    out.failure = e;
  }
  return out;
}

/**
 * Calibrate, sweep, certify and build the policies of the bundle in `dir`.
 * A guarantee that cannot be certified, or a policy fraction below the
 * certified budget, is returned as `failure` rather than thrown: the sweep
 * does not depend on it, so the caller can still report it, write the
 * policies before the failing one, and then fail with it.
 */
export async function calibrateBundle(dir: string, options: CalibrateBundleOptions = {}): Promise<CalibrationResult> {
  const score = options.score ?? DEFAULT_SCORING.score;
  const beta = options.beta ?? DEFAULTS.beta;
  const bundle = await loadBundle(dir);
  const manifest = bundle.manifest;
  const [calibration, test] = await Promise.all([readBundleOutputs(bundle, 'calibration'), readBundleOutputs(bundle, 'test')]);
  const costs = Float64Array.from(manifest.exits.map((e) => e.macs));
  const fractions = options.fractions ? [...options.fractions] : budgetGrid(costs);
  const methods = sweepMethods(score, beta);
  const points = sweepBudgets({ calibration, test, costs, fractions, methods, scoring: { score } });
  const references = referencePoints(test, costs, { score });
  const seconds = options.profileBatch === undefined ? undefined : await profileSeconds(bundle, options.profileBatch);
  return {
    manifest,
    score,
    beta,
    calibrationImages: calibration.images,
    testImages: test.images,
    costs,
    methods,
    points,
    references,
    ...(seconds ? { seconds, profileBatch: options.profileBatch } : {}),
    ...certifyAndBuildPolicies(manifest, calibration, test, costs, { ...options, score, beta }),
  };
}
