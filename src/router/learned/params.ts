import { EeroError } from '../../errors';
import { isFeatureName, type FeatureName } from './features';

/**
 * The fitted learned score of one bundle: a plain object that can be written
 * as JSON beside the bundle's calibration. `perExit[l]` scores 0-based exit
 * l for l = 0..exits-2 (the last exit always takes the rest: no model).
 * The score is the model's log-odds that this exit's prediction equals the
 * final exit's (not the probability: a sigmoid rounds to 1 in float64 above
 * about 37, which would tie the surest rows).
 */
export const LEARNED_PARAMS_VERSION = 1;

/** z = bias + weights[0] * x[0] + weights[1] * x[1] + ..., added left to right. */
export interface LogisticExit {
  bias: number;
  weights: number[];
}

/**
 * z = outBias + sum over k ascending of outWeights[k] * tanh(a[k]), with
 * a[k] = hiddenBias[k] + sum over j ascending of hiddenWeights[k * d + j] * ((x[j] - mean[j]) * scale[j]).
 * `scale[j]` is 1 / standard deviation (0 for a feature constant on the fit rows).
 */
export interface MlpExit {
  mean: number[];
  scale: number[];
  hiddenWeights: number[];
  hiddenBias: number[];
  outWeights: number[];
  outBias: number;
}

interface ParamsBase {
  version: typeof LEARNED_PARAMS_VERSION;
  exits: number;
  classes: number;
  features: FeatureName[];
}

export type LearnedParams =
  (ParamsBase & { kind: 'logistic'; perExit: LogisticExit[] }) | (ParamsBase & { kind: 'mlp'; hidden: number; perExit: MlpExit[] });

export type LearnedKind = LearnedParams['kind'];

/** The learned score of exit `exit` (< exits - 1) from its feature vector `x`. */
export function learnedScore(params: LearnedParams, exit: number, x: ArrayLike<number>): number {
  if (params.kind === 'logistic') {
    const m = params.perExit[exit] as LogisticExit;
    let z = m.bias;
    for (let j = 0; j < m.weights.length; j++) z += (m.weights[j] as number) * (x[j] as number);
    return z;
  }
  const m = params.perExit[exit] as MlpExit;
  const d = m.mean.length;
  let z = m.outBias;
  for (let k = 0; k < params.hidden; k++) {
    let a = m.hiddenBias[k] as number;
    for (let j = 0; j < d; j++)
      a += (m.hiddenWeights[k * d + j] as number) * (((x[j] as number) - (m.mean[j] as number)) * (m.scale[j] as number));
    z += (m.outWeights[k] as number) * Math.tanh(a);
  }
  return z;
}

type Bad = (field: string, why: string) => never;

function finiteArray(v: unknown, length: number, field: string, bad: Bad): void {
  if (!Array.isArray(v) || v.length !== length) bad(field, `must be an array of ${length} numbers`);
  (v as unknown[]).forEach((x, i) => {
    if (typeof x !== 'number' || !Number.isFinite(x)) bad(`${field}[${i}]`, `must be a finite number, got ${String(x)}`);
  });
}

function finiteNumber(v: unknown, field: string, bad: Bad): void {
  if (typeof v !== 'number' || !Number.isFinite(v)) bad(field, `must be a finite number, got ${String(v)}`);
}

function checkExitModel(p: Record<string, unknown>, m: Record<string, unknown>, l: number, d: number, bad: Bad): void {
  const at = `perExit[${l}]`;
  if (p.kind === 'logistic') {
    finiteNumber(m.bias, `${at}.bias`, bad);
    finiteArray(m.weights, d, `${at}.weights`, bad);
    return;
  }
  const h = p.hidden as number;
  finiteArray(m.mean, d, `${at}.mean`, bad);
  finiteArray(m.scale, d, `${at}.scale`, bad);
  finiteArray(m.hiddenWeights, h * d, `${at}.hiddenWeights`, bad);
  finiteArray(m.hiddenBias, h, `${at}.hiddenBias`, bad);
  finiteArray(m.outWeights, h, `${at}.outWeights`, bad);
  finiteNumber(m.outBias, `${at}.outBias`, bad);
}

/**
 * Checks that `params` is a learned score for a bundle with `exits` exits
 * and `classes` classes. A mismatch with the bundle (version, exits,
 * classes) is CONFIG_INVALID; a malformed object is MODEL_INVALID. The
 * message and `details.field` name the field.
 */
export function validateLearnedParams(params: unknown, exits: number, classes: number): LearnedParams {
  const fail =
    (code: 'MODEL_INVALID' | 'CONFIG_INVALID') =>
    (field: string, why: string): never => {
      throw new EeroError(code, `learned score: ${field}: ${why}`, { details: { field } });
    };
  const bad = fail('MODEL_INVALID');
  const mismatch = fail('CONFIG_INVALID');
  if (typeof params !== 'object' || params === null || Array.isArray(params)) bad('(root)', 'must be an object');
  const p = params as Record<string, unknown>;
  if (p.version !== LEARNED_PARAMS_VERSION) mismatch('version', `must be ${LEARNED_PARAMS_VERSION}, got ${String(p.version)}`);
  if (p.kind !== 'logistic' && p.kind !== 'mlp') bad('kind', `must be "logistic" or "mlp", got ${JSON.stringify(p.kind)}`);
  if (p.exits !== exits) mismatch('exits', `the bundle has ${exits} exits, the learned score was fitted for ${String(p.exits)}`);
  if (p.classes !== classes)
    mismatch('classes', `the bundle has ${classes} classes, the learned score was fitted for ${String(p.classes)}`);
  const features = p.features;
  if (!Array.isArray(features) || features.length === 0) mismatch('features', 'must be a non-empty list of feature names');
  (features as unknown[]).forEach((f, j) => {
    if (!isFeatureName(f)) mismatch(`features[${j}]`, `unknown feature ${JSON.stringify(f)}`);
  });
  if (new Set(features as unknown[]).size !== (features as unknown[]).length) mismatch('features', 'lists a feature twice');
  if (p.kind === 'mlp' && !(Number.isInteger(p.hidden) && (p.hidden as number) >= 1))
    bad('hidden', `must be a positive integer, got ${String(p.hidden)}`);
  if (!Array.isArray(p.perExit) || p.perExit.length !== exits - 1) {
    bad('perExit', `must hold one model for each of the first ${exits - 1} exits`);
  }
  (p.perExit as unknown[]).forEach((m, l) => {
    if (typeof m !== 'object' || m === null) bad(`perExit[${l}]`, 'must be an object');
    checkExitModel(p, m as Record<string, unknown>, l, (features as unknown[]).length, bad);
  });
  return params as LearnedParams;
}
