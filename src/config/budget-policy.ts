/**
 * Named budget policies: budgets/*.yaml, written by `eero calibrate`, read by
 * `serve` and `classify`. The file's own fields are checked here; its routing
 * fields (budget, score, beta, guarantee, ...) are the declared options'
 * (config/options.ts), checked by their one parser and named `file: field`.
 */
import { EeroError } from '../errors';
import { COST_UNITS, DEFAULTS } from './defaults';
import { fileKeys, parseSurface, surfaceName, type OptionSpec, type OptionValues } from './options';
import { arr, bool, declaredFields, num, obj, oneOf, optional, parseWithSchema, str, withDefault } from './schema';
import { readYamlFile, writeYamlFile } from './yaml-file';

function budgetPolicySchema(specs: readonly OptionSpec[]) {
  return obj({
    name: str({ nonEmpty: true }),
    /** The bundle's manifest name this policy was made for; checked when the policy is loaded for a model. */
    model: str({ nonEmpty: true }),
    /** Older files name a budget in MACs here; `budget: 6e6` (or "6M") says the same now. */
    budgetMacs: optional(num({ above: 0 })),
    costUnit: withDefault(oneOf(COST_UNITS), () => DEFAULTS.costUnit),
    ledger: withDefault(obj({ enabled: withDefault(bool(), () => true) }), () => ({ enabled: true })),
    /** Per-exit thresholds computed by `eero calibrate` (`.inf` means never exit there). */
    thresholds: optional(arr(num({ infinite: true }), { minLength: 1 })),
    ...declaredFields(fileKeys(specs, 'policy')),
  });
}

export interface BudgetPolicy {
  name: string;
  model: string;
  costUnit: (typeof COST_UNITS)[number];
  ledger: { enabled: boolean };
  thresholds?: number[] | undefined;
  /** The routing options the file gives, validated, by option key (`budget`, `score`, `agreement`, ...). */
  routing: OptionValues;
}

function fail(file: string, field: string, message: string): EeroError {
  return new EeroError('CONFIG_INVALID', `${file}: ${field}: ${message}`, { details: { file, field } });
}

/** Validate a policy document (a parsed file, or one about to be written). */
export function parseBudgetPolicy(raw: unknown, file: string, specs: readonly OptionSpec[]): BudgetPolicy {
  const doc = parseWithSchema(budgetPolicySchema(specs), raw, file, 'CONFIG_INVALID');
  const { name, model, costUnit, ledger, thresholds, budgetMacs } = doc;
  const fields = doc as Record<string, unknown>;
  if ((fields.budget === undefined) === (budgetMacs === undefined)) {
    throw fail(file, budgetMacs === undefined ? 'budget' : 'budgetMacs', 'expected exactly one of budget and budgetMacs');
  }
  const given = budgetMacs === undefined ? fields : { ...fields, budget: { macs: budgetMacs } };
  // Named `file: field:` as every other field of a config file is.
  const routing = parseSurface(specs, 'policy', given, (n) => `${file}: ${n}:`, 'CONFIG_INVALID');
  return { name, model, costUnit, ledger, ...(thresholds ? { thresholds } : {}), routing };
}

export async function loadBudgetPolicy(file: string, specs: readonly OptionSpec[]): Promise<BudgetPolicy> {
  return parseBudgetPolicy(await readYamlFile(file, 'CONFIG_INVALID'), file, specs);
}

/** A value as a file writes it: a budget as its fraction, or its MACs (a number > 1 reads back as MACs). */
function fileValue(value: unknown): unknown {
  if (typeof value === 'object' && value !== null && 'fraction' in value) return (value as { fraction: number }).fraction;
  if (typeof value === 'object' && value !== null && 'macs' in value) return (value as { macs: number }).macs;
  return value;
}

/** The document of `policy`, its routing under each option's policy-file name (`guarantee.delta` nested). */
function policyDocument(policy: BudgetPolicy, specs: readonly OptionSpec[]): Record<string, unknown> {
  const doc: Record<string, unknown> = { name: policy.name, model: policy.model };
  for (const spec of specs) {
    const value = policy.routing[spec.key];
    if (value === undefined || !spec.surfaces.includes('policy')) continue;
    const [top = '', ...rest] = surfaceName(spec, 'policy').split('.');
    if (rest.length === 0) doc[top] = fileValue(value);
    else doc[top] = { ...(doc[top] as Record<string, unknown> | undefined), [rest.join('.')]: fileValue(value) };
  }
  return { ...doc, costUnit: policy.costUnit, ledger: policy.ledger, ...(policy.thresholds ? { thresholds: policy.thresholds } : {}) };
}

/** Validate then write `policy` to `file` (atomically), in the shape loadBudgetPolicy reads. */
export async function writeBudgetPolicy(file: string, policy: BudgetPolicy, specs: readonly OptionSpec[]): Promise<void> {
  const doc = policyDocument(policy, specs);
  parseBudgetPolicy(structuredClone(doc), file, specs);
  try {
    await writeYamlFile(file, doc, 'EERO budget policy; written by eero. Format: docs/eero.md');
  } catch (e) {
    throw new EeroError('IO_ERROR', `${file}: cannot be written`, { cause: e, details: { file } });
  }
}
