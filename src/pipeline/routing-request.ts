/**
 * The one place where a policy file, CLI flags, a serve config or request
 * parameters become a routing request. Each value is checked by its declared
 * option (options/routing-options.ts) with one parser; the rules between
 * options are checked here, naming each field as its source spells it
 * (`--accuracy-target`, `accuracy_target`, `budgets/x.yaml: guarantee.delta`).
 */
import { parseSurface, surfaceName, type BudgetPolicy, type BudgetSpec, type OptionSpec, type OptionValues, type Surface } from '../config';
import { EeroError, type ErrorCode } from '../errors';
import type { Guarantee, ScoreKind } from '../router';
import { ROUTING_OPTIONS } from './options/routing-options';

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
  /** A certified answer the ledger or a deadline forces early is returned marked not certified, instead of refused. */
  allowUncertified?: boolean;
  /** Where it came from, for logs ("policy budgets/x.yaml"). */
  source?: string;
}

/** How a source names an option's field in errors, from the option's key. */
export type FieldNamer = (key: string) => string;

const DEFAULT_DELTA = 0.05;
const GUARANTEE_KEYS = new Set(['agreement', 'accuracyDrop', 'delta']);

function guaranteeOf(v: OptionValues, name: FieldNamer, fail: (message: string) => EeroError): Guarantee | undefined {
  const agreement = v.agreement as number | undefined;
  const accuracyDrop = v.accuracyDrop as number | undefined;
  const delta = v.delta as number | undefined;
  if (agreement !== undefined && accuracyDrop !== undefined) {
    throw fail(`give ${name('agreement')} or ${name('accuracyDrop')}, not both`);
  }
  if (agreement === undefined && accuracyDrop === undefined) {
    if (delta !== undefined) throw fail(`${name('delta')} needs ${name('agreement')} or ${name('accuracyDrop')}`);
    return undefined;
  }
  return { ...(agreement === undefined ? { accuracyDrop } : { agreement }), delta: delta ?? DEFAULT_DELTA };
}

/**
 * A request from option values already checked one by one (config parseSurface): the rules between options.
 * A file's errors say where (`prefix`: "budgets/x.yaml: ") and are CONFIG_INVALID (`code`).
 */
export function toRoutingRequest(
  v: OptionValues,
  name: FieldNamer,
  source?: string,
  code: ErrorCode = 'BAD_PARAMETER',
  prefix = '',
): RoutingRequest {
  const fail = (message: string): EeroError => new EeroError(code, `${prefix}${message}`);
  const guarantee = guaranteeOf(v, name, fail);
  if (guarantee && v.accuracyTarget !== undefined) {
    throw fail(`give ${name('accuracyTarget')} or a guarantee (${name('agreement')}), not both`);
  }
  // Every declared routing option lands in the request under its key; the guarantee's three are one field.
  const own = Object.fromEntries(ROUTING_OPTIONS.filter((o) => !GUARANTEE_KEYS.has(o.key)).map((o) => [o.key, v[o.key]]));
  const request = { ...own, guarantee, source } as RoutingRequest;
  return Object.fromEntries(Object.entries(request).filter(([, x]) => x !== undefined));
}

/** Names the fields of `surface` in errors, e.g. `--accuracy-target` or `budgets/x.yaml: guarantee.delta`. */
export function surfaceNamer(
  surface: Surface,
  label: (name: string) => string = (n) => n,
  specs: readonly OptionSpec[] = ROUTING_OPTIONS,
): FieldNamer {
  return (key) => {
    const spec = specs.find((s) => s.key === key);
    return label(spec ? surfaceName(spec, surface) : key);
  };
}

/** The routing request a surface gives (flags keyed by flag name, query/v2 by parameter name, files by field). */
export function routingFrom(surface: Surface, raw: Record<string, unknown>, source?: string): RoutingRequest {
  return toRoutingRequest(parseSurface(ROUTING_OPTIONS, surface, raw), surfaceNamer(surface), source);
}

/** A policy file's routing (its budget is the model's B unless the operator gives another: loaded-model.ts). */
export function routingFromPolicy(policy: BudgetPolicy, file: string): RoutingRequest {
  const request = toRoutingRequest(
    policy.routing,
    surfaceNamer('policy'),
    `policy ${policy.name} (${file})`,
    'CONFIG_INVALID',
    `${file}: `,
  );
  if (policy.thresholds !== undefined && (request.accuracyTarget !== undefined || request.guarantee !== undefined)) {
    throw new EeroError('CONFIG_INVALID', `${file}: thresholds: give at most one of thresholds, accuracyTarget and guarantee`, {
      details: { file, field: 'thresholds' },
    });
  }
  return policy.thresholds ? { ...request, thresholds: policy.thresholds } : request;
}
