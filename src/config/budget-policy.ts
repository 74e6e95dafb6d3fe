/** Named budget policies: budgets/*.yaml. */
import { EeroError } from '../errors';
import { arr, bool, fail, num, obj, oneOf, optional, parseWithSchema, str, withDefault, type Schema } from './schema';
import { readYamlFile, writeYamlFile } from './yaml-file';

export type ScoreName = 'margin' | 'maxprob' | 'entropy';
export type CostUnit = 'macs' | 'seconds';

export interface LedgerPolicy {
  enabled: boolean;
  /** How far (in cost units per image, averaged) the ledger may run over before forcing exits. */
  overdraft?: number;
}

export interface BudgetPolicy {
  name: string;
  /** The bundle's manifest name this policy was made for. */
  model: string;
  /** Average cost per image as a fraction of the full model's cost. Exactly one of budget, budgetMacs. */
  budget?: number;
  /** Average cost per image in MACs. */
  budgetMacs?: number;
  score: ScoreName;
  beta: number;
  costUnit: CostUnit;
  ledger: LedgerPolicy;
  accuracyTarget?: number;
  /** Per-exit thresholds computed by `eero calibrate` (`.inf` means never exit there). */
  thresholds?: number[];
}

export const DEFAULT_SCORE: ScoreName = 'margin';
export const DEFAULT_BETA = 0.04;

const policyFields = obj({
  name: str({ nonEmpty: true }),
  model: str({ nonEmpty: true }),
  budget: optional(num({ above: 0 })),
  budgetMacs: optional(num({ above: 0 })),
  score: withDefault(oneOf(['margin', 'maxprob', 'entropy'] as const), () => DEFAULT_SCORE),
  beta: withDefault(num({ min: 0 }), () => DEFAULT_BETA),
  costUnit: withDefault(oneOf(['macs', 'seconds'] as const), (): CostUnit => 'macs'),
  ledger: withDefault(obj({ enabled: withDefault(bool(), () => true), overdraft: optional(num({ min: 0 })) }), () => ({ enabled: true })),
  accuracyTarget: optional(num({ above: 0, max: 1 })),
  thresholds: optional(arr(num({ infinite: true }), { minLength: 1 })),
});

export const budgetPolicySchema: Schema<BudgetPolicy> = (value, path) => {
  const p = policyFields(value, path);
  if ((p.budget === undefined) === (p.budgetMacs === undefined)) {
    fail(p.budget === undefined ? 'budget' : 'budgetMacs', 'expected exactly one of budget (fraction) and budgetMacs');
  }
  return p;
};

export async function loadBudgetPolicy(file: string): Promise<BudgetPolicy> {
  const raw = await readYamlFile(file, 'CONFIG_INVALID');
  return parseWithSchema(budgetPolicySchema, raw, file, 'CONFIG_INVALID');
}

/** Validate then write `policy` to `file` (atomically), in the shape loadBudgetPolicy reads. */
export async function writeBudgetPolicy(file: string, policy: BudgetPolicy): Promise<void> {
  const checked = parseWithSchema(budgetPolicySchema, structuredClone(policy), file, 'CONFIG_INVALID');
  try {
    await writeYamlFile(file, checked, 'EERO budget policy; written by eero. Format: src/config/budget-policy.ts');
  } catch (e) {
    throw new EeroError('IO_ERROR', `${file}: cannot be written`, { cause: e, details: { file } });
  }
}
