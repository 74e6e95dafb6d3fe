import { EeroError } from '../../errors';
import type { FeatureName } from './features';
import { isFeatureName } from './features';
import { fitLogistic } from './logistic';
import { fitMlp } from './mlp';
import { LEARNED_PARAMS_VERSION, type LearnedKind, type LearnedParams } from './params';
import { agreementTargets, assertComputable, featureMatrices, type StatsTable } from './stats-table';

/**
 * Fits the learned score from a set's exit statistics, without labels: at
 * each exit but the last, a model of "this exit's prediction equals the
 * final exit's prediction" over the exit-history features.
 */

/**
 * The default features, chosen on held-out halves of the calibration splits
 * of both shipped bundles (benchmarks/results/learned-score.md): built from
 * top-1/top-2 probabilities, argmax agreement and running margins.
 */
export const DEFAULT_FEATURES: readonly FeatureName[] = Object.freeze([
  'margin',
  'logGap',
  'logMargin',
  'log1mMargin',
  'agree',
  'streak',
  'prevMargin',
  'maxPrevMargin',
]);

/** The same list without what needs more than the margin (usable on margin-scored outputs). */
export const MARGIN_FEATURES: readonly FeatureName[] = Object.freeze(DEFAULT_FEATURES.filter((f) => f !== 'logGap'));

export interface FitOptions {
  features?: readonly FeatureName[];
  kind?: LearnedKind;
  /** L2 penalty (logistic: standardised units on the summed loss, default 1; MLP: on the mean loss, default 1e-3). */
  lambda?: number;
  /** MLP hidden units (default 8). */
  hidden?: number;
  /** Seed of the MLP's starting weights (exit l uses seed + l). */
  fitSeed?: number;
  /** Fit on these rows only (default all). */
  rows?: ArrayLike<number>;
}

export function resolveFeatures(features: readonly string[] | undefined): FeatureName[] {
  const f = [...(features ?? DEFAULT_FEATURES)];
  f.forEach((name) => {
    if (!isFeatureName(name)) throw new EeroError('BAD_PARAMETER', `unknown learned-score feature "${name}"`);
  });
  if (f.length === 0 || new Set(f).size !== f.length)
    throw new EeroError('BAD_PARAMETER', 'learned-score features must be a non-empty list without repeats');
  return f as FeatureName[];
}

export function fitLearnedParams(table: StatsTable, options: FitOptions = {}): LearnedParams {
  const features = resolveFeatures(options.features);
  assertComputable(table, features);
  if (table.exits < 2) throw new EeroError('BAD_PARAMETER', 'a learned score needs at least 2 exits');
  const n = options.rows?.length ?? table.images;
  if (n < 2) throw new EeroError('BAD_PARAMETER', `a learned score needs at least 2 calibration rows, got ${n}`);
  const d = features.length;
  const xs = featureMatrices(table, features, options.rows);
  const ys = agreementTargets(table, options.rows);
  const base = { version: LEARNED_PARAMS_VERSION, exits: table.exits, classes: table.classes, features } as const;
  if ((options.kind ?? 'logistic') === 'logistic') {
    const perExit = xs.map((x, l) => fitLogistic(x, ys[l] as Uint8Array, n, d, { lambda: options.lambda ?? 1 }));
    return { ...base, kind: 'logistic', perExit };
  }
  const hidden = options.hidden ?? 8;
  const perExit = xs.map((x, l) =>
    fitMlp(x, ys[l] as Uint8Array, n, d, { hidden, lambda: options.lambda ?? 1e-3, seed: (options.fitSeed ?? 1) + l }),
  );
  return { ...base, kind: 'mlp', hidden, perExit };
}
