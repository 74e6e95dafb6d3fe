/** Named budget policies: budgets/*.yaml, written by `eero calibrate`, read by `serve` and `classify`. */
import type { z } from 'zod';
import { EeroError } from '../errors';
import { COST_UNITS, DEFAULTS, RANGES, SCORE_KINDS } from './defaults';
import { arr, bool, num, obj, oneOf, optional, parseWithSchema, reporter, str, withDefault } from './schema';
import { readYamlFile, writeYamlFile } from './yaml-file';

const fraction = num({ above: 0, max: 1 });

/** A certified guarantee (Learn-then-Test): agreement with the full model, or accuracy within `accuracyDrop` of it. */
export const guaranteeSchema = obj({
  agreement: optional(num(RANGES.agreement)),
  accuracyDrop: optional(num(RANGES.accuracyDrop)),
  delta: withDefault(num(RANGES.delta), () => 0.05),
}).superRefine((g, ctx) => {
  if ((g.agreement === undefined) === (g.accuracyDrop === undefined)) {
    reporter(ctx)([g.agreement === undefined ? 'agreement' : 'accuracyDrop'], 'expected exactly one of agreement and accuracyDrop');
  }
});

export const budgetPolicySchema = obj({
  name: str({ nonEmpty: true }),
  /** The bundle's manifest name this policy was made for; checked when the policy is loaded for a model. */
  model: str({ nonEmpty: true }),
  /** Average cost per image as a fraction of the full model's cost. Exactly one of budget, budgetMacs. */
  budget: optional(fraction),
  budgetMacs: optional(num({ above: 0 })),
  score: withDefault(oneOf(SCORE_KINDS), () => DEFAULTS.score),
  beta: withDefault(num(RANGES.beta), () => DEFAULTS.beta),
  costUnit: withDefault(oneOf(COST_UNITS), () => DEFAULTS.costUnit),
  ledger: withDefault(obj({ enabled: withDefault(bool(), () => true) }), () => ({ enabled: true })),
  accuracyTarget: optional(num(RANGES.accuracyTarget)),
  guarantee: optional(guaranteeSchema),
  /** Per-exit thresholds computed by `eero calibrate` (`.inf` means never exit there). */
  thresholds: optional(arr(num({ infinite: true }), { minLength: 1 })),
}).superRefine((p, ctx) => {
  const report = reporter(ctx);
  if ((p.budget === undefined) === (p.budgetMacs === undefined)) {
    report([p.budget === undefined ? 'budget' : 'budgetMacs'], 'expected exactly one of budget (fraction) and budgetMacs');
  }
  const rules = [p.accuracyTarget, p.guarantee, p.thresholds].filter((v) => v !== undefined).length;
  if (rules > 1) report(['thresholds'], 'give at most one of thresholds, accuracyTarget and guarantee');
});

export type BudgetPolicy = z.infer<typeof budgetPolicySchema>;
export type Guarantee = z.infer<typeof guaranteeSchema>;

export async function loadBudgetPolicy(file: string): Promise<BudgetPolicy> {
  const raw = await readYamlFile(file, 'CONFIG_INVALID');
  return parseWithSchema(budgetPolicySchema, raw, file, 'CONFIG_INVALID');
}

/** Validate then write `policy` to `file` (atomically), in the shape loadBudgetPolicy reads. */
export async function writeBudgetPolicy(file: string, policy: BudgetPolicy): Promise<void> {
  const checked = parseWithSchema(budgetPolicySchema, structuredClone(policy), file, 'CONFIG_INVALID');
  try {
    await writeYamlFile(file, checked, 'EERO budget policy; written by eero. Format: docs/eero.md');
  } catch (e) {
    throw new EeroError('IO_ERROR', `${file}: cannot be written`, { cause: e, details: { file } });
  }
}
