/**
 * The one place where a policy file, CLI flags or request parameters become
 * a routing request: every field is checked here with one rule, and an error
 * names the field as its source spells it (`--accuracy-target`,
 * `accuracy_target`, `budgets/x.yaml: accuracyTarget`).
 */
import {
  describeRange,
  inRange,
  parseBudget,
  RANGES,
  SCORE_KINDS,
  type BudgetPolicy,
  type BudgetSpec,
  type Guarantee,
  type Range,
  type ScoreKind,
} from '../config';
import { EeroError } from '../errors';

export interface RoutingRequest {
  /** b: what this image may spend on average; at most the model's budget B (undefined: B). */
  budget?: BudgetSpec;
  score?: ScoreKind;
  /** EERO's exponential-weights temperature. */
  beta?: number;
  /** The accuracy-target rule: exit where an exit agrees with the final one on this share of calibration images. */
  accuracyTarget?: number;
  /** Certified thresholds (Learn-then-Test) instead of EERO's. */
  guarantee?: Guarantee;
  /** Thresholds pinned by `eero calibrate` for the policy's own budget. */
  thresholds?: readonly number[];
  /** Per image: answer within this many milliseconds of arrival (caps its exit). */
  deadlineMs?: number;
  /** Where it came from, for logs ("policy budgets/x.yaml"). */
  source?: string;
}

/** Raw values as a source gives them (strings from flags and queries, typed values from files). */
export interface RawRouting {
  budget?: unknown;
  score?: unknown;
  beta?: unknown;
  accuracyTarget?: unknown;
  agreement?: unknown;
  accuracyDrop?: unknown;
  delta?: unknown;
  deadlineMs?: unknown;
}

/** How the source names a field, e.g. (f) => `--${kebab(f)}`. */
export type FieldNamer = (field: keyof RawRouting) => string;

function bad(name: string, expected: string, raw: unknown): EeroError {
  return new EeroError('BAD_PARAMETER', `${name} must be ${expected}, got ${JSON.stringify(raw)}`, { details: { parameter: name } });
}

/** A number in one of the shared ranges (config RANGES: the policy file schema checks the same ones). */
function numberIn(raw: unknown, name: string, range: Range, example: string): number | undefined {
  if (raw === undefined) return undefined;
  const v = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
  if (!inRange(v, range)) throw bad(name, `${describeRange(range)} (e.g. ${example})`, raw);
  return v;
}

function budgetOf(raw: unknown, name: string): BudgetSpec | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw === 'object' && raw !== null && ('fraction' in raw || 'macs' in raw)) return raw as BudgetSpec;
  if (typeof raw !== 'string' && typeof raw !== 'number') throw bad(name, 'a fraction (0.5, 50%) or MACs (6e6, 6M)', raw);
  if (typeof raw === 'string' && raw.trim() === '')
    throw new EeroError('BAD_PARAMETER', `${name} is empty`, { details: { parameter: name } });
  try {
    return parseBudget(raw);
  } catch (e) {
    // parseBudget's message starts with "budget ...": name the parameter only where the source calls it otherwise.
    const message = (e as Error).message;
    throw new EeroError('BAD_PARAMETER', name === 'budget' ? message : `${name}: ${message}`, { cause: e, details: { parameter: name } });
  }
}

function scoreOf(raw: unknown, name: string): ScoreKind | undefined {
  if (raw === undefined) return undefined;
  if (!(SCORE_KINDS as readonly unknown[]).includes(raw)) throw bad(name, `one of ${SCORE_KINDS.join(', ')}`, raw);
  return raw as ScoreKind;
}

function guaranteeOf(raw: RawRouting, name: FieldNamer): Guarantee | undefined {
  const agreement = numberIn(raw.agreement, name('agreement'), RANGES.agreement, '0.99');
  const accuracyDrop = numberIn(raw.accuracyDrop, name('accuracyDrop'), RANGES.accuracyDrop, '0.005');
  const delta = numberIn(raw.delta, name('delta'), RANGES.delta, '0.05');
  if (agreement !== undefined && accuracyDrop !== undefined) {
    throw new EeroError('BAD_PARAMETER', `give ${name('agreement')} or ${name('accuracyDrop')}, not both`);
  }
  if (agreement === undefined && accuracyDrop === undefined) {
    if (delta !== undefined) throw new EeroError('BAD_PARAMETER', `${name('delta')} needs ${name('agreement')} or ${name('accuracyDrop')}`);
    return undefined;
  }
  return { ...(agreement === undefined ? { accuracyDrop } : { agreement }), delta: delta ?? 0.05 };
}

export function toRoutingRequest(raw: RawRouting, name: FieldNamer, source?: string): RoutingRequest {
  const guarantee = guaranteeOf(raw, name);
  const accuracyTarget = numberIn(raw.accuracyTarget, name('accuracyTarget'), RANGES.accuracyTarget, '0.99');
  if (guarantee && accuracyTarget !== undefined) {
    throw new EeroError('BAD_PARAMETER', `give ${name('accuracyTarget')} or a guarantee (${name('agreement')}), not both`);
  }
  const request: RoutingRequest = {
    budget: budgetOf(raw.budget, name('budget')),
    score: scoreOf(raw.score, name('score')),
    beta: numberIn(raw.beta, name('beta'), RANGES.beta, '0.04'),
    accuracyTarget,
    guarantee,
    deadlineMs: numberIn(raw.deadlineMs, name('deadlineMs'), RANGES.deadlineMs, '250'),
    source,
  };
  return Object.fromEntries(Object.entries(request).filter(([, v]) => v !== undefined));
}

/** A policy file's routing (its budget is the model's B unless the operator gives another: loaded-model.ts). */
export function routingFromPolicy(policy: BudgetPolicy, file: string): RoutingRequest {
  const request = toRoutingRequest(
    {
      budget: policy.budget !== undefined ? { fraction: policy.budget } : { macs: policy.budgetMacs as number },
      score: policy.score,
      beta: policy.beta,
      accuracyTarget: policy.accuracyTarget,
      agreement: policy.guarantee?.agreement,
      accuracyDrop: policy.guarantee?.accuracyDrop,
      delta: policy.guarantee?.delta,
    },
    (field) => `${file}: ${field}`,
    `policy ${policy.name} (${file})`,
  );
  return policy.thresholds ? { ...request, thresholds: policy.thresholds } : request;
}

/** CLI flags name fields in kebab case. */
export const flagName: FieldNamer = (field) => `--${field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
/** HTTP parameters name fields in snake case. */
export const paramName: FieldNamer = (field) => field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
